"""``--fix`` and ``--diff``: apply the mechanical fixes that fixable rules offer.

A rule that has one correct mechanical fix implements ``Rule.fix(text, findings, config)``,
returning the file's new text. This module groups findings per file, applies each fixable
rule's fix in turn, refuses a result that no longer parses, and writes atomically (temporary
file + rename, so an interrupted run never leaves a half-written file). Only files that
findings point at, which are files that were scanned, are ever touched.

A file is rewritten only when it is still the text the scan saw (its content digest, recorded in
the facts), under an advisory lock that concurrent ``--fix`` runs share, and only if its content
is unchanged right before the rename. Rules see the text without a UTF-8 BOM (positions are
counted without it); the BOM and the last line end are put back byte for byte. Symbolic links,
files with several hard links and read-only files (by their mode bits, which hold for root too)
are refused with the reason; so is anything that cannot be written. The run goes on.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cachelint.config import Config
from cachelint.finding import Finding, line_starts
from cachelint.registry import Rule

try:  # POSIX: concurrent --fix runs take turns per file
    import fcntl
except ImportError:  # pragma: no cover - Windows: the compare-and-swap alone
    fcntl = None  # type: ignore[assignment]

BOM = b"\xef\xbb\xbf"
_LINE_END = re.compile(r"\r\n|\r|\n")
_LAST_LINE_END = re.compile(r"(?:\r\n|\r|\n)\Z")


class FixRefused(Exception):
    """The fix cannot be applied safely here; the finding stays."""


@dataclass
class FixReport:
    fixed: dict[str, int] = field(default_factory=dict)  # path -> findings fixed
    diffs: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "path: CODE reason"
    codes: dict[str, dict[str, int]] = field(default_factory=dict)  # path -> code -> findings fixed

    @property
    def count(self) -> int:
        return sum(self.fixed.values())


def content_digest(data: bytes) -> str:
    """What the facts of a file record of its bytes, so a fix can tell it is still that file."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def newline_of(text: str) -> str:
    """The file's line end (its first one), for text a fix inserts; ``\\n`` if it has none."""
    match = _LINE_END.search(text)
    return match.group() if match else "\n"


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


def _keep_last_line_end(original: str, candidate: str) -> str:
    """libcst drops the last line end of a file whose lines end with a lone ``\\r``."""
    end = _LAST_LINE_END.search(original)
    if end and candidate and candidate[-1] not in "\r\n":
        return candidate + end.group()
    return candidate


def _unwritable(path: str) -> str | None:
    """Why ``path`` must not be rewritten, or None. Judged on the mode bits as well as on
    ``os.access``, which says yes to root for any file."""
    try:
        info = os.lstat(path)
    except OSError as error:
        return f"cannot read: {error.strerror or error}"
    if stat.S_ISLNK(info.st_mode):
        return "the file is a symbolic link: fix the file it points to (rewriting would replace the link)"
    if not stat.S_ISREG(info.st_mode):
        return "the file is not a regular file"
    if info.st_nlink > 1:
        return f"the file has {info.st_nlink} hard links: rewriting it would separate them"
    if not info.st_mode & 0o222 or not os.access(path, os.W_OK):
        return f"the file is read-only (mode {stat.S_IMODE(info.st_mode):04o})"
    directory = os.path.dirname(path) or "."
    mode = os.stat(directory).st_mode
    if not mode & 0o222 or not os.access(directory, os.W_OK | os.X_OK):
        return f"its directory is read-only (mode {stat.S_IMODE(mode):04o}): no room for the new file"
    return None


class _Stale(Exception):
    """The file is not (or no longer) the text the scan saw, or not a file to rewrite."""


@contextlib.contextmanager
def _opened(path: str, lock: bool) -> Iterator[bytes]:
    """The file's bytes; with ``lock`` (for writing), never through a symlink and held under an
    exclusive advisory lock taken on the file as it is at ``path`` now (a run that waited for the
    lock of a file another run has since replaced finds the inode changed)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)  # a FIFO put in its place must not block
    fd = os.open(path, flags | (getattr(os, "O_NOFOLLOW", 0) if lock else 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _Stale("the file is not a regular file")
        if lock and fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if not os.path.samestat(os.fstat(fd), os.lstat(path)):
                raise _Stale("the file was replaced while waiting for another --fix run")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        yield b"".join(chunks)
    finally:
        os.close(fd)  # releases the lock


def apply_fixes(
    findings: list[Finding],
    rules: dict[str, Rule],
    config: Config,
    write: bool,
    digests: Mapping[str, str] | None = None,
) -> FixReport:
    """Fix ``findings`` (``write``) or diff the fixes. ``digests`` maps each scanned path to the
    ``content_digest`` its facts were computed from; a file that no longer matches is refused."""
    report = FixReport()
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        if rules[finding.code].fixes(finding):
            by_file[finding.location.path].append(finding)

    def rewrite(path: str, original: str, file_findings: list[Finding]) -> tuple[str, int, dict[str, int]]:
        codes: dict[str, int] = {}
        text, fixed = _fix_text(path, original, file_findings, rules, config, report, codes)
        return text, fixed, codes

    _rewrite_files(by_file, rewrite, report, "not fixed", write, digests, require_digest=True)
    return report


def _rewrite_files(
    by_file: dict[str, list[Finding]],
    rewrite: Callable[[str, str, list[Finding]], tuple[str, int, dict[str, int] | None]],
    report: FixReport,
    verb: str,
    write: bool,
    digests: Mapping[str, str] | None,
    require_digest: bool,
) -> None:
    """For each file: refuse what cannot be rewritten safely, read it (under the lock when
    writing), check it is still the text the scan saw, and write or diff what ``rewrite`` makes
    of it (the new text, how many findings it handled, and per code). ``require_digest``: a file
    the scan recorded no digest for is refused (else it is taken as it is)."""
    for path, file_findings in sorted(by_file.items()):
        try:
            reason = _unwritable(path) if write else None
            if reason is not None:
                report.refused.append(f"{path}: {verb}: {reason}")
                continue
            with _opened(path, lock=write) as data:
                expected = digests.get(path) if digests is not None else None
                checked = digests is not None and (require_digest or expected is not None)
                if checked and expected != content_digest(data):
                    raise _Stale("the file changed since it was scanned: run cachelint again")
                bom = BOM if data.startswith(BOM) else b""
                original = data[len(bom) :].decode("utf-8")
                text, handled, codes = rewrite(path, original, file_findings)
                if text == original:
                    continue
                if write:
                    _replace(path, data, bom + text.encode("utf-8"))
                else:
                    report.diffs.append(_diff(path, original, text))
                report.fixed[path] = handled
                if codes is not None:
                    report.codes[path] = codes
        except (FixRefused, _Stale) as refusal:
            report.refused.append(f"{path}: {verb}: {refusal}")
        except UnicodeDecodeError as error:
            report.refused.append(f"{path}: {verb}: cannot decode as UTF-8: {error.reason}")
        except OSError as error:
            report.refused.append(f"{path}: {verb}: {error.strerror or error}")


def _fix_text(
    path: str,
    original: str,
    findings: list[Finding],
    rules: dict[str, Rule],
    config: Config,
    report: FixReport,
    codes: dict[str, int] | None = None,
) -> tuple[str, int]:
    text, fixed = original, 0
    if path.endswith(".py") and not _round_trips(text):
        report.refused.append(
            f"{path}: not fixed: libcst does not write this file back byte for byte "
            "(form feed lines at its end?), so a fix would change other lines"
        )
        return text, 0
    for code in sorted({f.code for f in findings}):
        subset = [f for f in findings if f.code == code]
        try:
            candidate = _keep_last_line_end(text, rules[code].fix(text, subset, config))
        except FixRefused as reason:
            report.refused.append(f"{path}: {code} not fixed: {reason}")
            continue
        if candidate == text:
            continue
        if not still_parses(path, candidate):
            report.refused.append(f"{path}: {code} not fixed: the result would not parse")
            continue
        text, fixed = candidate, fixed + len(subset)
        if codes is not None:
            codes[code] = len(subset)
    return text, fixed


# -- --add-noqa -------------------------------------------------------------------------

_PY_NOQA_AT_END = re.compile(r"#\s*noqa:\s*(?P<codes>[A-Za-z]+\d+(?:\s*,\s*[A-Za-z]+\d+)*)\s*$", re.IGNORECASE)
_TPL_NOQA_AT_END = re.compile(
    r"\{#\s*noqa:\s*(?P<codes>[A-Za-z]+\d+(?:\s*,\s*[A-Za-z]+\d+)*)\s*#\}\s*$", re.IGNORECASE
)


def add_noqa(findings: list[Finding], digests: Mapping[str, str] | None = None) -> FixReport:
    """Write ``# noqa: CODE`` (``{# noqa: CODE #}`` in templates) on the line of each finding, in
    place, with the same care as ``apply_fixes`` (locks, digests, atomic replace, BOM and line ends
    kept). A comment is added only where it cannot change the code: at the end of a line outside
    any string or continued line in Python; in a template, only if the lexer sees the same tags,
    variables and text afterwards (never inside ``{% verbatim %}``). An existing ``# noqa: X`` at
    the end of the line is extended (``# noqa: X, CL101``). CL002 (unused suppression) is skipped."""
    report = FixReport()
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.code != "CL002":
            by_file[finding.location.path].append(finding)

    def rewrite(path: str, original: str, file_findings: list[Finding]) -> tuple[str, int, None]:
        text, added = _with_noqa(path, original, file_findings, report)
        return text, added, None

    _rewrite_files(by_file, rewrite, report, "noqa not added", True, digests, require_digest=False)
    return report


def _python_tokens(text: str) -> list[tuple[int, str, int]] | None:
    """(type, string, start line) of every token, or None if the file does not tokenize."""
    import io
    import tokenize

    try:
        return [(t.type, t.string, t.start[0]) for t in tokenize.generate_tokens(io.StringIO(text).readline)]
    except (tokenize.TokenError, SyntaxError):
        return None


def _code_of_python(tokens: list[tuple[int, str, int]]) -> list[tuple[int, str]]:
    import tokenize

    return [(kind, string) for kind, string, _ in tokens if kind not in (tokenize.COMMENT, tokenize.NL)]


def _code_of_template(text: str) -> list[tuple[str, str]]:
    """The template as the lexer sees it, comments left out and adjacent text joined."""
    from django.template.base import Lexer, TokenType

    out: list[tuple[str, str]] = []
    for token in Lexer(text).tokenize():
        if token.token_type == TokenType.COMMENT:
            continue
        if token.token_type == TokenType.TEXT and out and out[-1][0] == "text":
            out[-1] = ("text", out[-1][1] + token.contents)
        else:
            kind = "text" if token.token_type == TokenType.TEXT else str(token.token_type)
            out.append((kind, token.contents))
    return out


def _with_noqa(path: str, text: str, findings: list[Finding], report: FixReport) -> tuple[str, int]:
    import tokenize

    from cachelint.suppressions import scan

    template = not path.endswith(".py")
    lines = _lines(text)
    if template:
        safe = set(range(1, len(lines) + 1))
    else:
        tokens = _python_tokens(text)
        if tokens is None:
            raise FixRefused("the file does not tokenize as Python")
        # Lines that end outside any string and are not continued with a backslash.
        safe = {line for kind, _, line in tokens if kind in (tokenize.NEWLINE, tokenize.NL)}
    wanted: dict[int, set[str]] = defaultdict(set)
    counted: dict[int, int] = defaultdict(int)
    for finding in findings:
        span = finding.location.span
        target = next((n for n in range(span.line, max(span.line, span.end_line) + 1) if n in safe), None)
        if target is None or target > len(lines):
            report.refused.append(
                f"{path}:{span.line}: {finding.code} noqa not added: the line ends inside a string "
                "or a continued line"
            )
            continue
        wanted[target].add(finding.code)
        counted[target] += 1
    if not wanted:
        return text, 0
    for number, codes in wanted.items():
        line = lines[number - 1]
        end = re.search(r"(\r\n|\r|\n)\Z", line)
        body, ending = (line[: end.start()], end.group()) if end else (line, "")
        existing = (_TPL_NOQA_AT_END if template else _PY_NOQA_AT_END).search(body)
        if existing:
            merged = sorted({c.strip().upper() for c in existing["codes"].split(",")} | codes)
            body = body[: existing.start("codes")] + ", ".join(merged) + body[existing.end("codes") :]
        elif template:
            body += "{# noqa: " + ", ".join(sorted(codes)) + " #}"  # no space: nothing new is rendered
        else:
            body = body.rstrip(" \t") + "  # noqa: " + ", ".join(sorted(codes))
        lines[number - 1] = body + ending
    new = "".join(lines)
    # Nothing but comments changed, and every finding is now suppressed.
    if template:
        if _code_of_template(new) != _code_of_template(text):
            raise FixRefused("a template comment there would change the template (inside {% verbatim %}?)")
    else:
        new_tokens = _python_tokens(new)
        if new_tokens is None or _code_of_python(new_tokens) != _code_of_python(tokens):
            raise FixRefused("a comment there would change the code")
    suppressions = scan(new, template=template)
    for finding in findings:
        if counted and not any(s.covers(finding) for s in suppressions):
            span = finding.location.span
            if any(n in wanted for n in range(span.line, max(span.line, span.end_line) + 1)):
                raise FixRefused(f"line {span.line}: the comment would not suppress {finding.code}")
    return new, sum(counted.values())


def _round_trips(text: str) -> bool:
    """libcst's unchanged output is the file (up to the last line end, which is put back)."""
    import libcst as cst

    try:
        return _keep_last_line_end(text, cst.parse_module(text).code) == text
    except Exception:
        return False  # a fix could not parse it either


def _lines(text: str) -> list[str]:
    """Lines with their ends, broken where positions break them (not at form feeds)."""
    starts = line_starts(text)
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)]) if a < b]


def _diff(path: str, original: str, text: str) -> str:
    import difflib

    from cachelint.reporters import printable

    # The file name is escaped (a newline in it must not start a line of its own, such as a
    # workflow command in CI); the content is left as it is, so that the patch still applies.
    name = printable(path)
    return "".join(
        difflib.unified_diff(_lines(original), _lines(text), fromfile=f"a/{name}", tofile=f"b/{name}")
    )


def _replace(path: str, expected: bytes, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it over ``path``, if ``path``
    still holds ``expected`` right before the rename (an editor takes no lock)."""
    import tempfile

    target = Path(path)
    info = os.lstat(path)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".cachelint-fix")
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, stat.S_IMODE(info.st_mode))
        if hasattr(os, "geteuid") and (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
            with contextlib.suppress(OSError):  # only root may give the file back to its owner
                os.chown(temporary, info.st_uid, info.st_gid)
        with open(path, "rb") as stream:  # the lock is ours already: this is the compare-and-swap
            if stream.read() != expected:
                raise _Stale("the file changed while it was being fixed")
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
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


def fix_text(
    path: str, text: str, findings: list[Finding], rules: dict[str, Rule], config: Config
) -> tuple[str, list[str]]:
    """``text`` (the file at ``path``, maybe an editor's unsaved buffer) with the fixable
    ``findings`` fixed as ``--fix`` would, and the refusals; nothing is read or written."""
    report = FixReport()
    fixable = [f for f in findings if f.code in rules and rules[f.code].fixes(f)]
    fixed, _ = _fix_text(path, text, fixable, rules, config, report) if fixable else (text, 0)
    return fixed, report.refused
