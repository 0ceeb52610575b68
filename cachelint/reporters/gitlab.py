"""GitLab Code Quality report (the ``artifacts:reports:codequality`` JSON).

GitLab shows these in the merge request widget and diff, and compares the report of the
source branch with the target branch's by ``fingerprint``: a fingerprint must be unique in
the report and stay the same while the finding does. It is the very hash SARIF uses as
``primaryLocationLineHash`` (code, path, whitespace-normalized source line, occurrence
index), so a finding has one identity whichever CI shows it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from cachelint.finding import Finding, Severity
from cachelint.registry import Rule
from cachelint.reporters import SourceLines, encodable, sorted_findings
from cachelint.reporters.sarif import _fingerprints as line_fingerprints


def write(
    findings: Sequence[Finding],
    rules: Mapping[str, Rule],
    stream: TextIO,
    *,
    errors: Sequence[str] = (),
) -> None:
    # Code Quality has no place for scan errors: the CLI prints them on stderr and exits 2.
    json.dump(encodable(build(findings, rules)), stream, indent=2)
    stream.write("\n")


def build(findings: Sequence[Finding], rules: Mapping[str, Rule]) -> list[dict[str, Any]]:
    ordered = sorted_findings(findings)
    fingerprints = line_fingerprints(ordered, SourceLines())
    return [_issue(f, rules[f.code], fp) for f, fp in zip(ordered, fingerprints)]


def severity(finding: Finding, rule: Rule) -> str:
    """GitLab's scale is info, minor, major, critical, blocker."""
    if finding.severity is Severity.ERROR:
        return "critical" if rule.security_severity is not None else "major"
    return "minor"


def _issue(finding: Finding, rule: Rule, fingerprint: str) -> dict[str, Any]:
    span = finding.location.span
    return {
        "description": f"{finding.code}: {finding.message}",
        "check_name": finding.code,
        "fingerprint": fingerprint,
        "severity": severity(finding, rule),
        "location": {
            "path": finding.location.path,
            "lines": {"begin": span.line, "end": span.end_line},
        },
    }
