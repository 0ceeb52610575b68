"""Configuration from ``[tool.cachelint]`` in pyproject.toml, overridden by the command line.

Keys are spelled with dashes in TOML (``extend-select``) and underscores here. Every key is
validated up front: an unknown key, a wrong type or a bad pattern is one clear error line.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from cachelint.reading import read_bytes, reason

if sys.version_info >= (3, 11):
    import re._parser as _sre_parser

    import tomllib
else:  # pragma: no cover
    import sre_parse as _sre_parser

    import tomli as tomllib

DEFAULT_FRAGMENT_VERSION_PATTERN = r"(?:^|[^a-zA-Z0-9])v\d+(?:$|[^0-9])"
# Worker processes are started all at once (fork): a committed `jobs = 100000` must not start them.
MAX_JOBS = 1024
DEFAULT_TEMPLATE_EXTENSIONS = (".html", ".htm", ".txt", ".xml")
MAX_EXTEND_DEPTH = 10


class ConfigError(Exception):
    """A configuration problem the user must fix; reported as one line, exit code 2."""


@dataclass
class Config:
    select: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    # glob (relative to the project root) -> codes ignored in the files it matches
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    # gitignore-style patterns; ``exclude`` replaces the built-in list of skipped directories
    # (virtualenvs, node_modules, build dirs...), ``extend-exclude`` adds to it.
    exclude: list[str] | None = None
    extend_exclude: list[str] = field(default_factory=list)
    template_dirs: list[str] = field(default_factory=list)
    check_tests: bool = False  # test code (tests/ folders, test_*.py, conftest.py) is never served
    # globs of files that are settings modules (besides settings.py and settings/ packages)
    settings_modules: list[str] = field(default_factory=list)
    # globs of settings modules that are production ones (replaces the name/DEBUG detection)
    production_settings: list[str] = field(default_factory=list)
    fragment_version_pattern: str = DEFAULT_FRAGMENT_VERSION_PATTERN
    # seconds; CL201 skips fragments cached for less (stale HTML lasts at most that long)
    fragment_min_timeout: int = 300
    static_url: str = ""  # empty: STATIC_URL from settings, else "/static/"
    django_version: str = ""  # "5.1"; empty: read from the project's packaging files
    socket_timeout: int = 5  # seconds, written by the CL301 fix
    baseline: str = ""  # report only findings not in this file (relative to the project root)
    docs_url: str = ""  # where rule pages live (SARIF helpUri): a fork or an internal mirror
    max_file_size: int = 2_000_000  # bytes; larger files are skipped with a CL001 finding
    jobs: int = 0  # 0: all cores
    cache: bool = True
    # A CDN or caching proxy stores anonymous HTML: turns on the rules that say so (CL113).
    cdn: bool = False
    # suffixes of the files read as templates (below a templates/ folder or a template-dirs entry)
    template_extensions: list[str] = field(default_factory=lambda: list(DEFAULT_TEMPLATE_EXTENSIONS))
    # the files this configuration was read from, the extended ones last (not a key)
    sources: list[str] = field(default_factory=list, metadata={"internal": True})
    # Files passed by name honour exclude, extend-exclude, .gitignore and the test-code skip
    # (ruff's force-exclude; on in the pre-commit hook, which passes every staged file).
    force_exclude: bool = False

    def fragment_version_re(self) -> re.Pattern[str]:
        return re.compile(self.fragment_version_pattern)

    def as_toml(self) -> str:
        """The resolved configuration, as it would be written in ``[tool.cachelint]``."""
        lines = ["[tool.cachelint]"]
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or f.metadata.get("internal"):
                continue
            lines.append(f"{f.name.replace('_', '-')} = {_toml(value)}")
        return "\n".join(lines)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if "'" not in value and value.isprintable():
            return "'" + value + "'"
        # A basic string with JSON's escapes, which are TOML's too: control characters from a
        # committed pyproject are shown escaped, never sent to the terminal.
        return json.dumps(value).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{_toml(k)} = {_toml(v)}" for k, v in value.items()) + " }" if value else "{}"
        )
    raise TypeError(value)


def load_config(root: Path, explicit: Path | None = None) -> Config:
    """Read ``[tool.cachelint]`` from ``explicit`` or ``root/pyproject.toml``; defaults if absent.

    ``extend = "../pyproject.toml"`` (relative to the file that says it) reads that file's
    configuration first and applies this one's keys over it, as ruff's ``extend`` does; chains
    are followed, a cycle is an error."""
    path = explicit or root / "pyproject.toml"
    if not path.exists():
        if explicit is not None:
            raise ConfigError(f"{path}: config file not found")
        return Config()
    config = Config()
    chain: list[Path] = []
    tables: list[tuple[dict[str, Any], Path]] = []
    current: Path | None = path
    dedicated = explicit is not None
    while current is not None:
        real = Path(os.path.realpath(current))
        if real in chain:
            raise ConfigError(f"{current}: `extend` cycle: {' -> '.join(map(str, [*chain, real]))}")
        if len(chain) >= MAX_EXTEND_DEPTH:
            raise ConfigError(f"{current}: `extend` chain longer than {MAX_EXTEND_DEPTH} files")
        chain.append(real)
        table = _read_table(current, dedicated)
        tables.append((table, current))
        extend = table.get("extend")
        if extend is None:
            break
        if not isinstance(extend, str) or not extend.strip() or "\0" in extend:
            raise ConfigError(f"{current}: `extend` must be the path of a configuration file")
        target = Path(os.path.expanduser(extend))
        target = target if target.is_absolute() else current.parent / target
        if not target.is_file():
            raise ConfigError(f"{current}: `extend`: {target}: config file not found")
        current = target
        dedicated = target.name != "pyproject.toml"
    for table, source in reversed(tables):  # the base first, each extending file over it
        _apply_table(config, {k: v for k, v in table.items() if k != "extend"}, source)
    # A pyproject.toml without [tool.cachelint] configured nothing: it is not listed.
    config.sources = [
        _shown(source) for index, (table, source) in enumerate(tables) if table or index or explicit is not None
    ]
    return config


def _shown(path: Path) -> str:
    """A configuration file's path as --show-settings prints it: relative below the working
    directory, normalized (``sub/../pyproject.toml`` is ``pyproject.toml``)."""
    absolute = os.path.normpath(os.path.abspath(path))
    relative = os.path.relpath(absolute)
    return absolute if relative.startswith("..") else Path(relative).as_posix()


def _read_table(path: Path, dedicated: bool) -> dict[str, Any]:
    """The ``[tool.cachelint]`` table of ``path`` (a dedicated file may have its keys at top level)."""
    try:  # read_bytes refuses a FIFO, a device or a directory instead of blocking on it
        data = tomllib.loads(read_bytes(path)[0].decode("utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read config: {reason(error)}") from None
    except RecursionError:
        raise ConfigError(f"{path}: cannot read TOML: nested too deeply") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot read TOML: {error}") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: `tool` must be a table")
    # A dedicated file (``--config cachelint.toml``) may hold the keys at top level.
    section = tool.get("cachelint", data if dedicated and "tool" not in data else {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [tool.cachelint] must be a table")
    return section


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _check_regex(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    try:
        re.compile(value)
    except re.error as error:
        return f"is not a valid regular expression: {error}"
    except RecursionError:
        return "is not a valid regular expression: nested too deeply"
    if _backtracks_exponentially(_sre_parser.parse(value).data):
        # ``^(a+)+$`` takes 50 s on a 30-character fragment name: every rule run would hang.
        return (
            "repeats a group that itself repeats or alternates (such as `(a+)+` or `(a|ab)*`), "
            "which can take exponential time on a fragment name: write it without nested repetition"
        )
    return None


_REPEATS = {"MAX_REPEAT", "MIN_REPEAT"}  # possessive repeats and atomic groups never backtrack


def _backtracks_exponentially(items: list, inside_repeat: bool = False) -> bool:
    """Whether a parsed pattern has a repetition (of more than one) around another repetition or
    an alternation: the shape of catastrophic backtracking."""
    for op, argument in items:
        name = str(op)
        if name in _REPEATS:
            low, high, body = argument
            repeats = high > 1
            if (inside_repeat and repeats) or _backtracks_exponentially(body, inside_repeat or repeats):
                return True
        elif name == "BRANCH":
            if inside_repeat or any(_backtracks_exponentially(b, inside_repeat) for b in argument[1]):
                return True
        elif name == "SUBPATTERN":
            if _backtracks_exponentially(argument[-1], inside_repeat):
                return True
        elif name in ("ASSERT", "ASSERT_NOT"):
            if _backtracks_exponentially(argument[1], inside_repeat):
                return True
    return False


def _check_version(value: Any) -> str | None:
    from cachelint.django_version import parse_version

    if not isinstance(value, str) or parse_version(value) is None:
        return 'must be a version string such as "5.1"'
    return None


def _check_non_negative(value: Any) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return "must be a non-negative integer"
    return None


def _check_strings(value: Any) -> str | None:
    if not _is_str_list(value):
        return "must be a list of strings"
    if any("\0" in v for v in value):
        return "must not contain a NUL character"
    return None


def _check_selectors(value: Any) -> str | None:
    """Rule codes or prefixes: an empty one would be a prefix of every code (``ignore = [""]``
    turned every rule off)."""
    if not _is_str_list(value):
        return "must be a list of strings"
    if any(not v.strip() for v in value):
        return "must not contain an empty rule code or prefix"
    return None


def _pattern_problem(pattern: str) -> str | None:
    from cachelint.discovery import glob_spec

    if not pattern.strip():
        return "must not contain an empty pattern"
    try:
        glob_spec([pattern])
    except (ValueError, re.error) as error:  # pathspec's own error is a ValueError
        # (re.error's position would be in the regex pathspec makes of the pattern, not in it)
        return f"has an invalid pattern {pattern!r}: {getattr(error, 'msg', error)}"
    return None


def _check_patterns(value: Any) -> str | None:
    """gitignore-style patterns, compiled here so that a bad one is reported as this key's."""
    if not _is_str_list(value):
        return "must be a list of strings"
    return next((p for p in map(_pattern_problem, value) if p), None)


def _check_per_file_ignores(value: Any) -> str | None:
    if not isinstance(value, dict) or not all(_is_str_list(c) for c in value.values()):
        return "must be a table of glob = [codes]"
    for pattern, codes in value.items():
        problem = _pattern_problem(pattern)
        if problem:
            return problem
        if any(not code.strip() for code in codes):
            return f"must not contain an empty rule code or prefix (for {pattern!r})"
    return None


def _check_path(value: Any) -> str | None:
    return None if isinstance(value, str) and "\0" not in value else "must be a path"


_VALIDATORS = {
    **{key: _check_selectors for key in ("select", "extend_select", "ignore")},
    **{
        key: _check_patterns
        for key in ("exclude", "extend_exclude", "settings_modules", "production_settings")
    },
    "template_dirs": _check_strings,
    "per_file_ignores": _check_per_file_ignores,
    "fragment_version_pattern": _check_regex,
    "fragment_min_timeout": _check_non_negative,
    "static_url": lambda v: None if isinstance(v, str) else "must be a string",
    "baseline": _check_path,
    "docs_url": lambda v: None if isinstance(v, str) and (not v or "://" in v) else "must be a URL",
    "django_version": _check_version,
    "socket_timeout": _check_non_negative,
    "max_file_size": _check_non_negative,
    "jobs": lambda v: _check_non_negative(v) or (f"must be at most {MAX_JOBS}" if v > MAX_JOBS else None),
    "cache": lambda v: None if isinstance(v, bool) else "must be true or false",
    "check_tests": lambda v: None if isinstance(v, bool) else "must be true or false",
    "cdn": lambda v: None if isinstance(v, bool) else "must be true or false",
    "force_exclude": lambda v: None if isinstance(v, bool) else "must be true or false",
}


def _check_extensions(value: Any) -> str | None:
    if not _is_str_list(value) or not value:
        return "must be a non-empty list of file name suffixes such as \".html\""
    for suffix in value:
        if not suffix.startswith(".") or len(suffix) < 2 or any(c in suffix for c in "/\\\0*?[ "):
            return f"has {suffix!r}: a suffix is a dot and a name, such as \".html\""
        if suffix == ".py":
            return "must not contain \".py\" (Python files are always read as Python)"
    return None


_VALIDATORS["template_extensions"] = _check_extensions
assert set(_VALIDATORS) == {f.name for f in fields(Config) if not f.metadata.get("internal")}


def _from_table(table: dict[str, Any], source: Path) -> Config:
    config = Config()
    _apply_table(config, table, source)
    return config


def _apply_table(config: Config, table: dict[str, Any], source: Path) -> None:
    for raw_key, value in table.items():
        key = raw_key.replace("-", "_")
        if key not in _VALIDATORS:
            known = ", ".join(sorted([*(k.replace("_", "-") for k in _VALIDATORS), "extend"]))
            raise ConfigError(f"{source}: unknown key `{raw_key}` in [tool.cachelint] (known: {known})")
        problem = _VALIDATORS[key](value)
        if problem:
            raise ConfigError(f"{source}: `{raw_key}` {problem}")
        if key in ("select", "extend_select", "ignore"):
            value = [v.strip().upper() for v in value]
        elif key == "per_file_ignores":
            value = {pattern: [c.strip().upper() for c in codes] for pattern, codes in value.items()}
        setattr(config, key, value)


def flags(config: Config) -> frozenset[str]:
    """The boolean keys that are on and may turn rules on (``Rule.enabled_by``)."""
    return frozenset(name for name in ("cdn",) if getattr(config, name))


def all_codes(config: Config) -> list[str]:
    """Every rule selector the configuration names, for validation against the registry."""
    per_file = [code for codes in config.per_file_ignores.values() for code in codes]
    return config.select + config.extend_select + config.ignore + per_file
