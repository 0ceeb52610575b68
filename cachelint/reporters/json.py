"""Machine-readable output; the schema is documented in docs/json-format.md."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from cachelint import __version__
from cachelint.finding import Finding, Location
from cachelint.registry import Rule
from cachelint.reporters import encodable, sorted_findings


def write(
    findings: Sequence[Finding],
    rules: Mapping[str, Rule],
    stream: TextIO,
    *,
    errors: Sequence[str] = (),
) -> None:
    json.dump(encodable(build(findings, rules, errors=errors)), stream, indent=2)
    stream.write("\n")


def build(
    findings: Sequence[Finding], rules: Mapping[str, Rule], *, errors: Sequence[str] = ()
) -> dict[str, Any]:
    ordered = sorted_findings(findings)
    by_code = Counter(f.code for f in ordered)
    return {
        "version": __version__,
        "findings": [_finding(f, rules[f.code]) for f in ordered],
        "errors": list(errors),
        "summary": {"total": len(ordered), "by_code": dict(sorted(by_code.items()))},
    }


def _finding(finding: Finding, rule: Rule) -> dict[str, Any]:
    return {
        "code": finding.code,
        "slug": rule.slug,
        "severity": finding.severity.value,
        "message": finding.message,
        "hint": finding.hint,
        "location": _location(finding.location),
        "related": [
            {"label": evidence.label, "location": _location(evidence.location)}
            for evidence in finding.related
        ],
    }


def _location(location: Location) -> dict[str, Any]:
    span = location.span
    return {
        "path": location.path,
        "line": span.line,
        "column": span.col,
        "end_line": span.end_line,
        "end_column": span.end_col,
    }
