"""System checks that report cachelint's findings through Django's check framework.

Two checks, both tagged ``cachelint``:

* ``check_project`` (``manage.py check``): every selected rule except the deploy families;
* ``check_deploy`` (``manage.py check --deploy``): the deploy families, ``CL3xx`` (cache
  backend settings) and ``CL5xx`` (static assets), whose rules are about how production is
  configured. ``check --deploy`` runs both checks, so every finding is reported exactly once.

The project is scanned once per process and root (both checks share the scan, and commands
such as ``runserver`` or ``migrate`` that run the checks again reuse it); the engine's on-disk
cache in ``<root>/.cachelint_cache/`` makes the scan of an unchanged tree in a new process cheap.
The scan is static: it reads the project's files and never imports them.

The checks never block work by surprise: Django runs them before ``runserver``, ``migrate`` and
``test``, and an ``Error`` stops those commands. So every message is a ``Warning`` (or an
``Info``) unless the project opts in with ``CACHELINT = {"errors": True}`` in its settings:
then findings of error-severity rules are ``Error`` messages, and so is a scan that cannot run.
``CACHELINT = {"baseline": "path"}`` (relative to the project root) reports only findings not
in that baseline, as ``baseline`` in ``[tool.cachelint]`` does (which applies here too).

Message ids: ``cachelint.CLnnn`` for a finding of rule CLnnn; ``cachelint.W002`` when the scan
cannot run (bad ``[tool.cachelint]`` configuration, root not a directory; ``cachelint.E001``
with errors opted in); ``cachelint.W001`` for an error reported by the scan (a rule that
crashed, an unreadable baseline); ``cachelint.W003`` for an invalid ``CACHELINT`` setting;
``cachelint.I001`` when there is no root to scan (neither ``CACHELINT_ROOT`` nor ``BASE_DIR`` is
set). Django's own ``SILENCED_SYSTEM_CHECKS`` silences any of them by exact id. The one place
this is documented for users is docs/django-checks.md.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core import checks

from cachelint.reporters import printable  # scanned text never drives the terminal

if TYPE_CHECKING:
    from cachelint.config import Config
    from cachelint.finding import Finding
    from cachelint.registry import Rule

TAG = "cachelint"
DEPLOY_FAMILIES = ("CL3", "CL5")  # rule code prefixes reported by ``check --deploy`` only

ID_CANNOT_RUN = "cachelint.E001"  # with errors opted in
ID_CANNOT_RUN_WARNING = "cachelint.W002"
ID_SCAN_ERROR = "cachelint.W001"
ID_BAD_SETTING = "cachelint.W003"
ID_NO_ROOT = "cachelint.I001"
SETTING = "CACHELINT"
SETTING_KEYS = {"errors": "true or false", "baseline": "a path (relative to the project root)"}


def is_deploy_rule(code: str) -> bool:
    return code.startswith(DEPLOY_FAMILIES)


def check_id(code: str) -> str:
    return f"{TAG}.{code}"


def to_check_message(finding: Finding, errors: bool = False) -> checks.CheckMessage:
    """One finding as a Django check message: a ``Warning``, or with ``errors`` (the project's
    opt-in) an ``Error`` for an error-severity rule.

    ``obj`` is the finding's location (``path:line:col``), so Django prints
    ``views.py:12:1: (cachelint.CL101) message``; the evidence locations follow the message,
    one per line, indented like Django's ``HINT:`` line.
    """
    from cachelint.finding import Severity

    level = checks.Error if errors and finding.severity == Severity.ERROR else checks.Warning
    message = printable(finding.message) + "".join(
        f"\n\t{printable(f'{evidence.location}: {evidence.label}')}" for evidence in finding.related
    )
    hint = printable(finding.hint) if finding.hint else finding.hint
    return level(message, hint=hint, obj=printable(str(finding.location)), id=check_id(finding.code))


@dataclass(frozen=True)
class Scan:
    """The outcome of one scan of a root, shared by both checks."""

    findings: tuple[Finding, ...] = ()
    errors: tuple[str, ...] = ()  # errors the scan reported (it still ran)
    failure: str | None = None  # why the scan could not run at all
    cwd: str = ""  # relative finding paths are relative to this directory


_scans: dict[tuple[str, str | None], Scan] = {}
_lock = threading.Lock()


def scan(root: Path, baseline: str | None = None) -> Scan:
    """Scan ``root`` once per process; later calls for the same root (and baseline) return the
    same result. ``baseline`` overrides the configuration's (relative to the project root)."""
    key = os.path.realpath(root)
    with _lock:
        if (key, baseline) not in _scans:
            _scans[(key, baseline)] = _scan(Path(key), baseline)
        return _scans[(key, baseline)]


def clear_cache() -> None:
    """Forget every scan, so the next check reads the files again."""
    with _lock:
        _scans.clear()


def _scan(root: Path, baseline: str | None = None) -> Scan:
    from cachelint.config import ConfigError, load_config
    from cachelint.discovery import find_project_root
    from cachelint.engine import check

    if not root.is_dir():
        return Scan(failure=f"{root} is not a directory (set CACHELINT_ROOT or BASE_DIR to the project)")
    try:
        # The same configuration the command line reads for this directory.
        project_root = find_project_root(root)
        config = load_config(project_root)
        config.jobs = 1  # checks may run in runserver's threads, where forking workers can deadlock
        if baseline is not None:
            config.baseline = baseline
        rules = selected_rules(config, project_root / "pyproject.toml")
    except ConfigError as error:
        return Scan(failure=str(error))
    cwd = os.getcwd()
    try:
        result = check([root], config, rules)
    except Exception as error:  # a crash of the linter must not take manage.py down with it
        return Scan(errors=(f"internal error: {type(error).__name__}: {error}",), cwd=cwd)
    return Scan(tuple(result.findings), tuple(result.errors), cwd=cwd)


def selected_rules(config: Config, source: Path) -> dict[str, Rule]:
    """The rules ``cachelint check`` would run with this configuration (and no options)."""
    from cachelint.config import ConfigError, all_codes, flags
    from cachelint.registry import all_rules, configured_rules, validate_selectors

    rules = all_rules()
    unknown = validate_selectors(rules, all_codes(config))
    if unknown:
        raise ConfigError(f"{source}: unknown rule code or prefix: {', '.join(unknown)}")
    return configured_rules(rules, config.select, config.extend_select, config.ignore, flags(config))


def messages(
    scan: Scan, *, deploy: bool, app_paths: Iterable[str] | None = None, errors: bool = False
) -> list[checks.CheckMessage]:
    """The check messages of one of the two checks. Problems with the scan itself are reported
    by the regular check only; ``app_paths`` (``manage.py check APP``) keeps the findings in
    files below those directories; ``errors`` is the project's opt-in to ``Error`` levels."""
    if scan.failure is not None:
        return [] if deploy else [cannot_run(scan.failure, errors)]
    found = [f for f in scan.findings if is_deploy_rule(f.code) == deploy]
    if app_paths is not None:
        roots = [os.path.realpath(p) for p in app_paths]
        found = [f for f in found if _below(os.path.realpath(os.path.join(scan.cwd, f.location.path)), roots)]
    result = [to_check_message(f, errors) for f in found]
    if not deploy:
        result.extend(
            checks.Warning(f"cachelint: {printable(error)}", id=ID_SCAN_ERROR) for error in scan.errors
        )
    return result


def _below(path: str, roots: Sequence[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def cannot_run(reason: str, errors: bool = False) -> checks.CheckMessage:
    if errors:
        return checks.Error(f"cannot run cachelint: {printable(reason)}", id=ID_CANNOT_RUN)
    return checks.Warning(f"cannot run cachelint: {printable(reason)}", id=ID_CANNOT_RUN_WARNING)


def options_from_settings(settings: Any) -> tuple[bool, str | None, list[str]]:
    """``(errors, baseline, problems)`` from ``settings.CACHELINT`` (absent: no errors, the
    configuration's baseline). An invalid value is a problem and is otherwise ignored."""
    value = getattr(settings, SETTING, None)
    if value is None:
        return False, None, []
    if not isinstance(value, dict):
        return False, None, [f"{SETTING} must be a dict such as {{'errors': True}}, not {type(value).__name__}"]
    problems = [
        f"{SETTING}: unknown key {key!r} (known: {', '.join(SETTING_KEYS)})" for key in value if key not in SETTING_KEYS
    ]
    errors = value.get("errors", False)
    if not isinstance(errors, bool):
        problems.append(f"{SETTING}['errors'] must be {SETTING_KEYS['errors']}")
        errors = False
    baseline = value.get("baseline")
    if baseline is not None and (not isinstance(baseline, (str, os.PathLike)) or not str(baseline)):
        problems.append(f"{SETTING}['baseline'] must be {SETTING_KEYS['baseline']}")
        baseline = None
    return errors, None if baseline is None else os.fspath(baseline), problems


def root_from_settings(settings: Any) -> Path | None:
    """``settings.CACHELINT_ROOT`` if set, else ``settings.BASE_DIR``, else None."""
    for name in ("CACHELINT_ROOT", "BASE_DIR"):
        value = getattr(settings, name, None)
        if value:
            return Path(value)
    return None


def _run(app_configs: Iterable[Any] | None, deploy: bool) -> list[checks.CheckMessage]:
    from django.conf import settings

    errors, baseline, problems = options_from_settings(settings)
    notes = [] if deploy else [checks.Warning(printable(p), id=ID_BAD_SETTING) for p in problems]
    try:
        root = root_from_settings(settings)
    except TypeError as error:  # CACHELINT_ROOT = 42
        return notes if deploy else [*notes, cannot_run(f"CACHELINT_ROOT/BASE_DIR: {error}", errors)]
    if root is None:
        if deploy:
            return []
        return [
            *notes,
            checks.Info(
                "cachelint did not scan the project: neither CACHELINT_ROOT nor BASE_DIR is set",
                hint="Set CACHELINT_ROOT (or BASE_DIR) to the directory that holds manage.py.",
                id=ID_NO_ROOT,
            )
        ]
    app_paths = None if app_configs is None else [app_config.path for app_config in app_configs]
    return [*notes, *messages(scan(root, baseline), deploy=deploy, app_paths=app_paths, errors=errors)]


def check_project(app_configs: Iterable[Any] | None = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``manage.py check``: cachelint's findings, except the deploy families."""
    return _run(app_configs, deploy=False)


def check_deploy(app_configs: Iterable[Any] | None = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``manage.py check --deploy``: findings of the deploy families (CL3xx, CL5xx)."""
    return _run(app_configs, deploy=True)
