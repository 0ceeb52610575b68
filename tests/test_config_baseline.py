"""[tool.cachelint] keys, --show-settings, and baselines."""

from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner

from cachelint.cli import cli
from tests.helpers import write_tree

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

VIEWS = """from django.contrib.auth.decorators import login_required
from django.views.decorators.cache import cache_page


@login_required
@cache_page(60)
def dashboard(request):
    return None
"""
LEGACY = VIEWS.replace("dashboard", "old_dashboard")


@pytest.fixture
def project(tmp_path, monkeypatch):
    def make(files):
        write_tree(tmp_path, {"manage.py": "", "app/__init__.py": "", "app/views.py": VIEWS, **files})
        monkeypatch.chdir(tmp_path)
        return tmp_path

    return make


def invoke(*args):
    return CliRunner().invoke(cli, ["check", "--no-cache", *args])


def codes(result):
    return [(f["location"]["path"], f["code"]) for f in json.loads(result.output)["findings"]]


def test_per_file_ignores_and_extend_exclude(project):
    project(
        {
            "legacy/__init__.py": "",
            "legacy/views.py": LEGACY,
            "vendor/views.py": LEGACY,
            "pyproject.toml": '[tool.cachelint]\nextend-exclude = ["vendor/"]\n'
            '[tool.cachelint.per-file-ignores]\n"legacy/*.py" = ["CL1"]\n',
        }
    )
    result = invoke("--format", "json", ".")
    assert codes(result) == [("app/views.py", "CL101")]


def test_exclude_replaces_the_default_skipped_directories(project):
    project({"build/views.py": LEGACY, "pyproject.toml": '[tool.cachelint]\nexclude = ["app/"]\n'})
    assert codes(invoke("--format", "json", ".")) == [("build/views.py", "CL101")]


def test_settings_modules_and_production_settings_patterns(project):
    settings = (
        'STORAGES = {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}\n'
    )
    project(
        {
            "conf/live_eu.py": settings,  # not detected by name, and not named "prod"
            "pyproject.toml": '[tool.cachelint]\nsettings-modules = ["conf/*.py"]\n'
            'production-settings = ["conf/live_eu.py"]\n',
        }
    )
    assert ("conf/live_eu.py", "CL501") in codes(invoke("--format", "json", "."))


def test_unknown_code_in_per_file_ignores_is_an_error(project):
    project({"pyproject.toml": '[tool.cachelint.per-file-ignores]\n"a.py" = ["CL9"]\n'})
    result = invoke(".")
    assert result.exit_code == 2
    assert "unknown rule code or prefix: CL9" in result.output


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("jobs = -1", "`jobs` must be a non-negative integer"),
        ("jobs = 100000", "`jobs` must be at most 1024"),
        ("fragment-version-pattern = '('", "`fragment-version-pattern` is not a valid regular expression"),
        ('django-version = "five"', "`django-version` must be a version string"),
        ('per-file-ignores = ["x"]', "`per-file-ignores` must be a table of glob = [codes]"),
        # An empty selector is a prefix of every code: each of these turned every rule off.
        ('ignore = [""]', "`ignore` must not contain an empty rule code or prefix"),
        ('ignore = [" "]', "`ignore` must not contain an empty rule code or prefix"),
        ('select = ["CL1", ""]', "`select` must not contain an empty rule code or prefix"),
        ('extend-select = ["\t"]', "`extend-select` must not contain an empty rule code or prefix"),
        (
            'per-file-ignores = {"app/*.py" = [""]}',
            "`per-file-ignores` must not contain an empty rule code or prefix (for 'app/*.py')",
        ),
        # Patterns pathspec cannot compile were an internal error.
        ('exclude = ["[z-a]"]', "`exclude` has an invalid pattern '[z-a]': bad character range z-a"),
        ('extend-exclude = ["[z-a]"]', "`extend-exclude` has an invalid pattern '[z-a]': bad character"),
        ('extend-exclude = ["!"]', "`extend-exclude` has an invalid pattern '!': Invalid git pattern"),
        ('settings-modules = ["[z-a]"]', "`settings-modules` has an invalid pattern '[z-a]'"),
        ('production-settings = ["**/[z-a]"]', "`production-settings` has an invalid pattern '**/[z-a]'"),
        ('per-file-ignores = {"[z-a]" = ["CL1"]}', "`per-file-ignores` has an invalid pattern '[z-a]'"),
        ('per-file-ignores = {" " = ["CL1"]}', "`per-file-ignores` must not contain an empty pattern"),
        ('exclude = ["app/", ""]', "`exclude` must not contain an empty pattern"),
        ('template-dirs = ["a\\u0000b"]', "`template-dirs` must not contain a NUL character"),
        ('baseline = "a\\u0000b"', "`baseline` must be a path"),
        ("static-url = 1", "`static-url` must be a string"),
        ("cache = 1", "`cache` must be true or false"),
    ],
)
def test_bad_values_are_one_line_errors(project, toml, message):
    project({"pyproject.toml": f"[tool.cachelint]\n{toml}\n"})
    result = invoke(".")
    assert result.exit_code == 2
    [line] = result.output.splitlines()
    assert line.startswith("cachelint: error: ") and message in line


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        # The [tool] table itself is not a table: was `internal error: AttributeError`.
        ("tool = 1", "`tool` must be a table"),
        ('tool = "x"', "`tool` must be a table"),
        ("[tool]\ncachelint = 1", "[tool.cachelint] must be a table"),
        ("[[tool.cachelint]]\nignore = []", "[tool.cachelint] must be a table"),
    ],
)
def test_tables_that_are_not_tables_are_one_line_errors(project, toml, message):
    project({"pyproject.toml": f"{toml}\n"})
    result = invoke(".")
    assert result.exit_code == 2
    [line] = result.output.splitlines()
    assert line.startswith("cachelint: error: ") and line.endswith(f"pyproject.toml: {message}")


def test_per_file_ignores_codes_are_normalized_like_select(project):
    project(
        {
            "legacy/__init__.py": "",
            "legacy/views.py": LEGACY,
            "pyproject.toml": '[tool.cachelint.per-file-ignores]\n"legacy/*.py" = [" cl1"]\n',
        }
    )
    assert codes(invoke("--format", "json", ".")) == [("app/views.py", "CL101")]


def test_show_settings_escapes_control_characters_as_valid_toml(project):
    # ESC, CSI, DEL and a bidi override from a committed pyproject, in TOML's escapes.
    escaped = r"""/s\u001b[2J\u009b'\\\"\u007f\u202e\u00e9/"""
    project({"pyproject.toml": f'[tool.cachelint]\nstatic-url = "{escaped}"\n'})
    result = invoke("--show-settings")
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("static-url")]
    assert line == f'static-url = "{escaped}"'  # the same escapes, valid TOML, nothing raw
    loaded = tomllib.loads(result.output)["tool"]["cachelint"]["static-url"]
    assert loaded == "/s\x1b[2J\x9b'\\\"\x7f\u202e\xe9/"


def test_show_settings_prints_the_resolved_configuration(project):
    project({"pyproject.toml": '[tool.cachelint]\nignore = ["CL201"]\njobs = 2\n'})
    result = invoke("--show-settings", "--ignore", "CL104", ".")
    assert result.exit_code == 0
    assert "ignore = ['CL201', 'CL104']" in result.output
    assert "jobs = 2" in result.output
    assert result.output.startswith("[tool.cachelint]\n")


def test_baseline_hides_known_findings_and_survives_moved_lines(project, tmp_path):
    project({})
    written = invoke("--write-baseline", "baseline.json", ".")
    assert written.exit_code == 0
    assert invoke("--baseline", "baseline.json", ".").exit_code == 0
    # An unrelated edit above moves the finding down two lines: still known.
    views = tmp_path / "app" / "views.py"
    views.write_text("# a comment\n# another\n" + VIEWS, encoding="utf-8")
    assert invoke("--baseline", "baseline.json", ".").exit_code == 0
    # A new leak is reported.
    views.write_text(VIEWS + "\n\n" + LEGACY.split("\n\n\n", 1)[1], encoding="utf-8")
    result = invoke("--baseline", "baseline.json", "--format", "json", ".")
    assert result.exit_code == 1
    assert [f["location"]["line"] for f in json.loads(result.output)["findings"]] == [12]


def test_missing_baseline_is_a_usage_error(project):
    project({})
    result = invoke("--baseline", "nope.json", ".")
    assert result.exit_code == 2
    assert "nope.json: baseline file not found" in result.output


def test_docs_url_sets_the_sarif_help_uri(project):
    project({"pyproject.toml": '[tool.cachelint]\ndocs-url = "https://docs.example.com/cachelint/rules/"\n'})
    sarif = json.loads(invoke("--format", "sarif", ".").output)
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert {r["helpUri"] for r in rules if r["id"] == "CL101"} == {"https://docs.example.com/cachelint/rules/CL101.md"}


def test_configured_baseline_applies_to_every_entry_point(project, tmp_path, monkeypatch):
    project({})
    assert invoke("--write-baseline", ".cachelint-baseline.json", ".").exit_code == 0
    (tmp_path / "pyproject.toml").write_text('[tool.cachelint]\nbaseline = ".cachelint-baseline.json"\n')
    assert invoke(".").exit_code == 0
    assert invoke("app/views.py").exit_code == 0  # as pre-commit runs it
    monkeypatch.chdir(tmp_path / "app")  # paths in the baseline are relative to the project root
    assert invoke("views.py").exit_code == 0
