"""Inline suppressions: ``# noqa: CL101``, ``# cachelint: ignore[CL101]`` in Python;
``{# noqa: CL202 #}``, ``{# cachelint: ignore[CL202] #}`` and the region pragmas
``{# cachelint:off CL202 #}`` (or codeless ``{# cachelint:off #}``: every rule) ...
``{# cachelint:on #}`` in templates. A line of its own ``# cachelint: noqa`` (Python) or
``{# cachelint: noqa #}`` (template) silences the whole file, ``# cachelint: noqa: CL101,CL102``
only those codes. ``noqa`` is matched in any case (``# NOQA: CL101``), as ruff does.

Suppressions are gathered while a file is parsed (they ride along with its facts and the result
cache), so applying them reads no file again. A bare ``# noqa`` does not silence cachelint.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from cachelint.finding import Finding, Location, Span, split_lines

_CODES = r"(?P<codes>CL\d+(?:\s*,\s*CL\d+)*)"
_PY_INLINE = re.compile(
    rf"#\s*(?:noqa:\s*(?P<noqa>[A-Z0-9, ]+)|cachelint:\s*ignore\[{_CODES}\])", re.IGNORECASE
)
_TPL_INLINE = re.compile(
    rf"\{{#\s*(?:noqa:\s*(?P<noqa>[A-Z0-9, ]+?)|cachelint:\s*ignore\[{_CODES}\])\s*#\}}", re.IGNORECASE
)
_TPL_OFF = re.compile(rf"\{{#\s*cachelint:off(?:\s+{_CODES})?\s*#\}}", re.IGNORECASE)
_TPL_ON = re.compile(r"\{#\s*cachelint:on\s*#\}", re.IGNORECASE)
# The file-level pragma, alone on its line.
_PY_FILE = re.compile(rf"^\s*#\s*cachelint:\s*noqa(?::\s*{_CODES})?\s*$", re.IGNORECASE)
_TPL_FILE = re.compile(rf"^\s*\{{#\s*cachelint:\s*noqa(?::\s*{_CODES})?\s*#\}}\s*$", re.IGNORECASE)
_MARKERS = ("noqa", "cachelint:")
WHOLE_FILE = 10**9  # the last line of a suppression that lasts to the end of the file


@dataclass(frozen=True)
class Suppression:
    """Silences ``codes`` on lines ``first``..``last`` (one line for an inline comment)."""

    first: int
    last: int
    codes: frozenset[str]
    span: Span  # where the comment itself is written
    every: bool = False  # codeless (file-level ``# cachelint: noqa``, ``{# cachelint:off #}``): all codes

    def covers(self, finding: Finding) -> bool:
        span = finding.location.span
        # A decorator or tag may span lines; a suppression on any of its lines counts.
        return (
            (self.every or finding.code in self.codes)
            and self.first <= max(span.line, span.end_line)
            and span.line <= self.last
        )


def _codes(text: str) -> frozenset[str]:
    return frozenset(code for code in re.split(r"[,\s]+", text.upper()) if code.startswith("CL"))


def scan(text: str, template: bool) -> tuple[Suppression, ...]:
    lowered = text.lower()
    if not any(marker in lowered for marker in _MARKERS):
        return ()
    found: list[Suppression] = []
    open_region: tuple[int, frozenset[str], Span] | None = None
    for number, line in enumerate(split_lines(text), start=1):
        if not any(marker in line.lower() for marker in _MARKERS):
            continue
        whole = (_TPL_FILE if template else _PY_FILE).match(line)
        if whole:
            codes = _codes(whole.group("codes") or "")
            span = Span(number, whole.start() + 1, number, whole.end() + 1)
            found.append(Suppression(1, WHOLE_FILE, codes, span, every=not codes))
            continue
        for match in (_TPL_INLINE if template else _PY_INLINE).finditer(line):
            codes = _codes(match.group("noqa") or match.group("codes") or "")
            if codes:
                found.append(
                    Suppression(
                        number, number, codes, Span(number, match.start() + 1, number, match.end() + 1)
                    )
                )
        if template:
            off, on = _TPL_OFF.search(line), _TPL_ON.search(line)
            if on and open_region:
                start, codes, span = open_region
                found.append(Suppression(start, number, codes, span, every=not codes))
                open_region = None
            if off:
                span = Span(number, off.start() + 1, number, off.end() + 1)
                open_region = (number, _codes(off.group("codes") or ""), span)
    if open_region:  # an `off` never turned back on lasts to the end of the file
        start, codes, span = open_region
        found.append(Suppression(start, WHOLE_FILE, codes, span, every=not codes))
    return tuple(found)


def apply(
    findings: Iterable[Finding], suppressions: dict[str, tuple[Suppression, ...]]
) -> tuple[list[Finding], set[tuple[str, Suppression, str]]]:
    """Split off suppressed findings; also return which (path, suppression, code) were used."""
    kept: list[Finding] = []
    used: set[tuple[str, Suppression, str]] = set()
    for finding in findings:
        hit = next((s for s in suppressions.get(finding.location.path, ()) if s.covers(finding)), None)
        if hit is None:
            kept.append(finding)
        else:
            used.add((finding.location.path, hit, finding.code))
    return kept, used


def unused(
    suppressions: dict[str, tuple[Suppression, ...]],
    used: set[tuple[str, Suppression, str]],
    codes: Iterable[str],
) -> list[tuple[Location, str]]:
    """(where, code) for each code of an enabled rule that a suppression names but never used."""
    enabled = set(codes)
    out = []
    for path, items in suppressions.items():
        for suppression in items:
            for code in sorted(suppression.codes & enabled):
                if (path, suppression, code) not in used:
                    out.append((Location(path, suppression.span), code))
    return out
