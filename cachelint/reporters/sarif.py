"""SARIF 2.1.0 output, shaped for GitHub code scanning.

GitHub builds alert titles and the "rule help" panel from ``tool.driver.rules``, ranks
security alerts by ``security-severity``, and matches alerts across pushes by
``partialFingerprints``, so all three are filled in here.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from cachelint import __version__
from cachelint.finding import Finding, Location
from cachelint.registry import Rule
from cachelint.reporters import SourceLines, encodable, sorted_findings

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/cachelint/cachelint"
DOCS_URL = "https://github.com/cachelint/cachelint/blob/main/rules/"  # + "CL101.md"
SRCROOT = "%SRCROOT%"


def write(
    findings: Sequence[Finding],
    rules: Mapping[str, Rule],
    stream: TextIO,
    *,
    errors: Sequence[str] = (),
    docs_url: str = DOCS_URL,
) -> None:
    json.dump(encodable(build(findings, rules, errors=errors, docs_url=docs_url)), stream, indent=2)
    stream.write("\n")


def build(
    findings: Sequence[Finding],
    rules: Mapping[str, Rule],
    *,
    errors: Sequence[str] = (),
    docs_url: str = DOCS_URL,
) -> dict[str, Any]:
    ordered_rules = [rules[code] for code in sorted(rules)]
    rule_index = {rule.code: i for i, rule in enumerate(ordered_rules)}
    ordered = sorted_findings(findings)
    fingerprints = _fingerprints(ordered, SourceLines())

    invocation: dict[str, Any] = {"executionSuccessful": not errors}
    if errors:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": error}} for error in errors
        ]
    run = {
        "tool": {
            "driver": {
                "name": "cachelint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(rule, docs_url) for rule in ordered_rules],
            }
        },
        "invocations": [invocation],
        # Result URIs are relative to the directory cachelint ran in (see artifact_location).
        "originalUriBaseIds": {SRCROOT: {"uri": Path.cwd().as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, rule_index[f.code], fp) for f, fp in zip(ordered, fingerprints)],
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def pascal_case(slug: str) -> str:
    """``cache-page-on-authenticated-view`` -> ``CachePageOnAuthenticatedView``."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_\s]+", slug))


def _rule(rule: Rule, docs_url: str) -> dict[str, Any]:
    level = rule.severity.value
    # SARIF wants unique tags; CWE ids as CodeQL writes them, which GitHub shows and filters by.
    tags = list(dict.fromkeys([*rule.tags, "cachelint", *(f"external/cwe/cwe-{cwe}" for cwe in rule.cwe)]))
    properties: dict[str, Any] = {"tags": tags, "precision": "high", "problem.severity": level}
    if rule.security_severity is not None:
        if "security" not in tags:
            tags.append("security")
        properties["security-severity"] = str(float(rule.security_severity))
    markdown = (
        f"## What it does\n\n{rule.what_it_does.strip()}\n\n"
        f"## Why is this bad?\n\n{rule.why_is_this_bad.strip()}\n"
    )
    return {
        "id": rule.code,
        "name": pascal_case(rule.slug),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.what_it_does.strip()},
        "help": {
            "text": f"{rule.what_it_does.strip()}\n\n{rule.why_is_this_bad.strip()}",
            "markdown": markdown,
        },
        "helpUri": f"{docs_url.rstrip('/')}/{rule.code}.md",
        "defaultConfiguration": {"level": level},
        "properties": properties,
    }


def _result(finding: Finding, rule_index: int, fingerprint: str) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": finding.severity.value,
        "message": {"text": _message(finding)},
        "locations": [{"physicalLocation": _physical(finding.location)}],
        "partialFingerprints": {"primaryLocationLineHash": fingerprint},
    }
    if finding.related:
        result["relatedLocations"] = [
            {
                "id": i,
                "physicalLocation": _physical(evidence.location),
                "message": {"text": evidence.label},
            }
            for i, evidence in enumerate(finding.related, start=1)
        ]
    return result


def _escape(text: str) -> str:
    # In SARIF message text "[label](id)" is an embedded link to relatedLocations[id];
    # literal brackets must be backslash-escaped so viewers don't misread them (§3.11.6).
    return re.sub(r"([\[\]])", r"\\\1", text)


def _message(finding: Finding) -> str:
    parts = [_escape(finding.message)]
    if finding.related:
        links = (f"[{_escape(ev.label)}]({i})" for i, ev in enumerate(finding.related, start=1))
        parts.append("Related: " + "; ".join(links) + ".")
    if finding.hint:
        parts.append(_escape(finding.hint))
    return "\n".join(parts)


def _physical(location: Location) -> dict[str, Any]:
    span = location.span
    region = {
        "startLine": span.line,
        "startColumn": span.col,
        "endLine": span.end_line,
    }
    # end_col <= col on one line means "no known extent" (0 is "unknown" on multi-line
    # spans); leaving endColumn out lets viewers highlight to the end of the line.
    if span.end_col > (span.col if span.end_line == span.line else 0):
        region["endColumn"] = span.end_col
    return {"artifactLocation": artifact_location(location.path), "region": region}


def artifact_location(path: str) -> dict[str, str]:
    """A relative URI below %SRCROOT% (the working directory); a file outside it (``../``) gets an
    absolute ``file:`` URI instead, which every consumer resolves the same way (GitHub's upload
    action makes those below the checkout repository-relative). The raw bytes of the name are
    percent-encoded: a name that is not UTF-8 stays exact."""
    if path.startswith("../") or path == ".." or os.path.isabs(path):
        return {"uri": Path(os.path.abspath(path)).as_uri()}
    return {"uri": quote(os.fsencode(path)), "uriBaseId": SRCROOT}


def _fingerprints(ordered: Sequence[Finding], sources: SourceLines) -> list[str]:
    """One stable hash per finding, for GitHub to match alerts between runs.

    The line number is left out so that unrelated edits above a finding don't turn it into
    a "new" alert; the occurrence index tells apart identical lines flagged by one rule in
    one file (counted in report order, so it is stable too).
    """
    seen: Counter[tuple[str, str, str]] = Counter()
    hashes = []
    for finding in ordered:
        line = sources.line(finding.location.path, finding.location.line)
        # Whitespace-normalized so reindenting doesn't churn alerts; the message stands in
        # for the line when the file can't be read.
        context = " ".join(line.split()) if line is not None else finding.message
        key = (finding.code, finding.location.path, context)
        occurrence = seen[key]
        seen[key] += 1
        # surrogatepass: a file name that is not UTF-8 (lone surrogates from os.fsdecode) hashes too.
        digest = hashlib.sha256("\0".join([*key, str(occurrence)]).encode("utf-8", "surrogatepass"))
        hashes.append(digest.hexdigest())
    return hashes
