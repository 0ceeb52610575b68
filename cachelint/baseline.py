"""Baseline files: adopt cachelint on a legacy project by recording today's findings.

A finding matches a baseline entry by code, path and a fingerprint of its source line and the
lines around it (whitespace-normalized), so unrelated edits that move the line keep it matched,
while a second identical finding in the same file is new (entries are counted, not a set).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from cachelint.config import Config
from cachelint.finding import Finding, split_lines
from cachelint.reading import read_bytes, read_text, reason
from cachelint.reporters import encodable

FORMAT_VERSION = 1
DEFAULT_MAX_SIZE = Config.max_file_size


class BaselineError(Exception):
    """The baseline file cannot be read; one line, exit code 2."""


def _normalized(line: str) -> str:
    return " ".join(line.split())


def fingerprint(finding: Finding, relative: str, lines: list[str]) -> str:
    """Code, path, the finding's line and its non-blank neighbours, not its line number."""
    index = finding.location.line - 1
    context = [
        _normalized(lines[i]) for i in range(index - 1, index + 2) if 0 <= i < len(lines) and lines[i].strip()
    ]
    text = "\n".join(context) or finding.message
    digest = hashlib.sha256(f"{finding.code}\0{relative}\0{text}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:20]


def _relative(path: str, root: Path) -> str:
    """Paths in a baseline are relative to the project root, wherever cachelint runs from; the
    bytes of a name that are not UTF-8 are ``\\xNN`` escapes, so the file is valid UTF-8 JSON."""
    return encodable(Path(os.path.relpath(os.path.realpath(path), os.path.realpath(root))).as_posix())


def _keys(
    findings: Iterable[Finding],
    root: Path,
    max_size: int,
    text_of: Callable[[str], str | None] | None = None,
) -> list[tuple[str, str, str]]:
    cache: dict[str, list[str]] = {}
    keys = []
    for finding in findings:
        path = finding.location.path
        if path not in cache:
            text = text_of(path) if text_of is not None else None  # an editor's unsaved buffer
            try:  # a file skipped as too large is not read for its fingerprint either
                cache[path] = split_lines(read_text(path, max_size) if text is None else text)
            except OSError:
                cache[path] = []
        relative = _relative(path, root)
        keys.append((finding.code, relative, fingerprint(finding, relative, cache[path])))
    return keys


def write(path: Path, findings: list[Finding], root: Path, max_size: int = DEFAULT_MAX_SIZE) -> None:
    entries = [
        {"code": code, "path": file, "fingerprint": digest, "message": encodable(finding.message)}
        for (code, file, digest), finding in zip(_keys(findings, root, max_size), findings)
    ]
    data = json.dumps({"version": FORMAT_VERSION, "findings": entries}, indent=2) + "\n"
    directory = path.resolve().parent
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(data)
    os.replace(temporary, path)


def read(path: Path) -> Counter[tuple[str, str, str]]:
    try:
        data = json.loads(read_bytes(path)[0])
        entries = data["findings"]
        return Counter((e["code"], e["path"], e["fingerprint"]) for e in entries)
    except FileNotFoundError:
        raise BaselineError(f"{path}: baseline file not found (create it with --write-baseline)") from None
    except OSError as error:
        raise BaselineError(f"{path}: cannot read baseline: {reason(error)}") from None
    except RecursionError:  # JSON nested deeper than the parser's recursion limit
        raise BaselineError(f"{path}: not a cachelint baseline: nested too deeply") from None
    except (ValueError, KeyError, TypeError) as error:
        raise BaselineError(f"{path}: not a cachelint baseline: {error}") from None


def new_findings(
    findings: list[Finding],
    baseline: Counter[tuple[str, str, str]],
    root: Path,
    max_size: int = DEFAULT_MAX_SIZE,
    text_of: Callable[[str], str | None] | None = None,
) -> list[Finding]:
    """The findings not accounted for by the baseline (``text_of``: the text of a file, by its
    path, where it is not the file's on disk)."""
    remaining = Counter(baseline)
    new = []
    for key, finding in zip(_keys(findings, root, max_size, text_of), findings):
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            new.append(finding)
    return new
