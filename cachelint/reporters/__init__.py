"""Report findings in one of several output formats.

Each format lives in its own module and is imported only when used, so that
``cachelint --version`` and the other formats never pay for rich or hashlib.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from cachelint.finding import Finding
    from cachelint.registry import Rule


class OutputFormat(str, enum.Enum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"

    def __str__(self) -> str:
        return self.value


def write_report(
    fmt: OutputFormat,
    findings: Sequence[Finding],
    rules: Mapping[str, Rule],
    stream: TextIO,
    *,
    color: bool | None = None,
    errors: Sequence[str] = (),
) -> None:
    """Write ``findings`` to ``stream`` in ``fmt``.

    ``rules`` maps each selected code to its Rule (every finding's code must be in it).
    ``color`` only affects text output: None means "if the stream is a terminal".
    ``errors`` are one-line scan errors reported alongside the findings.
    """
    fmt = OutputFormat(fmt)
    if fmt is OutputFormat.TEXT:
        from cachelint.reporters import text

        text.write(findings, rules, stream, color=color, errors=errors)
    elif fmt is OutputFormat.JSON:
        from cachelint.reporters import json as json_reporter

        json_reporter.write(findings, rules, stream, errors=errors)
    else:
        from cachelint.reporters import sarif

        sarif.write(findings, rules, stream, errors=errors)


def sorted_findings(findings: Sequence[Finding]) -> list[Finding]:
    """Findings in report order: every format sorts the same way, whatever the engine yields."""
    return sorted(findings, key=lambda f: f.sort_key)


class SourceLines:
    """Reads scanned files lazily, once per report, to quote lines from them.

    Paths are relative to the current directory, as findings carry them. A file that
    cannot be read yields None: the reporters then just leave the quote out.
    """

    def __init__(self) -> None:
        self._files: dict[str, list[str] | None] = {}

    def lines(self, path: str) -> list[str] | None:
        if path not in self._files:
            try:
                # utf-8-sig drops a BOM that would shift line 1's columns; newline=None
                # splits lines exactly where Python's tokenizer does (\n, \r\n, \r) and not
                # on form feeds and the like, as str.splitlines would.
                with open(path, encoding="utf-8-sig", errors="replace", newline=None) as fh:
                    self._files[path] = fh.read().split("\n")
            except OSError:
                self._files[path] = None
        return self._files[path]

    def line(self, path: str, number: int) -> str | None:
        """The 1-based line ``number`` of ``path``, or None if unavailable."""
        lines = self.lines(path)
        if lines is None or not 1 <= number <= len(lines):
            return None
        return lines[number - 1]
