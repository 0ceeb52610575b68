"""GitHub Actions workflow commands: one ``::error``/``::warning`` annotation per finding.

Printed in a workflow step, each line becomes an annotation on the pull request's diff and in
the run summary, with no SARIF upload and no extra permissions. The runner parses the
command line itself, so data is escaped exactly as ``@actions/core`` does it: ``%``, CR and
LF in the message; additionally ``:`` and ``,`` in property values, where they would end the
property or the property list. Before that, control characters of scanned text (a file name, a
cache alias) are shown as escapes like the text reporter's, so they reach the log as text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TextIO

from cachelint.finding import Finding, Severity
from cachelint.registry import Rule
from cachelint.reporters import printable, sorted_findings

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning"}


def write(
    findings: Sequence[Finding],
    rules: Mapping[str, Rule],
    stream: TextIO,
    *,
    errors: Sequence[str] = (),
) -> None:
    for finding in sorted_findings(findings):
        stream.write(command(finding, rules[finding.code]) + "\n")
    for error in errors:
        stream.write(f"::error::{escape_data('cachelint: ' + printable(error))}\n")


def command(finding: Finding, rule: Rule) -> str:
    span = finding.location.span
    properties = [("file", printable(finding.location.path)), ("line", str(span.line))]
    # The runner rejects columns on an annotation spanning several lines, so they are only
    # given for one-line spans (and endColumn only when the span has an extent).
    if span.end_line == span.line:
        properties.append(("col", str(span.col)))
        properties.append(("endLine", str(span.end_line)))
        if span.end_col > span.col:
            properties.append(("endColumn", str(span.end_col)))
    else:
        properties.append(("endLine", str(span.end_line)))
    properties.append(("title", f"{finding.code} {rule.slug}"))
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{COMMAND[finding.severity]} {rendered}::{escape_data(_message(finding))}"


def _message(finding: Finding) -> str:
    # The same notes, in the same order, as the text reporter prints under a finding.
    lines = [finding.message]
    lines.extend(f"related: {evidence.location}: {evidence.label}" for evidence in finding.related)
    if finding.hint:
        lines.append(f"help: {finding.hint}")
    return "\n".join(printable(line) for line in lines)


def escape_data(text: str) -> str:
    """Escape a command's message (``escapeData`` in ``@actions/core``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (``escapeProperty`` in ``@actions/core``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
