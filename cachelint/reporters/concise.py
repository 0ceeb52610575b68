"""One line per finding, like ruff's ``concise`` format: ``path:line:col: CODE [*] message``.

``[*]`` marks a finding ``--fix`` would fix. The summary of the text format follows (counts,
fixable count, suppressed and scan errors), without the code frames and notes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TextIO

from rich.text import Text

from cachelint.finding import Finding
from cachelint.registry import Rule
from cachelint.reporters import is_fixable, printable, sorted_findings
from cachelint.reporters.text import SEVERITY_STYLE, emit, render_summary


def line(finding: Finding, fixable: bool) -> Text:
    loc = finding.location
    return Text.assemble(
        (printable(loc.path), "bold"),
        f":{loc.line}:{loc.col}: ",
        (finding.code, SEVERITY_STYLE[finding.severity]),
        (" [*]", "bold cyan") if fixable else "",
        " ",
        printable(finding.message),
    )


def write(
    findings: Sequence[Finding],
    rules: Mapping[str, Rule],
    stream: TextIO,
    *,
    color: bool | None = None,
    errors: Sequence[str] = (),
    suppressed: int = 0,
) -> None:
    ordered = sorted_findings(findings)
    lines = [line(finding, is_fixable(finding, rules)) for finding in ordered]
    emit([*lines, *render_summary(ordered, rules, errors, suppressed)], stream, color)
