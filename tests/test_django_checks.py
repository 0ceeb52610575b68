"""``cachelint.django``: cachelint's findings as Django system checks.

Anything that needs Django settings runs in a subprocess (``manage.py check`` on a temporary copy
of tests/django_project, or a small script), so no configured settings leak into the other tests
and the scan's ``.cachelint_cache/`` is never written into the repository. In-process tests cover
the parts that need no settings: the mapping of a finding to a check message, the deploy split,
and scanning a tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core import checks

from cachelint.django import checks as dj
from cachelint.finding import Evidence, Finding, Location, Severity, Span
from cachelint.registry import all_rules

PROJECT = Path(__file__).resolve().parent / "django_project"
TIMEOUT = 120

CL101_BLOCK = (
    "testproj/views.py:12:2: (cachelint.CL101) `cache_page` on a login-protected view: "
    "the first user's response is stored and served to every later user\n"
    "\ttestproj/views.py:11:2: `login_required` requires login here\n"
    "\tHINT: do not cache this view, or cache only its public fragments with `{% cache %}`; if each "
    "user's copy must be cached, vary it per user (`@vary_on_cookie` below `cache_page`) or let only "
    "their browser keep it (`@cache_control(private=True)` below `cache_page`)\n"
)
CL301_LINE = (
    "testproj/settings.py:43:9: (cachelint.CL301) Redis cache `default` has no `socket_connect_timeout`"
)
CL501_LINE = (
    "testproj/settings.py:51:21: (cachelint.CL501) production static files storage `StaticFilesStorage`"
)

CLEAN_VIEWS = """\
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import cache_control, cache_page


@cache_page(60 * 15)
def catalogue(request):
    return render(request, "testproj/catalogue.html")


@login_required
@cache_page(60 * 15)
@cache_control(private=True)
def order_history(request):
    return render(request, "testproj/orders.html", {"orders": []})
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(
        PROJECT, copy, ignore=shutil.ignore_patterns("__pycache__", ".cachelint_cache", "*.sqlite3")
    )
    return copy


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TESTPROJ_", "DJANGO_", "CACHELINT_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="testproj.settings", DJANGO_COLORS="nocolor", PYTHONDONTWRITEBYTECODE="1"
    )
    env.update(extra)
    return env


def manage(project: Path, *args: str, **env: str) -> tuple[int, str]:
    """Run ``manage.py ARGS`` in ``project``; exit status and stdout + stderr."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=project,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    return done.returncode, done.stdout + done.stderr


def python(project: Path, script: str, **env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=project,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def ids(output: str) -> list[str]:
    return sorted(word.strip("()") for word in output.split() if word.startswith("(cachelint."))


# manage.py check, for real


def test_check_reports_the_leak_as_a_warning_by_default(project: Path) -> None:
    status, output = manage(project, "check")
    assert status == 0, output  # never blocks runserver, migrate or test by surprise
    assert output.startswith("System check identified some issues:\n\nWARNINGS:\n" + CL101_BLOCK)
    assert "ERRORS" not in output and "SystemCheckError" not in output
    assert ids(output) == ["cachelint.CL101"]  # the deploy families wait for --deploy
    assert "System check identified 1 issue (0 silenced)." in output
    assert (project / ".cachelint_cache").is_dir()  # the scan used the engine's on-disk cache


def test_errors_are_opt_in(project: Path) -> None:
    status, output = manage(project, "check", TESTPROJ_CACHELINT='{"errors": true}')
    assert status == 1, output
    assert "SystemCheckError: System check identified some issues:" in output
    assert "ERRORS:\n" + CL101_BLOCK in output
    # Only error-severity rules become errors: CL301 and CL501 (warnings) stay warnings.
    status, output = manage(project, "check", "--deploy", "--tag", "cachelint", TESTPROJ_CACHELINT='{"errors": true}')
    assert status == 1, output
    errors, warnings = output.split("ERRORS:\n", 1)[1].split("WARNINGS:\n", 1)
    assert ids(errors) == ["cachelint.CL101"]
    assert ids(warnings) == ["cachelint.CL301", "cachelint.CL501"]
    status, output = manage(project, "check", TESTPROJ_CACHELINT='{"errors": false}')
    assert status == 0, output


def test_baseline_is_honoured(project: Path) -> None:
    from cachelint import baseline
    from cachelint.config import Config
    from cachelint.engine import check
    from cachelint.registry import all_rules, configured_rules

    cwd = os.getcwd()
    os.chdir(project)
    try:
        rules = configured_rules(all_rules(), [], [], [])
        result = check([project], Config(cache=False, jobs=1), rules)
        baseline.write(project / "known.json", [f for f in result.findings if f.code == "CL101"], project)
    finally:
        os.chdir(cwd)
    # From the CACHELINT setting...
    status, output = manage(
        project, "check", "--deploy", "--tag", "cachelint", TESTPROJ_CACHELINT='{"baseline": "known.json"}'
    )
    assert ids(output) == ["cachelint.CL301", "cachelint.CL501"], output
    # ...and from [tool.cachelint], as the command line does.
    (project / "pyproject.toml").write_text('[tool.cachelint]\nbaseline = "known.json"\n', encoding="utf-8")
    status, output = manage(project, "check", "--deploy", "--tag", "cachelint")
    assert ids(output) == ["cachelint.CL301", "cachelint.CL501"], output
    # An unreadable baseline is a warning, and the findings are reported in full.
    status, output = manage(
        project, "check", "--tag", "cachelint", TESTPROJ_CACHELINT='{"baseline": "missing.json"}'
    )
    assert status == 0, output
    assert ids(output) == ["cachelint.CL101", "cachelint.W001"], output
    assert "missing.json: baseline file not found" in output


def test_invalid_cachelint_setting_is_a_warning(project: Path) -> None:
    status, output = manage(project, "check", "--tag", "cachelint", TESTPROJ_CACHELINT='{"errors": "yes", "bogus": 1}')
    assert status == 0, output
    assert ids(output) == ["cachelint.CL101", "cachelint.W003", "cachelint.W003"]
    assert "CACHELINT: unknown key 'bogus' (known: errors, baseline)" in output
    assert "CACHELINT['errors'] must be true or false" in output


def test_check_deploy_adds_the_deploy_families_once(project: Path) -> None:
    status, output = manage(project, "check", "--deploy")
    assert status == 0, output
    assert ids(output) == ["cachelint.CL101", "cachelint.CL301", "cachelint.CL501"]
    assert CL101_BLOCK in output
    warnings = output.split("WARNINGS:\n", 1)[1]
    assert CL301_LINE in warnings
    assert CL501_LINE in warnings
    assert "\ttestproj/settings.py:11:1: production settings: DEBUG is False here\n" in warnings
    assert "(security.W009)" in warnings  # Django's own deploy checks still run


def test_tag_runs_only_cachelint(project: Path) -> None:
    status, output = manage(project, "check", "--deploy", "--tag", "cachelint")
    assert status == 0, output
    assert ids(output) == ["cachelint.CL101", "cachelint.CL301", "cachelint.CL501"]
    assert "security." not in output
    assert "System check identified 3 issues (0 silenced)." in output


def test_silenced_system_checks_silences_a_finding(project: Path) -> None:
    status, output = manage(project, "check", TESTPROJ_SILENCED_CHECKS="cachelint.CL101")
    assert status == 0, output
    assert output == "System check identified no issues (1 silenced).\n"


def test_silencing_deploy_findings(project: Path) -> None:
    silenced = "cachelint.CL101,cachelint.CL301"
    status, output = manage(
        project, "check", "--deploy", "--tag", "cachelint", TESTPROJ_SILENCED_CHECKS=silenced
    )
    assert status == 0, output  # a warning alone does not fail the check...
    assert ids(output) == ["cachelint.CL501"]
    assert "System check identified 1 issue (2 silenced)." in output
    status, output = manage(
        project,
        "check",
        "--deploy",
        "--tag",
        "cachelint",
        "--fail-level",
        "WARNING",
        TESTPROJ_SILENCED_CHECKS=silenced,
    )
    assert status == 1, output  # ...unless asked to


def test_project_without_leak_passes(project: Path) -> None:
    (project / "testproj" / "views.py").write_text(CLEAN_VIEWS, encoding="utf-8")
    status, output = manage(project, "check")
    assert (status, output) == (0, "System check identified no issues (0 silenced).\n")


def test_check_of_one_app_reports_the_findings_in_its_files(project: Path) -> None:
    status, output = manage(project, "check", "--deploy", "--tag", "cachelint", "testproj")
    assert status == 0, output
    # settings.py is inside the testproj package here, so its findings belong to the app too
    assert ids(output) == ["cachelint.CL101", "cachelint.CL301", "cachelint.CL501"]
    status, output = manage(project, "check", "--deploy", "--tag", "cachelint", "auth")
    assert (status, output) == (0, "System check identified no issues (0 silenced).\n")


def test_pyproject_configuration_is_honoured(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.cachelint]\nignore = ["CL101", "CL5"]\n', encoding="utf-8")
    status, output = manage(project, "check", "--deploy", "--tag", "cachelint")
    assert status == 0, output
    assert ids(output) == ["cachelint.CL301"]


def test_bad_configuration_is_one_error(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.cachelint]\nselect = ["CL9"]\n', encoding="utf-8")
    status, output = manage(project, "check", "--deploy", "--tag", "cachelint", TESTPROJ_CACHELINT='{"errors": true}')
    assert status == 1, output
    assert ids(output) == ["cachelint.E001"]
    status, output = manage(project, "check", "--deploy", "--tag", "cachelint")
    assert status == 0, output  # a typo in pyproject.toml does not stop runserver
    assert ids(output) == ["cachelint.W002"]
    assert (
        f"?: (cachelint.W002) cannot run cachelint: {Path(os.path.realpath(project)) / 'pyproject.toml'}: unknown rule code or prefix: CL9"
        in output
    )


def test_cachelint_root_setting_wins_over_base_dir(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "app").mkdir(parents=True)
    (elsewhere / "manage.py").write_text("", encoding="utf-8")
    (elsewhere / "app" / "views.py").write_text(
        (project / "testproj" / "views.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    settings = project / "testproj" / "settings.py"
    settings.write_text(
        settings.read_text(encoding="utf-8") + f"\nCACHELINT_ROOT = {str(elsewhere)!r}\n", encoding="utf-8"
    )
    status, output = manage(project, "check", "--deploy", "--tag", "cachelint")
    assert status == 0, output
    assert ids(output) == ["cachelint.CL101"]
    # Relative to the working directory, with ../ outside it, as in every report.
    relative = Path(os.path.relpath(os.path.realpath(elsewhere), os.path.realpath(project))).as_posix()
    assert f"{relative}/app/views.py:12:2: (cachelint.CL101)" in output


def test_scanned_once_per_process_without_importing_the_project(project: Path) -> None:
    output = python(
        project,
        """
        import sys
        import django
        import cachelint.engine

        calls = []
        real_check = cachelint.engine.check
        cachelint.engine.check = lambda *args: calls.append(args) or real_check(*args)
        django.setup()

        from django.core import checks
        for deploy in (False, True, True):
            messages = checks.run_checks(tags=["cachelint"], include_deployment_checks=deploy)
            print(deploy, sorted(m.id for m in messages))
        print("scans", len(calls))
        print("imported", sorted(m for m in sys.modules if m.startswith("testproj.")))
        """,
    )
    assert output.splitlines() == [
        "False ['cachelint.CL101']",
        "True ['cachelint.CL101', 'cachelint.CL301', 'cachelint.CL501']",
        "True ['cachelint.CL101', 'cachelint.CL301', 'cachelint.CL501']",
        "scans 1",
        "imported ['testproj.settings']",  # the views and URLconf were read, never imported
    ]


def test_no_root_is_an_info(project: Path) -> None:
    output = python(
        project,
        """
        from django.conf import settings
        settings.configure(INSTALLED_APPS=["cachelint.django"])
        import django
        django.setup()
        from django.core.management import call_command
        call_command("check", "--deploy", "--tag", "cachelint")
        """,
    )
    assert output.startswith(
        "System check identified some issues:\n\nINFOS:\n?: (cachelint.I001) cachelint did not scan the project: "
        "neither CACHELINT_ROOT nor BASE_DIR is set\n"
    ), output


# In process: no settings needed


def _finding(severity: Severity, related: tuple[Evidence, ...] = (), hint: str | None = "fix it") -> Finding:
    return Finding(
        "CL101", severity, "leaks", Location("app/views.py", Span(12, 2)), hint=hint, related=related
    )


def test_error_finding_maps_to_warning_unless_errors_are_opted_in() -> None:
    evidence = (Evidence(Location("app/views.py", Span(11, 2)), "login required here"),)
    assert dj.to_check_message(_finding(Severity.ERROR, evidence)) == checks.Warning(
        "leaks\n\tapp/views.py:11:2: login required here",
        hint="fix it",
        obj="app/views.py:12:2",
        id="cachelint.CL101",
    )
    message = dj.to_check_message(_finding(Severity.ERROR, evidence), errors=True)
    assert message == checks.Error(
        "leaks\n\tapp/views.py:11:2: login required here",
        hint="fix it",
        obj="app/views.py:12:2",
        id="cachelint.CL101",
    )
    assert (
        str(message)
        == "app/views.py:12:2: (cachelint.CL101) leaks\n\tapp/views.py:11:2: login required here\n\tHINT: fix it"
    )


def test_control_characters_of_scanned_text_are_shown_as_escapes() -> None:
    evidence = (Evidence(Location("app/\x1b[2J.py", Span(1)), "label\n::x"),)
    location = Location("a\npp.py", Span(3))
    message = "alias `a\x1b]0;t\x07`"
    finding = Finding("CL101", Severity.ERROR, message, location, hint="\u202eh", related=evidence)
    message = dj.to_check_message(finding)
    assert str(message) == (
        "a\\npp.py:3:1: (cachelint.CL101) alias `a\\x1b]0;t\\x07`\n\tapp/\\x1b[2J.py:1:1: label\\n::x"
        "\n\tHINT: \\u202eh"
    )
    [warning] = dj.messages(dj.Scan(errors=("bad\x1b.py: cannot read",)), deploy=False)
    assert warning.msg == "cachelint: bad\\x1b.py: cannot read"


def test_warning_finding_maps_to_warning() -> None:
    message = dj.to_check_message(_finding(Severity.WARNING, hint=None))
    assert message == checks.Warning("leaks", obj="app/views.py:12:2", id="cachelint.CL101")
    assert not message.is_serious()


def test_deploy_split_covers_settings_and_static_families() -> None:
    rules = all_rules()
    deploy = {code for code in rules if dj.is_deploy_rule(code)}
    assert {"CL301", "CL501"} <= deploy
    assert all(code[:3] in ("CL3", "CL5") for code in deploy)
    assert not any(dj.is_deploy_rule(code) for code in ("CL001", "CL101", "CL107", "CL201", "CL403", "CL601"))


def test_root_from_settings() -> None:
    assert dj.root_from_settings(SimpleNamespace()) is None
    assert dj.root_from_settings(SimpleNamespace(BASE_DIR="/srv/app")) == Path("/srv/app")
    assert dj.root_from_settings(SimpleNamespace(BASE_DIR=Path("/a"), CACHELINT_ROOT="/b")) == Path("/b")
    assert dj.root_from_settings(SimpleNamespace(BASE_DIR=Path("/a"), CACHELINT_ROOT=None)) == Path("/a")


def test_messages_split_and_filter_by_app() -> None:
    scan = dj.Scan(
        findings=(
            _finding(Severity.ERROR),
            Finding("CL501", Severity.WARNING, "static", Location("conf/settings.py", Span(3))),
        ),
        errors=("internal error in rule CL999 (x): boom",),
        cwd="/srv/site",
    )
    assert [m.id for m in dj.messages(scan, deploy=False)] == ["cachelint.CL101", "cachelint.W001"]
    assert [m.id for m in dj.messages(scan, deploy=True)] == ["cachelint.CL501"]
    assert [m.id for m in dj.messages(scan, deploy=True, app_paths=["/srv/site/conf"])] == ["cachelint.CL501"]
    assert [m.id for m in dj.messages(scan, deploy=False, app_paths=["/srv/site/ap"])] == ["cachelint.W001"]
    assert [m.id for m in dj.messages(scan, deploy=False, app_paths=["/srv/site/app"])] == [
        "cachelint.CL101",
        "cachelint.W001",
    ]
    failed = dj.Scan(failure="bad config")
    assert dj.messages(failed, deploy=False) == [
        checks.Warning("cannot run cachelint: bad config", id="cachelint.W002")
    ]
    assert dj.messages(failed, deploy=False, errors=True) == [
        checks.Error("cannot run cachelint: bad config", id="cachelint.E001")
    ]
    assert [m.level for m in dj.messages(scan, deploy=False, errors=True)] == [checks.ERROR, checks.WARNING]
    assert dj.messages(failed, deploy=True) == []


def test_scan_is_cached_per_root(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    dj.clear_cache()
    try:
        first = dj.scan(project)
        assert [(f.location.path, f.code) for f in first.findings] == [
            ("testproj/settings.py", "CL301"),
            ("testproj/settings.py", "CL501"),
            ("testproj/views.py", "CL101"),
        ]
        (project / "testproj" / "views.py").write_text(CLEAN_VIEWS, encoding="utf-8")
        assert dj.scan(project) is first
        dj.clear_cache()
        assert [f.code for f in dj.scan(project).findings] == ["CL301", "CL501"]
        missing = dj.scan(project / "missing")
        assert missing.failure is not None and "is not a directory" in missing.failure
    finally:
        dj.clear_cache()
