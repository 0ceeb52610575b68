"""``--fix`` and ``--diff``: apply the mechanical fixes that fixable rules offer.

A rule that has one correct mechanical fix implements ``Rule.fix(text, findings, config)``,
returning the file's new text. This module groups findings per file, applies each fixable
rule's fix in turn, refuses a result that no longer parses, and writes atomically (temporary
file + rename, so an interrupted run never leaves a half-written file). Only files that
findings point at, which are files that were scanned, are ever touched.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from cachelint.config import Config
from cachelint.finding import Finding
from cachelint.registry import Rule


class FixRefused(Exception):
    """The fix cannot be applied safely here; the finding stays."""


@dataclass
class FixReport:
    fixed: dict[str, int] = field(default_factory=dict)  # path -> findings fixed
    diffs: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "path: CODE reason"

    @property
    def count(self) -> int:
        return sum(self.fixed.values())


def still_parses(path: str, text: str) -> bool:
    if path.endswith(".py"):
        import libcst as cst

        try:
            cst.parse_module(text)
        except Exception:
            return False
        return True
    from cachelint.facts.templates import parse_template

    return not parse_template(text, path).problems


def apply_fixes(findings: list[Finding], rules: dict[str, Rule], config: Config, write: bool) -> FixReport:
    report = FixReport()
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        if rules[finding.code].fixes(finding):
            by_file[finding.location.path].append(finding)
    for path, file_findings in sorted(by_file.items()):
        try:
            with open(path, encoding="utf-8", newline="") as stream:  # keep CRLF as it is
                original = stream.read()
        except (OSError, UnicodeDecodeError) as error:
            report.refused.append(f"{path}: cannot read: {error}")
            continue
        text, fixed = original, 0
        for code in sorted({f.code for f in file_findings}):
            subset = [f for f in file_findings if f.code == code]
            try:
                candidate = rules[code].fix(text, subset, config)
            except FixRefused as reason:
                report.refused.append(f"{path}: {code} not fixed: {reason}")
                continue
            if candidate == text:
                continue
            if not still_parses(path, candidate):
                report.refused.append(f"{path}: {code} not fixed: the result would not parse")
                continue
            text, fixed = candidate, fixed + len(subset)
        if text == original:
            continue
        report.fixed[path] = fixed
        if write:
            _write_atomically(Path(path), text)
        else:
            report.diffs.append(
                "".join(
                    difflib.unified_diff(
                        original.splitlines(keepends=True),
                        text.splitlines(keepends=True),
                        fromfile=f"a/{path}",
                        tofile=f"b/{path}",
                    )
                )
            )
    return report


def _write_atomically(path: Path, text: str) -> None:
    mode = path.stat().st_mode
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".cachelint-fix")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def locate_nodes(module: object, spans: set[tuple[int, int]], kind: type) -> dict[tuple[int, int], object]:
    """Nodes of ``kind`` in a libcst ``module`` that start at the given (line, col) positions."""
    import libcst as cst

    from cachelint.facts.positions import Positions

    positions = Positions(module)  # type: ignore[arg-type]
    found: dict[tuple[int, int], object] = {}

    class Finder(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if isinstance(node, kind):
                span = positions.span(node)
                if (span.line, span.col) in spans:
                    found.setdefault((span.line, span.col), node)
            return True

    module.visit(Finder())  # type: ignore[attr-defined]
    return found


def append_to_dict(node: object, element: object) -> object:
    """``node`` (a libcst Dict) with ``element`` appended in the dict's own layout: one per
    line if it is written that way, keeping a trailing comma if it has one."""
    import libcst as cst

    assert isinstance(node, cst.Dict) and isinstance(element, cst.DictElement)
    elements = list(node.elements)
    if not elements:
        return node.with_changes(elements=[element])
    last = elements[-1]
    if len(elements) >= 2 and isinstance(elements[0].comma, cst.Comma):
        separator = elements[0].comma
    elif isinstance(node.lbrace.whitespace_after, cst.ParenthesizedWhitespace):
        separator = cst.Comma(whitespace_after=node.lbrace.whitespace_after)
    else:
        separator = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    elements[-1] = last.with_changes(comma=separator)
    elements.append(element.with_changes(comma=last.comma))
    return node.with_changes(elements=elements)
