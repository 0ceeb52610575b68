"""Tests for the CI output formats (github, gitlab, json-lines) and ``write_statistics``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cachelint.cli import cli
from cachelint.finding import Evidence, Finding, Location, Severity, Span
from cachelint.registry import Rule
from cachelint.reporters import OutputFormat, write_report, write_statistics
from cachelint.reporters.github import escape_data, escape_property
from tests.helpers import stub_rule, write_tree

LeakRule = stub_rule(
    "CL101",
    "cache-page-on-authenticated-view",
    Severity.ERROR,
    "`cache_page` on a view that requires login",
    "Checks for `cache_page` on views that require a logged-in user.",
    "The first user's page is served to everyone.",
    security_severity=8,
)
PlainErrorRule = stub_rule(
    "CL110", "plain-error", Severity.ERROR, "An error without a security severity", "Nothing.", "Nothing."
)
FragmentRule = stub_rule(
    "CL202",
    "user-in-cached-fragment",
    Severity.WARNING,
    "`request.user` printed inside `{% cache %}`",
    "Checks for user data inside cached template fragments.",
    "The fragment is cached once and shown to every user.",
)


RULES: dict[str, Rule] = {"CL202": FragmentRule(), "CL110": PlainErrorRule(), "CL101": LeakRule()}

VIEWS = "\n".join(
    [f"# line {n}" for n in range(1, 11)]
    + ["@login_required", "@cache_page(60)", "def profile(request):", "    return render()", ""]
)
TEMPLATE = "{% load cache %}\n{% cache 500 sidebar %}\n\t{{ request.user.username }}\n{% endcache %}\n"

# A message and a path full of characters the workflow command syntax gives a meaning to.
TRICKY_FINDING = Finding(
    code="CL101",
    severity=Severity.ERROR,
    message="100% cached: user, session\nand CSRF token",
    location=Location("app/a,b.py", Span(3, 5, 3, 20)),
    hint="Use `cache_control(private=True)`, or: vary_on_cookie",
    related=(Evidence(Location("app/a,b.py", Span(2, 2, 2, 16)), "login required here"),),
)
VIEW_FINDING = Finding(
    code="CL101",
    severity=Severity.ERROR,
    message="`cache_page` on a view that requires login",
    location=Location("app/views.py", Span(12, 2, 12, 16)),
    hint="Mark the response private",
)
TEMPLATE_FINDING = Finding(
    code="CL202",
    severity=Severity.WARNING,
    message="`request.user` printed inside `{% cache %}`",
    location=Location("templates/profile.html", Span(2, 1, 4, 15)),  # spans several lines
)
FINDINGS = [TEMPLATE_FINDING, VIEW_FINDING, TRICKY_FINDING]


@pytest.fixture(autouse=True)
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_tree(tmp_path, {"app/views.py": VIEWS, "templates/profile.html": TEMPLATE})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def report(fmt: str, findings=FINDINGS, rules=RULES, **kwargs) -> str:
    stream = io.StringIO()
    write_report(OutputFormat(fmt), findings, rules, stream, **kwargs)
    return stream.getvalue()


def test_new_formats_are_enum_members() -> None:
    assert OutputFormat("github") is OutputFormat.GITHUB
    assert OutputFormat("gitlab") is OutputFormat.GITLAB
    assert OutputFormat("json-lines") is OutputFormat.JSON_LINES
    assert str(OutputFormat.JSON_LINES) == "json-lines"


# -- github -------------------------------------------------------------------------


def test_escape_data_and_property() -> None:
    text = "50% off: a, b\r\nc %0A"
    assert escape_data(text) == "50%25 off: a, b%0D%0Ac %250A"
    assert escape_property(text) == "50%25 off%3A a%2C b%0D%0Ac %250A"


EXPECTED_GITHUB = (
    "::error file=app/a%2Cb.py,line=3,col=5,endLine=3,endColumn=20,"
    "title=CL101 cache-page-on-authenticated-view"
    # A line break inside the message is scanned text, shown as an escape like the text reporter's;
    # the lines the reporter joins are %0A.
    "::100%25 cached: user, session\\nand CSRF token"
    "%0Arelated: app/a,b.py:2:2: login required here"
    "%0Ahelp: Use `cache_control(private=True)`, or: vary_on_cookie\n"
    "::error file=app/views.py,line=12,col=2,endLine=12,endColumn=16,"
    "title=CL101 cache-page-on-authenticated-view"
    "::`cache_page` on a view that requires login%0Ahelp: Mark the response private\n"
    # Several lines: the runner takes no columns then.
    "::warning file=templates/profile.html,line=2,endLine=4,title=CL202 user-in-cached-fragment"
    "::`request.user` printed inside `{%25 cache %25}`\n"
    "::error::cachelint: bad.py:1: syntax error, 100%25 sure\\nnext\n"
)


def test_github_exact_output() -> None:
    out = report("github", errors=["bad.py:1: syntax error, 100% sure\nnext"])
    assert out == EXPECTED_GITHUB


def test_github_is_deterministic() -> None:
    assert report("github") == report("github", findings=list(reversed(FINDINGS)))


def test_github_every_finding_is_one_line() -> None:
    lines = report("github").splitlines()
    assert len(lines) == len(FINDINGS)
    assert all(line.startswith(("::error ", "::warning ")) for line in lines)


def test_github_empty_span_has_no_end_column_and_colon_in_title_is_escaped() -> None:
    class OddSlug(LeakRule):
        slug = "odd:slug,here"

    finding = Finding("CL101", Severity.ERROR, "m", Location("x.py", Span(7)))
    out = report("github", findings=[finding], rules={"CL101": OddSlug()})
    assert out == "::error file=x.py,line=7,col=1,endLine=7,title=CL101 odd%3Aslug%2Chere::m\n"


def test_github_control_characters_cannot_forge_commands_or_drive_the_terminal() -> None:
    # The reproduction: a newline in a file name and in a CACHES alias started a line the runner
    # executes; an ANSI sequence reached the log as is.
    finding = Finding(
        "CL101",
        Severity.ERROR,
        "alias `x\n::error file=README.md,line=1::X` \x1b[31mred\x1b]8;;http://e\x07 \u202e",
        Location("app/x\n::error file=README.md,line=1::Y.py", Span(1)),
        hint="carriage\rreturn",
        related=(Evidence(Location("a\u2028b.py", Span(1)), "label\x85"),),
    )
    out = report("github", findings=[finding], errors=["e\n::warning::Z\x1b[0m"])
    assert out.splitlines() == [
        "::error file=app/x\\n%3A%3Aerror file=README.md%2Cline=1%3A%3AY.py,line=1,col=1,endLine=1,"
        "title=CL101 cache-page-on-authenticated-view"
        "::alias `x\\n::error file=README.md,line=1::X` \\x1b[31mred\\x1b]8;;http://e\\x07 \\u202e"
        "%0Arelated: a\\u2028b.py:1:1: label\\x85%0Ahelp: carriage\\rreturn",
        "::error::cachelint: e\\n::warning::Z\\x1b[0m",
    ]


def test_github_empty() -> None:
    assert report("github", findings=[]) == ""


# -- gitlab -------------------------------------------------------------------------


def gitlab(**kwargs) -> list[dict]:
    out = report("gitlab", **kwargs)
    assert out.endswith("]\n")
    return json.loads(out)


def test_gitlab_structure() -> None:
    out = report("gitlab")
    assert out.startswith('[\n  {\n    "description": ')  # indent 2
    issues = json.loads(out)
    for issue in issues:
        assert len(issue.pop("fingerprint")) == 64
    assert issues == [
        {
            "description": "CL101: 100% cached: user, session\nand CSRF token",
            "check_name": "CL101",
            "severity": "critical",
            "location": {"path": "app/a,b.py", "lines": {"begin": 3, "end": 3}},
        },
        {
            "description": "CL101: `cache_page` on a view that requires login",
            "check_name": "CL101",
            "severity": "critical",
            "location": {"path": "app/views.py", "lines": {"begin": 12, "end": 12}},
        },
        {
            "description": "CL202: `request.user` printed inside `{% cache %}`",
            "check_name": "CL202",
            "severity": "minor",
            "location": {"path": "templates/profile.html", "lines": {"begin": 2, "end": 4}},
        },
    ]


def test_gitlab_severity_mapping() -> None:
    findings = [
        Finding("CL101", Severity.ERROR, "leak", Location("a.py", Span(1))),
        Finding("CL110", Severity.ERROR, "plain", Location("b.py", Span(1))),
        Finding("CL202", Severity.WARNING, "warn", Location("c.py", Span(1))),
        # The finding's own severity counts (configuration may change it), not the rule's.
        Finding("CL101", Severity.WARNING, "downgraded", Location("d.py", Span(1))),
    ]
    assert [i["severity"] for i in gitlab(findings=findings)] == ["critical", "major", "minor", "minor"]


def fingerprints(**kwargs) -> list[str]:
    return [issue["fingerprint"] for issue in gitlab(**kwargs)]


def test_gitlab_fingerprints_stable_and_unique(project: Path) -> None:
    first = fingerprints()
    assert first == fingerprints()  # across runs
    assert first == fingerprints(findings=list(reversed(FINDINGS)))  # whatever the input order
    assert len(set(first)) == len(first)

    # Moving the view down (and reindenting it) keeps its fingerprint.
    (project / "app" / "views.py").write_text("\n\n" + VIEWS.replace("@cache", "    @cache"))
    moved = Finding(
        VIEW_FINDING.code,
        VIEW_FINDING.severity,
        VIEW_FINDING.message,
        Location("app/views.py", Span(14, 6, 14, 20)),
        hint=VIEW_FINDING.hint,
    )
    assert fingerprints(findings=[moved]) == [first[1]]


def test_gitlab_fingerprints_unique_on_identical_lines(project: Path) -> None:
    (project / "app" / "twice.py").write_text("@cache_page(60)\n@cache_page(60)\n")
    twins = [Finding("CL101", Severity.ERROR, "m", Location("app/twice.py", Span(n))) for n in (2, 1)]
    hashes = fingerprints(findings=twins)
    assert len(set(hashes)) == 2
    assert hashes == fingerprints(findings=twins[::-1])
    assert hashes == fingerprints(findings=twins)


def test_gitlab_fingerprint_falls_back_to_message_for_unreadable_files() -> None:
    gone = [
        Finding("CL101", Severity.ERROR, message, Location("gone.py", Span(1)))
        for message in ("first", "second")
    ]
    hashes = fingerprints(findings=gone)
    assert len(set(hashes)) == 2


def test_gitlab_fingerprints_match_sarif() -> None:
    # One identity per finding, whichever CI (code scanning or GitLab) shows it.
    results = json.loads(report("sarif"))["runs"][0]["results"]
    assert fingerprints() == [r["partialFingerprints"]["primaryLocationLineHash"] for r in results]


def test_gitlab_empty() -> None:
    assert report("gitlab", findings=[]) == "[]\n"


# -- json-lines ---------------------------------------------------------------------


def test_json_lines_one_object_per_finding() -> None:
    out = report("json-lines")
    lines = out.splitlines()
    assert out.endswith("\n")
    assert len(lines) == len(FINDINGS)
    parsed = [json.loads(line) for line in lines]
    # Same objects, in the same order, as the json reporter's findings.
    assert parsed == json.loads(report("json"))["findings"]
    assert all(" " not in line.split('"')[0] for line in lines)  # compact separators
    assert lines[0].startswith('{"code":"CL101","slug":"cache-page-on-authenticated-view",')


def test_json_lines_is_deterministic_and_empty_without_findings() -> None:
    assert report("json-lines") == report("json-lines", findings=list(reversed(FINDINGS)))
    assert report("json-lines", findings=[]) == ""
    assert report("json-lines", findings=[], errors=["bad.py: syntax error"]) == ""


# -- statistics ---------------------------------------------------------------------


def statistics(findings, rules=RULES) -> str:
    stream = io.StringIO()
    write_statistics(findings, rules, stream)
    return stream.getvalue()


def test_statistics_most_frequent_first_then_by_code() -> None:
    many = [Finding("CL202", Severity.WARNING, f"m{n}", Location("t.html", Span(n))) for n in range(1, 11)]
    findings = [*FINDINGS, *many, Finding("CL110", Severity.ERROR, "m", Location("z.py", Span(1)))]
    assert statistics(findings) == (
        "11  CL202  user-in-cached-fragment\n"
        " 2  CL101  cache-page-on-authenticated-view\n"
        " 1  CL110  plain-error\n"
    )


def test_statistics_unknown_rule_and_empty() -> None:
    finding = Finding("CL999", Severity.ERROR, "m", Location("z.py", Span(1)))
    assert statistics([finding], rules={}) == "1  CL999\n"
    assert statistics([]) == ""


# -- the command line and lazy imports ---------------------------------------------

LEAK_VIEWS = """\
from django.contrib.auth.decorators import login_required
from django.views.decorators.cache import cache_page


@login_required
@cache_page(60)
def dashboard(request):
    return None
"""


@pytest.mark.parametrize("fmt", ["github", "gitlab", "json-lines"])
def test_cli_accepts_new_formats(project: Path, fmt: str) -> None:
    write_tree(project, {"leak/app/__init__.py": "", "leak/app/views.py": LEAK_VIEWS})
    runner = CliRunner(env={"NO_COLOR": "1"})
    result = runner.invoke(cli, ["check", "--no-cache", "--format", fmt, "leak"], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    out = result.stdout
    if fmt == "github":
        assert out.startswith("::error file=leak/app/views.py,line=6,col=2,")
    elif fmt == "gitlab":
        [issue] = json.loads(out)
        assert (issue["check_name"], issue["location"]["path"]) == ("CL101", "leak/app/views.py")
    else:
        [line] = out.splitlines()
        assert json.loads(line)["location"]["line"] == 6


def test_ci_format_modules_are_imported_lazily() -> None:
    code = (
        "import sys, cachelint.reporters; "
        "new = {'cachelint.reporters.github', 'cachelint.reporters.gitlab', "
        "'cachelint.reporters.json_lines'}; "
        "assert not new & set(sys.modules), sorted(new & set(sys.modules))"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])
