"""Conventional CLI behaviour, as ruff's: --format concise, the [*] fixable marker and count,
--show-fixes, --statistics with --format json, --fail-on, --stdin-filename, --add-noqa, colors
(--color, NO_COLOR, FORCE_COLOR), template-extensions, extend, --show-settings, CWE ids."""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner

from cachelint.cli import cli, resolve_color
from cachelint.config import ConfigError, load_config
from cachelint.finding import Finding, Location, Severity, Span
from cachelint.fixing import FixReport, _with_noqa
from cachelint.reading import clear_overrides
from tests.helpers import write_tree

PRIVATE = """from django.contrib.auth.decorators import login_required
from django.views.decorators.cache import cache_page


@login_required
@cache_page(60)
def dashboard(request):
    return None
"""
VARY_OUTSIDE = """from django.views.decorators.cache import cache_page
from django.views.decorators.vary import vary_on_headers


@vary_on_headers("Accept-Language")
@cache_page(60)
def home(request):
    return None
"""
REDIS = """CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
    },
}
"""
CL101 = (
    "app/private.py:6:2: CL101 `cache_page` on a login-protected view: the first user's response is "
    "stored and served to every later user"
)
CL103 = (
    "app/views.py:5:2: CL103 [*] `vary_on_headers` is applied outside `cache_page`: the response is "
    "cached before the Vary header is added, so the cache ignores it"
)
CL301 = (
    "mysite/settings.py:3:9: CL301 [*] Redis cache `default` has no `SOCKET_CONNECT_TIMEOUT` or "
    "`SOCKET_TIMEOUT`: when Redis stalls, every request that touches the cache hangs"
)


@pytest.fixture
def project(tmp_path, monkeypatch):
    write_tree(
        tmp_path,
        {
            "manage.py": "",
            "app/__init__.py": "",
            "app/private.py": PRIVATE,
            "app/views.py": VARY_OUTSIDE,
            "mysite/settings.py": REDIS,
        },
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    yield tmp_path
    clear_overrides()


def invoke(*args, input=None, env=None, select="CL101,CL103,CL301"):
    return CliRunner().invoke(cli, ["check", "--no-cache", "--select", select, *args], input=input, env=env)


# -- --format concise and the fixable marker ----------------------------------------


def test_concise_is_one_line_per_finding_with_fixable_marker_and_summary(project):
    result = invoke("--format", "concise", ".")
    assert result.exit_code == 1
    assert result.stdout == "\n".join(
        [
            CL101,
            CL103,
            CL301,
            "1  CL101  cache-page-on-authenticated-view",
            "1  CL103  vary-applied-outside-cache-page",
            "1  CL301  redis-cache-without-socket-timeouts",
            "Found 2 errors and 1 warning.",
            "[*] 2 fixable with `cachelint check --fix`.",
            "",
        ]
    )


def test_text_marks_fixable_findings_and_counts_them(project):
    result = invoke(".")
    lines = result.stdout.splitlines()
    assert CL103 in lines and CL301 in lines and CL101 in lines  # headers, as in concise
    assert lines[-1] == "[*] 2 fixable with `cachelint check --fix`."
    only_unfixable = CliRunner().invoke(cli, ["check", "--no-cache", "--select", "CL101", "."])
    assert only_unfixable.exit_code == 1
    assert "fixable" not in only_unfixable.stdout and "[*]" not in only_unfixable.stdout


def test_concise_escapes_control_characters(project):
    (project / "app" / "private.py").rename(project / "app" / "pri\x1bvate.py")
    result = invoke("--format", "concise", ".")
    assert result.stdout.startswith("app/pri\\x1bvate.py:6:2: CL101 ")


# -- --show-fixes -------------------------------------------------------------------


def test_show_fixes_with_fix_lists_what_was_fixed(project):
    result = invoke("--fix", "--show-fixes", "--format", "concise", ".")
    assert result.exit_code == 1  # CL101 is left
    assert result.stdout.startswith(
        "Fixed 2 findings:\n"
        "- app/views.py:\n"
        "    1 × CL103 (vary-applied-outside-cache-page)\n"
        "- mysite/settings.py:\n"
        "    1 × CL301 (redis-cache-without-socket-timeouts)\n"
        "\n" + CL101 + "\n"
    )


def test_show_fixes_without_fix_prints_the_diff_after_the_report_and_changes_nothing(project):
    result = invoke("--show-fixes", "--format", "concise", ".")
    assert result.exit_code == 1
    report, diff = result.stdout.split("--- a/app/views.py\n", 1)
    assert report.endswith("[*] 2 fixable with `cachelint check --fix`.\n")
    assert "+@cache_page(60)\n" in diff and "--- a/mysite/settings.py\n" in diff
    assert (project / "app" / "views.py").read_text() == VARY_OUTSIDE


def test_show_fixes_keeps_a_json_report_parseable(project):
    result = invoke("--show-fixes", "--format", "json", ".")
    json.loads(result.stdout)  # the diff went to stderr
    assert "--- a/app/views.py" in result.stderr


# -- --statistics --------------------------------------------------------------------


def test_statistics_honours_format_json(project):
    result = invoke("--statistics", "--format", "json", ".")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [
        {"code": "CL101", "name": "cache-page-on-authenticated-view", "count": 1, "fixable": False, "fixable_count": 0},
        {"code": "CL103", "name": "vary-applied-outside-cache-page", "count": 1, "fixable": True, "fixable_count": 1},
        {"code": "CL301", "name": "redis-cache-without-socket-timeouts", "count": 1, "fixable": True, "fixable_count": 1},
    ]
    clean = invoke("--statistics", "--format", "json", ".", select="CL104")
    assert (clean.exit_code, json.loads(clean.stdout)) == (0, [])


def test_statistics_text_marks_fixable_codes_and_refuses_other_formats(project):
    result = invoke("--statistics", ".")
    assert result.stdout == (
        "1  CL101  cache-page-on-authenticated-view\n"
        "1  CL103  [*] vary-applied-outside-cache-page\n"
        "1  CL301  [*] redis-cache-without-socket-timeouts\n"
    )
    refused = invoke("--statistics", "--format", "sarif", ".")
    assert refused.exit_code == 2
    assert "--statistics: --format sarif is not supported" in refused.stderr


# -- --fail-on ------------------------------------------------------------------------


def test_fail_on_error_exits_0_on_warnings_but_still_reports_them(project):
    result = invoke("--fail-on", "error", "--format", "concise", ".", select="CL301")
    assert result.exit_code == 0
    assert CL301 in result.stdout
    assert invoke("--fail-on", "warning", ".", select="CL301").exit_code == 1
    assert invoke(".", select="CL301").exit_code == 1  # the default: any finding fails
    assert invoke("--fail-on", "error", ".").exit_code == 1  # CL101, CL103 are errors
    assert invoke("--fail-on", "nope", ".").exit_code == 2


# -- --stdin-filename -----------------------------------------------------------------


def test_stdin_filename_checks_stdin_as_that_file_in_its_project(project):
    fixed = PRIVATE.replace("@login_required\n", "")
    result = invoke("--format", "concise", "--stdin-filename", "app/private.py", input=fixed, select="CL101")
    assert (result.exit_code, result.stdout) == (0, "All checks passed!\n")
    assert (project / "app" / "private.py").read_text() == PRIVATE  # the disk copy is untouched
    # A file that does not exist yet, and its code frame quoted from stdin, not from disk.
    result = invoke("--stdin-filename", "app/new.py", input="\n" + PRIVATE, select="CL101")
    assert result.exit_code == 1
    assert "app/new.py:7:2: CL101 " in result.stdout
    assert "7 | @cache_page(60)" in result.stdout
    assert not (project / "app" / "new.py").exists()


def test_stdin_filename_uses_the_project_from_disk(project):
    # The URLconf on disk points at the view read from stdin; a template on disk is its evidence.
    write_tree(
        project,
        {
            "app/templates/app/page.html": "<p>{{ user.username }}</p>\n",
            "app/urls.py": "from django.urls import path\nfrom app import pages\nurlpatterns = [path('', pages.page)]\n",
        },
    )
    source = (
        "from django.shortcuts import render\n"
        "from django.views.decorators.cache import cache_page\n\n\n"
        "@cache_page(60)\n"
        "def page(request):\n"
        "    return render(request, 'app/page.html')\n"
    )
    result = CliRunner().invoke(
        cli, ["check", "--no-cache", "--select", "CL102", "--format", "json", "--stdin-filename", "app/pages.py"], input=source
    )
    findings = json.loads(result.stdout)["findings"]
    assert [(f["code"], f["location"]["path"], f["location"]["line"]) for f in findings] == [("CL102", "app/pages.py", 5)]
    assert any(r["location"]["path"] == "app/templates/app/page.html" for r in findings[0]["related"])


def test_stdin_filename_refuses_paths_and_rewriting_options(project):
    for extra in (["."], ["--fix"], ["--add-noqa"], ["--diff"]):
        result = invoke("--stdin-filename", "app/x.py", *extra, input="")
        assert result.exit_code == 2, extra
        assert "--stdin-filename" in result.stderr


# -- --add-noqa -----------------------------------------------------------------------


def test_add_noqa_silences_every_finding_and_keeps_line_ends(project):
    (project / "app" / "private.py").write_bytes(PRIVATE.replace("\n", "\r\n").encode())
    result = invoke("--add-noqa", ".")
    assert result.exit_code == 0, result.output
    assert "added 3 noqa directives in 3 files" in result.stderr
    assert (project / "app" / "private.py").read_bytes() == PRIVATE.replace(
        "@cache_page(60)\n", "@cache_page(60)  # noqa: CL101\n"
    ).replace("\n", "\r\n").encode()
    assert '        "BACKEND": "django_redis.cache.RedisCache",  # noqa: CL301\n' in (project / "mysite" / "settings.py").read_text()
    again = invoke("--format", "concise", ".")
    assert again.exit_code == 0
    assert "3 findings suppressed by inline comments." in again.stdout


def test_add_noqa_extends_an_existing_noqa_comment(project):
    (project / "app" / "private.py").write_text(PRIVATE.replace("@cache_page(60)\n", "@cache_page(60)  # noqa: E501\n"))
    assert invoke("--add-noqa", ".", select="CL101").exit_code == 0
    assert "@cache_page(60)  # noqa: CL101, E501\n" in (project / "app" / "private.py").read_text()


def test_add_noqa_in_templates_adds_a_comment_that_renders_nothing(project):
    write_tree(project, {"app/templates/app/t.html": "{% load cache %}\n{% cache 600 nav %}x{% endcache %}\n"})
    assert invoke("--add-noqa", ".", select="CL201").exit_code == 0
    assert (project / "app/templates/app/t.html").read_text() == (
        "{% load cache %}\n{% cache 600 nav %}x{% endcache %}{# noqa: CL201 #}\n"
    )


def _finding(path, line, end_line=0, code="CL101"):
    return Finding(code, Severity.ERROR, "m", Location(path, Span(line, 1, end_line or line, 2)))


def test_add_noqa_refuses_lines_inside_strings_and_continued_lines():
    text = 'x = """\nstill a string\n"""\ny = 1 + \\\n    2\nz = 3\n'
    report = FixReport()
    new, added = _with_noqa("a.py", text, [_finding("a.py", 2), _finding("a.py", 4), _finding("a.py", 6)], report)
    assert added == 1
    assert new == text.replace("z = 3\n", "z = 3  # noqa: CL101\n")
    assert report.refused == [
        "a.py:2: CL101 noqa not added: the line ends inside a string or a continued line",
        "a.py:4: CL101 noqa not added: the line ends inside a string or a continued line",
    ]
    # A multi-line finding gets the comment on its first line that can hold one.
    new, added = _with_noqa("a.py", text, [_finding("a.py", 4, end_line=5)], FixReport())
    assert (added, new) == (1, text.replace("    2\n", "    2  # noqa: CL101\n"))


def test_add_noqa_refuses_a_template_comment_inside_verbatim():
    from cachelint.fixing import FixRefused

    text = "{% verbatim %}\n{% cache 1 x %}{% endcache %}\n{% endverbatim %}\n"
    with pytest.raises(FixRefused, match="verbatim"):
        _with_noqa("t.html", text, [_finding("t.html", 2, code="CL201")], FixReport())


def test_add_noqa_refuses_read_only_files(project):
    path = project / "app" / "private.py"
    path.chmod(0o444)
    try:
        result = invoke("--add-noqa", ".", select="CL101")
    finally:
        path.chmod(0o644)
    assert result.exit_code == 1  # the finding is still there
    assert "app/private.py: noqa not added: the file is read-only" in result.stderr
    assert path.read_text() == PRIVATE


# -- colors ---------------------------------------------------------------------------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("flag", "env", "tty", "expected"),
    [
        (None, {}, False, False),
        (None, {}, True, True),
        (None, {"FORCE_COLOR": "1"}, False, True),
        (None, {"FORCE_COLOR": "0"}, False, False),
        (None, {"FORCE_COLOR": ""}, False, False),
        (None, {"NO_COLOR": "1"}, True, False),
        (None, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False, False),
        (True, {"NO_COLOR": "1"}, False, True),
        (False, {"FORCE_COLOR": "1"}, True, False),
    ],
)
def test_resolve_color(flag, env, tty, expected):
    assert resolve_color(flag, _Tty() if tty else io.StringIO(), env) is expected


def test_force_color_colors_piped_output_and_no_color_wins(project):
    forced = invoke("--format", "concise", ".", env={"FORCE_COLOR": "1"})
    assert "\x1b[" in forced.stdout
    both = invoke("--format", "concise", ".", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b[" not in both.stdout
    assert "\x1b[" not in invoke("--format", "concise", ".").stdout


# -- configuration: template-extensions, extend, --show-settings ---------------------


def test_template_extensions_are_configurable(project):
    write_tree(project, {"app/templates/app/t.jinja": "{% load cache %}\n{% cache 600 nav %}x{% endcache %}\n"})
    assert invoke(".", select="CL201").exit_code == 0  # .jinja is not a template by default
    (project / "pyproject.toml").write_text('[tool.cachelint]\ntemplate-extensions = [".html", ".jinja"]\n')
    result = invoke("--format", "concise", ".", select="CL201")
    assert result.stdout.startswith("app/templates/app/t.jinja:2:1: CL201 ")


@pytest.mark.parametrize("value", ['[]', '["html"]', '[".py"]', '[".h/tml"]', '"html"'])
def test_bad_template_extensions_are_one_error(project, value):
    (project / "pyproject.toml").write_text(f"[tool.cachelint]\ntemplate-extensions = {value}\n")
    result = invoke(".")
    assert result.exit_code == 2
    assert "`template-extensions`" in result.stderr


def test_extend_reads_the_base_configuration_first(tmp_path):
    write_tree(
        tmp_path,
        {
            "pyproject.toml": '[tool.cachelint]\nignore = ["CL201"]\njobs = 3\nstatic-url = "/s/"\n',
            "sub/pyproject.toml": '[tool.cachelint]\nextend = "../pyproject.toml"\njobs = 2\n',
            "other/cachelint.toml": 'extend = "../sub/pyproject.toml"\nstatic-url = "/o/"\n',
        },
    )
    config = load_config(tmp_path / "sub")
    assert (config.ignore, config.jobs, config.static_url) == (["CL201"], 2, "/s/")
    config = load_config(tmp_path, tmp_path / "other" / "cachelint.toml")
    assert (config.ignore, config.jobs, config.static_url) == (["CL201"], 2, "/o/")


def test_extend_errors(tmp_path):
    write_tree(
        tmp_path,
        {
            "a/pyproject.toml": '[tool.cachelint]\nextend = "../b/pyproject.toml"\n',
            "b/pyproject.toml": '[tool.cachelint]\nextend = "../a/pyproject.toml"\n',
            "c/pyproject.toml": '[tool.cachelint]\nextend = "missing.toml"\n',
            "d/pyproject.toml": "[tool.cachelint]\nextend = 3\n",
            "e/pyproject.toml": '[tool.cachelint]\nextend = "../f/pyproject.toml"\n',
            "f/pyproject.toml": '[tool.cachelint]\nbogus = 1\n',
        },
    )
    with pytest.raises(ConfigError, match="`extend` cycle"):
        load_config(tmp_path / "a")
    with pytest.raises(ConfigError, match="missing.toml: config file not found"):
        load_config(tmp_path / "c")
    with pytest.raises(ConfigError, match="`extend` must be the path"):
        load_config(tmp_path / "d")
    with pytest.raises(ConfigError, match="f/pyproject.toml: unknown key `bogus`"):
        load_config(tmp_path / "e")  # the base's own errors name the base


def test_show_settings_prints_the_resolved_configuration_files_and_rules(project):
    write_tree(
        project,
        {
            "pyproject.toml": '[tool.cachelint]\nignore = ["CL201"]\njobs = 3\n',
            "sub/pyproject.toml": '[tool.cachelint]\nextend = "../pyproject.toml"\njobs = 2\n',
        },
    )
    result = CliRunner().invoke(cli, ["check", "--show-settings", "--select", "CL101,CL2", "sub"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "[tool.cachelint]"
    assert "jobs = 2" in lines and "ignore = ['CL201']" in lines
    assert "template-extensions = ['.html', '.htm', '.txt', '.xml']" in lines
    assert not any(line.startswith(("extend =", "sources")) for line in lines)
    assert "# configuration files: sub/pyproject.toml, pyproject.toml" in lines
    # (the Django settings analysis of --show-settings may follow: a section of its own)
    assert "# enabled rules (7): CL101, CL202, CL203, CL204, CL205, CL206, CL207" in lines
    (project / "pyproject.toml").write_text("[tool.black]\nline-length = 100\n")
    (project / "sub" / "pyproject.toml").unlink()
    bare = CliRunner().invoke(cli, ["check", "--show-settings", "."]).stdout.splitlines()
    assert "# configuration files: (none: defaults)" in bare


# -- CWE ids --------------------------------------------------------------------------


def test_cwe_ids_on_the_leak_rules_in_sarif_tags_and_rule_docs(project):
    from cachelint.registry import all_rules

    rules = all_rules()
    assert rules["CL101"].cwe == (524,)
    assert rules["CL106"].cwe == (525,)
    assert rules["CL105"].cwe == (524, 525)
    assert rules["CL108"].cwe == rules["CL203"].cwe == (352,)
    assert rules["CL201"].cwe == ()  # not a leak
    assert all(rule.cwe for rule in rules.values() if rule.security_severity and "privacy" in rule.tags)
    result = invoke("--format", "sarif", ".")
    driver = json.loads(result.stdout)["runs"][0]["tool"]["driver"]
    tags = {rule["id"]: rule["properties"]["tags"] for rule in driver["rules"]}
    assert "external/cwe/cwe-524" in tags["CL101"]
    assert not any(t.startswith("external/cwe/") for t in tags["CL301"])
    shown = CliRunner().invoke(cli, ["rule", "CL108"]).stdout
    assert "Weakness: [CWE-352](https://cwe.mitre.org/data/definitions/352.html)." in shown
