"""Report findings in one of several output formats.

Each format lives in its own module and is imported only when used, so that
``cachelint --version`` and the other formats never pay for rich or hashlib.
"""

from __future__ import annotations

import enum
import importlib
import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from cachelint.finding import split_lines
from cachelint.reading import read_bytes

if TYPE_CHECKING:
    from cachelint.finding import Finding
    from cachelint.registry import Rule


class OutputFormat(str, enum.Enum):
    TEXT = "text"
    CONCISE = "concise"
    JSON = "json"
    SARIF = "sarif"
    GITHUB = "github"
    GITLAB = "gitlab"
    JSON_LINES = "json-lines"

    def __str__(self) -> str:
        return self.value


_MODULES = {
    OutputFormat.TEXT: "text",
    OutputFormat.JSON: "json",
    OutputFormat.SARIF: "sarif",
    OutputFormat.GITHUB: "github",
    OutputFormat.GITLAB: "gitlab",
    OutputFormat.JSON_LINES: "json_lines",
    OutputFormat.CONCISE: "concise",
}


def is_fixable(finding: Finding, rules: Mapping[str, Rule]) -> bool:
    """Whether ``--fix`` would fix this finding (shown as ``[*]`` in text and concise output)."""
    rule = rules.get(finding.code)
    return bool(rule is not None and rule.fixable and rule.fixes(finding))


def fixable_summary(count: int) -> str:
    return f"[*] {count} fixable with `cachelint check --fix`."


def write_report(
    fmt: OutputFormat,
    findings: Sequence[Finding],
    rules: Mapping[str, Rule],
    stream: TextIO,
    *,
    color: bool | None = None,
    errors: Sequence[str] = (),
    suppressed: int = 0,
    docs_url: str | None = None,
) -> None:
    """Write ``findings`` to ``stream`` in ``fmt``.

    ``rules`` maps each selected code to its Rule (every finding's code must be in it).
    ``color`` only affects text output: None means "if the stream is a terminal".
    ``errors`` are one-line scan errors reported alongside the findings; ``suppressed`` counts
    findings silenced by inline comments (shown in the text summary only).
    """
    fmt = OutputFormat(fmt)
    if fmt is OutputFormat.TEXT and not findings and not _colored(stream, color):
        # Nothing to show but the summary, without colors: written plainly, without importing rich.
        stream.write("".join(f"{line}\n" for line in plain_summary(errors, suppressed)))
        return
    module = importlib.import_module(f"cachelint.reporters.{_MODULES[fmt]}")
    if fmt in (OutputFormat.TEXT, OutputFormat.CONCISE):
        module.write(findings, rules, stream, color=color, errors=errors, suppressed=suppressed)
    elif fmt is OutputFormat.SARIF and docs_url:
        module.write(findings, rules, stream, errors=errors, docs_url=docs_url)
    else:
        module.write(findings, rules, stream, errors=errors)


def _colored(stream: TextIO, color: bool | None) -> bool:
    """Whether the text reporter (rich) may color ``stream``: forced, or by the environment
    variables rich honours, or on a terminal (NO_COLOR only removes colors: it never adds any)."""
    if color is not None:
        return color
    if os.environ.get("FORCE_COLOR") or os.environ.get("TTY_COMPATIBLE") == "1":
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def plain_summary(errors: Sequence[str], suppressed: int) -> list[str]:
    """The text report's summary of a run without findings (the same lines as
    ``text.render_summary``, whose colors are left out)."""
    lines = ["No findings in the files that could be checked." if errors else "All checks passed!"]
    if suppressed:
        lines.append(f"{suppressed} finding{'' if suppressed == 1 else 's'} suppressed by inline comments.")
    if errors:
        lines.append(f"{len(errors)} scan error{'' if len(errors) == 1 else 's'} (see stderr).")
    return lines


def write_statistics(
    findings: Sequence[Finding], rules: Mapping[str, Rule], stream: TextIO, fmt: str = "text"
) -> None:
    """Write one ``count  code  slug`` line per code, like ``ruff --statistics``.

    Most frequent first, ties by code; counts right-aligned and codes left-aligned so the
    columns line up (the same layout as the text reporter's summary). Nothing at all is
    written when there are no findings. With ``fmt`` "json", a JSON array of
    ``{"code", "name", "count", "fixable"}`` objects in the same order (``[]`` when none), as
    ruff's ``--statistics --output-format json``.
    """
    counts: dict[str, int] = {}
    fixable: dict[str, int] = {}
    for finding in findings:
        counts[finding.code] = counts.get(finding.code, 0) + 1
        if is_fixable(finding, rules):
            fixable[finding.code] = fixable.get(finding.code, 0) + 1
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if fmt == "json":
        import json

        rows = [
            {
                "code": code,
                "name": rules[code].slug if code in rules else None,
                "count": count,
                "fixable": fixable.get(code, 0) > 0,
                "fixable_count": fixable.get(code, 0),
            }
            for code, count in ordered
        ]
        stream.write(json.dumps(encodable(rows), indent=2) + "\n")
        return
    if not counts:
        return
    count_width = len(str(max(counts.values())))
    code_width = max(len(code) for code in counts)
    for code, count in ordered:
        rule = rules.get(code)
        marker = "[*] " if fixable.get(code) else ""
        line = f"{count:>{count_width}}  {code:<{code_width}}  {marker}{rule.slug if rule else ''}"
        stream.write(line.rstrip() + "\n")


# What a terminal or a log parser acts upon rather than shows: C0 and C1 controls and DEL (ANSI
# escape sequences, a line break that starts a forged line such as a GitHub ``::error``), the
# Unicode line and paragraph separators, and the bidirectional controls that reorder what is shown.
# Lone surrogates are what os.fsdecode makes of a file name's bytes that are not UTF-8: they cannot
# be encoded at all.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff]")
_UNSAFE_BUT_TAB = re.compile(f"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the raw byte of the file name
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, keep_tabs: bool = False) -> str:
    """``text`` with every control, bidi or undecodable character as a visible escape (``\\x1b``,
    ``\\n``, ``\\u202e``, ``\\xff`` for a raw byte): for every human-readable format, so that
    scanned file names and contents can neither drive the terminal nor forge output lines."""
    return (_UNSAFE_BUT_TAB if keep_tabs else _UNSAFE).sub(_escape, text)


def encodable(data: Any) -> Any:
    """``data`` (JSON-like) with the undecodable bytes of file names as ``\\xNN`` escapes, so the
    machine-readable formats stay valid UTF-8; everything else is left to the JSON encoder."""
    if isinstance(data, str):
        return _SURROGATE.sub(_escape, data)
    if isinstance(data, dict):
        return {encodable(key): encodable(value) for key, value in data.items()}
    if isinstance(data, list):
        return [encodable(value) for value in data]
    return data


def sorted_findings(findings: Sequence[Finding]) -> list[Finding]:
    """Findings in report order: every format sorts the same way, whatever the engine yields."""
    return sorted(findings, key=lambda f: f.sort_key)


QUOTE_LIMIT = 2_000_000  # bytes: the default max-file-size; larger files are not quoted


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
                # Regular files only and never past the default max-file-size: a file skipped
                # as too large is not read to quote it. utf-8-sig drops a BOM that would shift
                # line 1's columns; split_lines breaks lines exactly where Python's tokenizer
                # does (\n, \r\n, \r) and not on form feeds and the like.
                data = read_bytes(path, QUOTE_LIMIT)[0]
                self._files[path] = split_lines(data.decode("utf-8-sig", errors="replace"))
            except OSError:
                self._files[path] = None
        return self._files[path]

    def line(self, path: str, number: int) -> str | None:
        """The 1-based line ``number`` of ``path``, or None if unavailable."""
        lines = self.lines(path)
        if lines is None or not 1 <= number <= len(lines):
            return None
        return lines[number - 1]
