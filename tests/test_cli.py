"""The command line, end to end: exit codes, selection, formats, configuration, explicit files,
inline suppressions.

A few tests run the real interpreter (``python -m cachelint``, the ``cachelint`` console script);
the rest use click's CliRunner in-process. Every test runs with the working directory set to the
mini project, so reported paths are relative to it, as in real use.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cachelint import __version__
from cachelint.cli import cli
from tests.helpers import write_tree

LEAK_VIEWS = """\
from django.contrib.auth.decorators import login_required
from django.views.decorators.cache import cache_page


@login_required
@cache_page(60)
def dashboard(request):
    return None
"""
# CL101 is reported on the cache_page decorator: line 6, columns 2..16.
LEAK_LINE, LEAK_COL, LEAK_END_COL = 6, 2, 16

CLEAN_VIEWS = """\
from django.views.decorators.cache import cache_page


@cache_page(60)
def catalogue(request):
    return None
"""

LEAK_TREE = {"app/__init__.py": "", "app/views.py": LEAK_VIEWS}
CLEAN_TREE = {"app/__init__.py": "", "app/views.py": CLEAN_VIEWS}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    env["NO_COLOR"] = "1"
    return env


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write a tree into tmp_path and make it the working directory."""

    def make(files: dict[str, str | bytes]) -> Path:
        write_tree(tmp_path, files)
        return tmp_path

    monkeypatch.chdir(tmp_path)
    return make


def invoke(*args: str):
    runner = CliRunner(env={"NO_COLOR": "1", "FORCE_COLOR": None, "CLICOLOR_FORCE": None})
    return runner.invoke(cli, list(args), catch_exceptions=False)


HEADER = re.compile(r"^\S+:\d+:\d+: CL\d{3} ")


def finding_lines(stdout: str) -> list[str]:
    """The ``path:line:col: CODE message`` header lines of a text report."""
    return [line for line in stdout.splitlines() if HEADER.match(line)]


def codes_at(stdout: str) -> list[tuple[str, int, str]]:
    out = []
    for line in finding_lines(stdout):
        location, _, rest = line.partition(": ")
        path, line_no, _col = location.rsplit(":", 2)
        out.append((path, int(line_no), rest.split(" ", 1)[0]))
    return sorted(out)


def json_findings(stdout: str) -> list[tuple[str, int, str]]:
    data = json.loads(stdout)
    return sorted((f["location"]["path"], f["location"]["line"], f["code"]) for f in data["findings"])


# --- true end-to-end runs ---------------------------------------------------------------------


def test_python_m_version_prints_package_version():
    proc = subprocess.run(
        [sys.executable, "-m", "cachelint", "--version"], capture_output=True, text=True, timeout=60, env=_env()
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"cachelint, version {__version__}\n"
    assert proc.stderr == ""


def test_python_m_check_reports_leak_and_exits_1(tmp_path):
    write_tree(tmp_path, LEAK_TREE)
    proc = subprocess.run(
        [sys.executable, "-m", "cachelint", "check", "--no-color", "."],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=_env(),
    )
    assert proc.returncode == 1, proc.stderr
    assert finding_lines(proc.stdout) == [
        f"app/views.py:{LEAK_LINE}:{LEAK_COL}: CL101 `cache_page` on a login-protected view: "
        "the first user's response is stored and served to every later user"
    ]
    assert "Found 1 error and 0 warnings." in proc.stdout
    assert proc.stderr == ""


def test_python_m_check_clean_tree_exits_0(tmp_path):
    write_tree(tmp_path, CLEAN_TREE)
    proc = subprocess.run(
        [sys.executable, "-m", "cachelint", "check", "."],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=_env(),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "All checks passed!"


def test_console_script_from_venv(tmp_path):
    script = Path(sys.executable).parent / ("cachelint.exe" if os.name == "nt" else "cachelint")
    if not script.exists():
        pytest.skip(f"console script not installed next to {sys.executable}")
    assert subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, timeout=60, env=_env()
    ).stdout == f"cachelint, version {__version__}\n"
    write_tree(tmp_path, LEAK_TREE)
    proc = subprocess.run(
        [str(script), "check", "--format", "json", "."],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=_env(),
    )
    assert proc.returncode == 1, proc.stderr
    assert json_findings(proc.stdout) == [("app/views.py", LEAK_LINE, "CL101")]
    # A bad selector through the real entry point: exit 2, one line, no traceback.
    proc = subprocess.run(
        [str(script), "check", "--select", "CL999", "."],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=_env(),
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "CL999" in proc.stderr
    assert "Traceback" not in proc.stderr


# --- exit codes and selection -----------------------------------------------------------------


def test_clean_tree_exits_0(project):
    project(CLEAN_TREE)
    result = invoke("check")
    assert result.exit_code == 0
    assert result.stdout.strip() == "All checks passed!"


def test_leak_exits_1_with_exact_finding(project):
    project(LEAK_TREE)
    result = invoke("check", ".")
    assert result.exit_code == 1
    assert codes_at(result.stdout) == [("app/views.py", LEAK_LINE, "CL101")]
    assert "  = related: app/views.py:5:2: `login_required` requires login here" in result.stdout
    assert result.stdout.rstrip().endswith("Found 1 error and 0 warnings.")
    assert result.stderr == ""


def test_exit_zero(project):
    project(LEAK_TREE)
    result = invoke("check", "--exit-zero", ".")
    assert result.exit_code == 0
    assert codes_at(result.stdout) == [("app/views.py", LEAK_LINE, "CL101")]


def test_select_prefix_filters_out_other_rules(project):
    project(LEAK_TREE)
    result = invoke("check", "--select", "CL2", ".")
    assert result.exit_code == 0
    assert "CL101" not in result.stdout
    assert result.stdout.strip() == "All checks passed!"


def test_select_exact_code_and_comma_list(project):
    project(LEAK_TREE)
    assert invoke("check", "--select", "CL201,CL101", ".").exit_code == 1
    assert invoke("check", "--select", "cl101", ".").exit_code == 1  # codes are upper-cased


def test_ignore(project):
    project(LEAK_TREE)
    result = invoke("check", "--ignore", "CL101", ".")
    assert result.exit_code == 0
    assert "CL101" not in result.stdout


@pytest.mark.parametrize(
    ("option", "value"),
    [("--ignore", ""), ("--ignore", " "), ("--select", "CL1,"), ("--extend-select", ",CL1")],
)
def test_empty_selector_on_the_command_line_is_an_error(project, option, value):
    # An empty selector is a prefix of every code, as in `ignore = [""]`.
    project(LEAK_TREE)
    result = invoke("check", option, value, ".")
    assert result.exit_code == 2
    assert result.output == f"cachelint: error: {option}: empty rule code or prefix in {value!r}\n"


def test_gitignore_pattern_that_cannot_compile_is_skipped_like_git_does(project):
    # `[z-a]` in a .gitignore was `internal error: error: bad character range`.
    project({**LEAK_TREE, "lib/__init__.py": "", "lib/views.py": LEAK_VIEWS, ".gitignore": "[z-a]\n!\napp/\n"})
    result = invoke("check", "--no-cache", "--format", "json", ".")
    assert result.exit_code == 1, result.output
    assert json_findings(result.stdout) == [("lib/views.py", 6, "CL101")]  # app/ still ignored


def test_ignore_prefix_wins_over_select(project):
    project(LEAK_TREE)
    assert invoke("check", "--select", "ALL", "--ignore", "CL1", ".").exit_code == 0


@pytest.mark.parametrize("option", ["--select", "--ignore", "--extend-select"])
def test_unknown_selector_is_a_one_line_error(project, option):
    project(LEAK_TREE)
    result = invoke("check", option, "CL999", ".")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "cachelint: error: unknown rule code or prefix: CL999 (see `cachelint rules`)\n"


# --- formats and output -----------------------------------------------------------------------


def test_json_format(project):
    project(LEAK_TREE)
    result = invoke("check", "--format", "json", ".")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["version"] == __version__
    assert data["errors"] == []
    assert data["summary"] == {"total": 1, "by_code": {"CL101": 1}}
    [finding] = data["findings"]
    assert finding["code"] == "CL101"
    assert finding["slug"] == "cache-page-on-authenticated-view"
    assert finding["severity"] == "error"
    assert finding["location"] == {
        "path": "app/views.py", "line": LEAK_LINE, "column": LEAK_COL,
        "end_line": LEAK_LINE, "end_column": LEAK_END_COL,
    }
    assert finding["related"][0]["location"]["line"] == 5


def test_sarif_format(project):
    project(LEAK_TREE)
    result = invoke("check", "--format", "sarif", ".")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["version"] == "2.1.0"
    [run] = data["runs"]
    assert run["tool"]["driver"]["name"] == "cachelint"
    [sarif_result] = run["results"]
    assert sarif_result["ruleId"] == "CL101"
    region = sarif_result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (LEAK_LINE, LEAK_COL)
    assert sarif_result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/views.py"


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_output_file_writes_report_and_nothing_on_stdout(project, fmt):
    root = project(LEAK_TREE)
    result = invoke("check", "--format", fmt, "--output", "report.out", ".")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == ""
    written = (root / "report.out").read_text(encoding="utf-8")
    if fmt == "text":
        assert codes_at(written) == [("app/views.py", LEAK_LINE, "CL101")]
        assert "\x1b[" not in written  # never colored in a file
    else:
        assert json.loads(written)  # valid JSON
        assert "CL101" in written


def test_output_file_that_cannot_be_written_is_a_one_line_error(project):
    project(LEAK_TREE)
    result = invoke("check", "--output", "no/such/dir/report.txt", ".")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("cachelint: error: no/such/dir/report.txt: cannot write report:")


# --- rules and rule -------------------------------------------------------------------------


def test_rules_lists_code_slug_severity_default():
    result = invoke("rules")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["code", "slug", "severity", "default", "summary"]
    cl101 = next(line for line in lines if line.startswith("CL101 "))
    assert cl101.split()[:4] == ["CL101", "cache-page-on-authenticated-view", "error", "on"]
    cl001 = next(line for line in lines if line.startswith("CL001 "))
    assert cl001.split()[:4] == ["CL001", "parse-error", "error", "on"]
    for line in lines[1:]:
        assert line.split()[3] in ("on", "off")


@pytest.mark.parametrize("name", ["CL101", "cl101", "cache-page-on-authenticated-view"])
def test_rule_prints_documentation(name):
    result = invoke("rule", name)
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith("# CL101 cache-page-on-authenticated-view\n")
    headings = [line for line in out.splitlines() if line.startswith("## ")]
    assert headings == ["## What it does", "## Why is this bad?", "## Example", "## Use instead"]
    assert "Severity: **error**, on by default." in out
    assert "@cache_page(60 * 15)" in out
    assert "expect:" not in out  # test markers are stripped from the examples


@pytest.mark.parametrize("name", ["CL999", "no-such-rule"])
def test_unknown_rule_exits_2(name):
    result = invoke("rule", name)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"cachelint: error: unknown rule `{name}` (see `cachelint rules`)\n"


# --- configuration ------------------------------------------------------------------------------


def test_pyproject_ignore_is_honoured(project):
    project({**LEAK_TREE, "pyproject.toml": '[tool.cachelint]\nignore = ["CL101"]\n'})
    result = invoke("check", ".")
    assert result.exit_code == 0
    assert result.stdout.strip() == "All checks passed!"


def test_pyproject_found_from_a_file_argument(project):
    project({**LEAK_TREE, "pyproject.toml": '[tool.cachelint]\nignore = ["CL101"]\n'})
    assert invoke("check", "app/views.py").exit_code == 0


def test_cli_ignore_adds_to_pyproject_ignore(project):
    project({**LEAK_TREE, "pyproject.toml": '[tool.cachelint]\nignore = ["CL101"]\n'})
    assert invoke("check", "--ignore", "CL201", ".").exit_code == 0


def test_pyproject_unknown_key_is_a_one_line_error(project):
    root = project({**LEAK_TREE, "pyproject.toml": '[tool.cachelint]\nignroe = ["CL101"]\n'})
    result = invoke("check", ".")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"cachelint: error: {root / 'pyproject.toml'}: unknown key `ignroe`")


def test_pyproject_wrong_type_is_a_one_line_error(project):
    project({**LEAK_TREE, "pyproject.toml": '[tool.cachelint]\nignore = "CL101"\n'})
    result = invoke("check", ".")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "`ignore` must be a list of strings" in result.stderr


def test_malformed_toml_is_a_one_line_error(project):
    project({**LEAK_TREE, "pyproject.toml": "[tool.cachelint\nignore = \n"})
    result = invoke("check", ".")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "cannot read TOML" in result.stderr
    assert "Traceback" not in result.output


def test_malformed_toml_real_process_has_no_traceback(tmp_path):
    write_tree(tmp_path, {**LEAK_TREE, "pyproject.toml": "[tool.cachelint]\nignore = [\n"})
    proc = subprocess.run(
        [sys.executable, "-m", "cachelint", "check", "."],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=_env(),
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "cannot read TOML" in proc.stderr


def test_explicit_config_file(project):
    project({**LEAK_TREE, "lint.toml": '[tool.cachelint]\nignore = ["CL101"]\n'})
    assert invoke("check", "--config", "lint.toml", ".").exit_code == 0
    result = invoke("check", "--config", "missing.toml", ".")
    assert result.exit_code == 2
    assert result.stderr == "cachelint: error: missing.toml: config file not found\n"


# --- explicit files (pre-commit style) ------------------------------------------------------------

PERSONAL_VIEWS = """\
from django.shortcuts import render
from django.views.decorators.cache import cache_page


@cache_page(300)
def home(request):
    return render(request, "app/home.html")
"""

PERSONAL_TREE = {
    "manage.py": "",
    "app/__init__.py": "",
    "app/views.py": PERSONAL_VIEWS,
    "app/templates/app/home.html": "<p>Hello {{ user.username }}</p>\n",
    "app/other.py": LEAK_VIEWS,  # a leak in a file that is not passed
}


def test_whole_project_reports_both_files(project):
    project(PERSONAL_TREE)
    result = invoke("check", "--format", "json")
    assert json_findings(result.stdout) == [("app/other.py", 6, "CL101"), ("app/views.py", 5, "CL102")]


def test_explicit_file_uses_project_context_but_reports_only_that_file(project):
    project(PERSONAL_TREE)
    result = invoke("check", "--format", "json", "app/views.py")
    assert result.exit_code == 1
    assert json_findings(result.stdout) == [("app/views.py", 5, "CL102")]
    [finding] = json.loads(result.stdout)["findings"]
    related = [(r["location"]["path"], r["location"]["line"]) for r in finding["related"]]
    assert ("app/templates/app/home.html", 1) in related


def test_explicit_template_reports_the_view_whose_evidence_it_holds(project):
    """pre-commit passes only the changed template: the leak it causes is at the view."""
    project(PERSONAL_TREE)
    result = invoke("check", "--format", "json", "app/templates/app/home.html")
    assert result.exit_code == 1
    assert json_findings(result.stdout) == [("app/views.py", 5, "CL102")]  # not app/other.py's CL101
    [finding] = json.loads(result.stdout)["findings"]
    related = [(r["location"]["path"], r["location"]["line"]) for r in finding["related"]]
    assert ("app/templates/app/home.html", 1) in related


def test_explicit_files_report_what_a_full_run_reports_for_them(project):
    """Per file passed: the full run's findings located in it or with evidence in it."""
    project(PERSONAL_TREE)
    full = json.loads(invoke("check", "--format", "json", "--select", "ALL").stdout)["findings"]
    for path in ("app/views.py", "app/other.py", "app/templates/app/home.html"):
        expected = sorted(
            (f["code"], f["location"]["path"], f["location"]["line"])
            for f in full
            if path in (f["location"]["path"], *(r["location"]["path"] for r in f["related"]))
        )
        got = json.loads(invoke("check", "--format", "json", "--select", "ALL", path).stdout)["findings"]
        assert sorted((f["code"], f["location"]["path"], f["location"]["line"]) for f in got) == expected, path


EXCLUDED_TREE = {
    **PERSONAL_TREE,
    "pyproject.toml": '[tool.cachelint]\nextend-exclude = ["legacy/"]\n',
    ".gitignore": "generated/\n",
    "legacy/__init__.py": "",
    "legacy/views.py": LEAK_VIEWS,
    "generated/__init__.py": "",
    "generated/views.py": LEAK_VIEWS,
    "app/tests/__init__.py": "",
    "app/tests/test_views.py": LEAK_VIEWS,
    "app/test_cache.py": LEAK_VIEWS,
}
EXCLUDED = ["legacy/views.py", "generated/views.py", "app/tests/test_views.py", "app/test_cache.py"]


def test_files_passed_by_name_are_checked_even_when_excluded(project):
    project(EXCLUDED_TREE)
    result = invoke("check", "--format", "json", "--no-cache", *EXCLUDED)
    assert [path for path, _, _ in json_findings(result.stdout)] == sorted(EXCLUDED)


def test_force_exclude_leaves_out_what_a_full_run_leaves_out(project):
    """pre-commit passes every staged file: with --force-exclude (on in the hook) exclude,
    extend-exclude, .gitignore and the test-code skip apply to them as to the walk."""
    project(EXCLUDED_TREE)
    result = invoke("check", "--format", "json", "--no-cache", "--force-exclude", *EXCLUDED, "app/views.py")
    assert json_findings(result.stdout) == [("app/views.py", 5, "CL102")]
    result = invoke("check", "--no-cache", "--force-exclude", *EXCLUDED)
    assert result.exit_code == 0, result.output
    (Path("pyproject.toml")).write_text('[tool.cachelint]\nextend-exclude = ["legacy/"]\nforce-exclude = true\n')
    result = invoke("check", "--format", "json", "--no-cache", *EXCLUDED)
    assert json_findings(result.stdout) == []


def test_pre_commit_hook_forces_excludes_and_sees_every_template_suffix():
    import yaml

    [hook] = yaml.safe_load((Path(__file__).resolve().parent.parent / ".pre-commit-hooks.yaml").read_text())
    assert hook["entry"] == "cachelint check --force-exclude"
    assert {"python", "html", "xml", "plain-text"} <= set(hook["types_or"])


def test_explicit_files_several(project):
    project(PERSONAL_TREE)
    result = invoke("check", "--format", "json", "app/views.py", "app/other.py", "app/views.py")
    assert json_findings(result.stdout) == [("app/other.py", 6, "CL101"), ("app/views.py", 5, "CL102")]


def test_explicit_file_from_a_subdirectory(project, monkeypatch):
    root = project(PERSONAL_TREE)
    monkeypatch.chdir(root / "app")
    result = invoke("check", "--format", "json", "views.py")
    assert result.exit_code == 1
    assert json_findings(result.stdout) == [("views.py", 5, "CL102")]


# --- inline suppressions --------------------------------------------------------------------------


def test_noqa_with_code_on_decorator_line_suppresses(project):
    project({"app/__init__.py": "", "app/views.py": LEAK_VIEWS.replace("@cache_page(60)", "@cache_page(60)  # noqa: CL101")})
    result = invoke("check", ".")
    assert result.exit_code == 0, result.stdout


def test_noqa_among_other_codes_and_ignore_comment(project):
    project({
        "app/__init__.py": "",
        "app/a.py": LEAK_VIEWS.replace("@cache_page(60)", "@cache_page(60)  # noqa: E501, CL101"),
        "app/b.py": LEAK_VIEWS.replace("@cache_page(60)", "@cache_page(60)  # cachelint: ignore[CL101]"),
    })
    assert invoke("check", ".").exit_code == 0


def test_bare_noqa_does_not_suppress(project):
    project({"app/__init__.py": "", "app/views.py": LEAK_VIEWS.replace("@cache_page(60)", "@cache_page(60)  # noqa")})
    result = invoke("check", ".")
    assert result.exit_code == 1
    assert codes_at(result.stdout) == [("app/views.py", LEAK_LINE, "CL101")]


def test_noqa_for_another_code_or_line_does_not_suppress(project):
    project({
        "app/__init__.py": "",
        "app/a.py": LEAK_VIEWS.replace("@cache_page(60)", "@cache_page(60)  # noqa: CL102"),
        "app/b.py": LEAK_VIEWS.replace("def dashboard(request):", "def dashboard(request):  # noqa: CL101"),
    })
    result = invoke("check", ".")
    assert codes_at(result.stdout) == [("app/a.py", LEAK_LINE, "CL101"), ("app/b.py", LEAK_LINE, "CL101")]


FRAGMENT = "{% load cache %}\n{% cache 600 sidebar %}<ul></ul>{% endcache %}\n"


def test_unversioned_fragment_reported(project):
    project({"templates/base.html": FRAGMENT})
    result = invoke("check", ".")
    assert result.exit_code == 1
    assert codes_at(result.stdout) == [("templates/base.html", 2, "CL201")]


def test_template_noqa_comment_suppresses(project):
    project({"templates/base.html": FRAGMENT.replace("{% endcache %}", "{% endcache %} {# noqa: CL201 #}")})
    result = invoke("check", ".")
    assert result.exit_code == 0, result.stdout


def test_python_style_noqa_in_template_does_not_suppress(project):
    project({"templates/base.html": FRAGMENT.replace("{% endcache %}", "{% endcache %} # noqa: CL201")})
    assert invoke("check", ".").exit_code == 1


# --- cache_page aliases -----------------------------------------------------------------------


def test_same_module_alias_is_resolved(project):
    project({
        "app/__init__.py": "",
        "app/views.py": LEAK_VIEWS.replace(
            "\n\n@login_required\n@cache_page(60)", "\ncache_hour = cache_page(3600)\n\n@login_required\n@cache_hour"
        ),
    })
    result = invoke("check", "--format", "json", ".")
    assert json_findings(result.stdout) == [("app/views.py", 7, "CL101")]


def test_imported_alias_reported_at_use_site(project):
    project({
        "app/__init__.py": "",
        "app/caching.py": "from django.views.decorators.cache import cache_page\ncache_day = cache_page(86400)\n",
        "app/views.py": LEAK_VIEWS.replace("from django.views.decorators.cache import cache_page", "from app.caching import cache_day")
        .replace("@cache_page(60)", "@cache_day"),
    })
    result = invoke("check", "--format", "json", ".")
    assert json_findings(result.stdout) == [("app/views.py", LEAK_LINE, "CL101")]


def test_a_crashing_rule_is_one_error_line_and_the_other_rules_still_report(tmp_path, monkeypatch):
    """An internal error in one rule names the rule; --debug adds the traceback; exit 2."""
    from cachelint.registry import all_rules
    from tests.helpers import write_tree

    write_tree(
        tmp_path,
        {
            "manage.py": "",
            "app/views.py": "from django.contrib.auth.decorators import login_required\n"
            "from django.views.decorators.cache import cache_page\n\n\n"
            "@login_required\n@cache_page(60)\ndef dashboard(request):\n    return None\n",
            "templates/nav.html": "{% load cache %}{% cache 60 nav %}{% endcache %}",
        },
    )
    monkeypatch.chdir(tmp_path)

    def boom(self, project):
        raise ValueError("boom")
        yield  # pragma: no cover

    monkeypatch.setattr(type(all_rules()["CL201"]), "check", boom)
    monkeypatch.setenv("CACHELINT_DEBUG", "")  # --debug sets it; teardown removes it again
    result = CliRunner().invoke(cli, ["check", "--no-cache", "."])
    assert result.exit_code == 2
    assert "app/views.py:6:2: CL101 " in result.stdout
    assert "cachelint: error: internal error in rule CL201 (unversioned-fragment-key): ValueError: boom" in result.stderr
    assert "Traceback" not in result.stderr
    debug = CliRunner().invoke(cli, ["check", "--no-cache", "--debug", "."])
    assert "Traceback (most recent call last)" in debug.stderr


# --- hostile file names ---------------------------------------------------------------------------

# A template whose name holds byte 0xff (not UTF-8; Linux allows it): os.fsdecode makes it the lone
# surrogate U+DCFF, which the UTF-8 codec refuses.
RAW_NAME = b"templates/caf\xff.html"
STATIC_TEMPLATE = '<img src="/static/x.png">\n'


@pytest.fixture
def raw_named(tmp_path, monkeypatch):
    write_tree(tmp_path, {"manage.py": "", "app/__init__.py": "", "templates/.keep": ""})
    try:
        with open(os.path.join(os.fsencode(tmp_path), RAW_NAME), "w", encoding="utf-8") as stream:
            stream.write(STATIC_TEMPLATE)
    except (OSError, UnicodeError):
        pytest.skip("the file system does not take a name that is not UTF-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("fmt", ["text", "json", "json-lines", "sarif", "github", "gitlab"])
def test_a_file_name_that_is_not_utf8_is_reported_in_every_format(raw_named, fmt):
    # The reproduction: sarif and gitlab failed with UnicodeEncodeError, text and github with -o.
    result = invoke("check", "--no-cache", "--format", fmt, "-o", "report.out", ".")
    assert result.exit_code == 1, result.output
    data = (raw_named / "report.out").read_bytes()
    text = data.decode("utf-8")  # valid UTF-8
    if fmt == "sarif":
        [entry] = json.loads(text)["runs"][0]["results"]
        location = entry["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location == {"uri": "templates/caf%FF.html", "uriBaseId": "%SRCROOT%"}  # the raw byte
    elif fmt in ("json", "json-lines", "gitlab"):
        assert "\\ud" not in text  # no lone surrogate escapes either, which strict parsers refuse
        if fmt == "json":
            paths = [e["location"]["path"] for e in json.loads(text)["findings"]]
        elif fmt == "json-lines":
            paths = [json.loads(line)["location"]["path"] for line in text.splitlines()]
        else:
            paths = [e["location"]["path"] for e in json.loads(text)]
        assert paths == ["templates/caf\\xff.html"]
    else:
        assert "templates/caf\\xff.html:1:11" in text or "file=templates/caf\\xff.html,line=1,col=11" in text


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_a_file_name_that_is_not_utf8_on_a_strict_stdout(raw_named, fmt):
    env = {**_env(), "PYTHONIOENCODING": "utf-8:strict"}
    proc = subprocess.run(
        [sys.executable, "-m", "cachelint", "check", "--no-cache", "--format", fmt, "."],
        cwd=raw_named, capture_output=True, timeout=120, env=env,
    )
    assert proc.returncode == 1, proc.stderr
    assert b"templates/caf\\xff.html" in proc.stdout
    assert proc.stderr == b""


def test_a_file_name_that_is_not_utf8_in_a_baseline(raw_named):
    result = invoke("check", "--no-cache", "--write-baseline", "baseline.json", ".")
    assert result.exit_code == 0, result.output
    [entry] = json.loads((raw_named / "baseline.json").read_text(encoding="utf-8"))["findings"]
    assert entry["path"] == "templates/caf\\xff.html"
    assert invoke("check", "--no-cache", "--baseline", "baseline.json", ".").exit_code == 0


# --- explicit paths: filtering ----------------------------------------------------------------------


def test_explicit_files_and_directories_select_the_findings(project):
    root = project(
        {
            "manage.py": "",
            "app/__init__.py": "",
            "app/views.py": LEAK_VIEWS,
            "app/sub/__init__.py": "",
            "app/sub/views.py": LEAK_VIEWS,
            "app/subway/__init__.py": "",
            "app/subway/views.py": LEAK_VIEWS,  # `app/sub` is not a prefix of this directory
            "lib/__init__.py": "",
            "lib/views.py": LEAK_VIEWS,
            "lib/more.py": LEAK_VIEWS,
        }
    )
    (root / "linked").symlink_to(root / "app" / "subway", target_is_directory=True)
    result = invoke("check", "--no-cache", "--format", "json", "app/sub", "lib/views.py", "./lib/views.py")
    assert json_findings(result.stdout) == [("app/sub/views.py", 6, "CL101"), ("lib/views.py", 6, "CL101")]
    # A directory given through a symlink selects the files inside the directory it points at.
    result = invoke("check", "--no-cache", "--format", "json", "linked", "app/sub/views.py")
    assert json_findings(result.stdout) == [
        ("app/sub/views.py", 6, "CL101"),
        ("app/subway/views.py", 6, "CL101"),
    ]


def _stat_calls(monkeypatch, run) -> int:
    calls = 0
    stat, lstat = os.stat, os.lstat

    def counted(function):
        def wrapper(*args, **kwargs):
            nonlocal calls
            calls += 1
            return function(*args, **kwargs)

        return wrapper

    with monkeypatch.context() as patch:
        patch.setattr(os, "stat", counted(stat))
        patch.setattr(os, "lstat", counted(lstat))
        run()
    return calls


def test_filtering_by_explicit_paths_does_not_stat_per_finding_and_path(project, monkeypatch):
    # The reproduction: 5,000 file arguments (pre-commit on a large change) took 100 s against 12 s
    # for the whole tree: a stat() per finding and argument. Stats must grow with findings plus
    # arguments, not with their product.
    from cachelint.config import Config
    from cachelint.engine import check
    from cachelint.registry import all_rules, select_rules

    rules = select_rules(all_rules(), ["CL101"], [])
    sizes = (40, 160)
    project({"manage.py": "", **{f"app{i}/views.py": LEAK_VIEWS for i in range(max(sizes))}})
    calls = []
    for size in sizes:
        paths = [Path(f"app{i}/views.py") for i in range(size)]
        results = []
        run = lambda: results.append(check(paths, Config(cache=False), rules))  # noqa: E731
        calls.append(_stat_calls(monkeypatch, run))
        assert len(results[0].findings) == size
    # Per extra file (a finding and an argument): about 15 calls (walking, reading, resolving), while
    # a stat per finding and argument adds 100 on average at these sizes.
    assert calls[1] - calls[0] < 30 * (sizes[1] - sizes[0]), calls


# --- paths relative to the working directory --------------------------------------------------------


def test_paths_outside_the_working_directory_are_relative_with_dot_dot(project, monkeypatch):
    # The reproduction: run from a subdirectory, the files outside it got absolute paths, while
    # docs/json-format.md says paths are relative to the directory cachelint ran in.
    root = project({"manage.py": "", **LEAK_TREE, "lib/__init__.py": "", "lib/views.py": LEAK_VIEWS})
    monkeypatch.chdir(root / "app")
    result = invoke("check", "--no-cache", "--format", "json", "..")
    assert json_findings(result.stdout) == [("../lib/views.py", 6, "CL101"), ("views.py", 6, "CL101")]
    text = invoke("check", "--no-cache", "../lib/views.py").stdout
    assert codes_at(text) == [("../lib/views.py", 6, "CL101")]
    assert "6 | @cache_page(60)" in text  # the file is quoted: the path opens it from here
    github = invoke("check", "--no-cache", "--format", "github", "../lib").stdout
    assert github.startswith("::error file=../lib/views.py,line=6,col=2,")
    [issue] = json.loads(invoke("check", "--no-cache", "--format", "gitlab", "../lib").stdout)
    assert issue["location"]["path"] == "../lib/views.py"
    lines = invoke("check", "--no-cache", "--format", "json-lines", "../lib").stdout.splitlines()
    assert [json.loads(line)["location"]["path"] for line in lines] == ["../lib/views.py"]
    # SARIF: below %SRCROOT% (the working directory) a relative URI, outside it an absolute one.
    log = json.loads(invoke("check", "--no-cache", "--format", "sarif", "..").stdout)
    [run] = log["runs"]
    real = root.resolve()
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == (real / "app").as_uri() + "/"
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]] == [
        {"uri": (real / "lib" / "views.py").as_uri()},
        {"uri": "views.py", "uriBaseId": "%SRCROOT%"},
    ]
    # A baseline is still relative to the project root, wherever it is written from.
    assert invoke("check", "--no-cache", "--write-baseline", "../baseline.json", "..").exit_code == 0
    baseline = json.loads((root / "baseline.json").read_text(encoding="utf-8"))
    assert sorted(e["path"] for e in baseline["findings"]) == ["app/views.py", "lib/views.py"]
    monkeypatch.chdir(root)
    assert invoke("check", "--no-cache", "--baseline", "baseline.json", ".").exit_code == 0


def test_a_cache_alias_cannot_forge_a_workflow_command_or_drive_the_terminal(tmp_path):
    # The reproduction, end to end: with NO_COLOR on a non-tty, the alias's ESC reached stdout and
    # its newline started a line `::error file=README.md,line=1::X`, which GitHub Actions executes.
    alias = "a\\n::error file=README.md,line=1::X\\x1b[31m"
    backend = '{"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://y"}'
    write_tree(tmp_path, {"manage.py": "", "proj/settings.py": f'CACHES = {{"{alias}": {backend}}}\n'})
    for fmt in ("text", "github"):
        proc = subprocess.run(
            [sys.executable, "-m", "cachelint", "check", "--no-cache", "--format", fmt, "."],
            cwd=tmp_path, capture_output=True, text=True, timeout=120, env=_env(),
        )
        assert proc.returncode == 1, proc.stderr
        assert "\x1b" not in proc.stdout
        lines = proc.stdout.splitlines()
        assert not any(line.startswith("::error file=README.md") for line in lines)
        assert "Redis cache `a\\n::error file=README.md,line=1::X\\x1b[31m` has no" in proc.stdout
