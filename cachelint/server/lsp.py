"""The language server: LSP over stdio with pygls, on the warm model of ``cachelint.server.model``.

- diagnostics for Python files and templates on open, change (debounced) and save, for every
  open document of the project a change affects (a template edit re-checks the views that
  render it), with the rule's code, severity, a link to its page and the evidence locations as
  ``relatedInformation``;
- code actions: the rule's safe fix (``--fix``'s, applied to the buffer) and "suppress on this
  line" (``# noqa: CLxxx`` / ``{# noqa: CLxxx #}``);
- hover on a finding: the rule's summary, the finding's hint and why it matters;
- ``workspace/didChangeConfiguration`` and changes to a ``pyproject.toml`` reload the
  configuration.

Like ``cachelint check``, it never imports or runs the project. A failure in one request is
logged (``window/logMessage``) and answered with an error; the server goes on.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import os
import re
import tokenize
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from cachelint import __version__
from cachelint.discovery import find_project_root
from cachelint.finding import Finding, Severity, Span, split_lines
from cachelint.registry import Rule
from cachelint.server.model import Check, WarmProject, WarmTree

logger = logging.getLogger("cachelint.server")

# Seconds to wait after a keystroke before re-checking (a burst of typing is checked once);
# CACHELINT_SERVER_DEBOUNCE overrides it (milliseconds), as does initializationOptions.debounce.
DEFAULT_DEBOUNCE = float(os.environ.get("CACHELINT_SERVER_DEBOUNCE", "200")) / 1000
# Opened, saved and closed documents are checked at once, but a burst of them (an editor
# restoring a session) once.
SOON = 0.02
SOURCE = "cachelint"
# The name of a handler that fails on purpose (the tests check that the server survives it).
FAULT = os.environ.get("CACHELINT_SERVER_FAULT", "")
WATCHED = "**/{*.py,*.html,*.htm,*.txt,*.xml,pyproject.toml,cachelint.toml,.cachelint.toml,.gitignore}"
CONFIG_FILES = ("pyproject.toml", "cachelint.toml", ".cachelint.toml")

F = TypeVar("F", bound=Callable[..., Any])


def _rule_url(rule: Rule, docs_url: str) -> str:
    from cachelint.reporters.sarif import DOCS_URL

    return f"{(docs_url or DOCS_URL).rstrip('/')}/{rule.code}.md"


class CachelintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "cachelint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental
        )
        self.buffers: dict[Path, bytes] = {}  # open documents, shared with the warm trees
        self.trees: dict[Path, WarmTree] = {}
        self._roots: dict[Path, Path] = {}  # directory -> tree root
        self.findings: dict[WarmProject, dict[Path, list[Finding]]] = {}  # of the last check, by file
        self.published: dict[Path, list[Finding]] = {}
        self._pending: dict[WarmProject, bool] = {}  # -> exact check wanted
        self._timer: asyncio.TimerHandle | None = None
        self._reported: dict[Path, tuple[str, ...]] = {}  # errors last logged, by project root
        self._shown: dict[Path, tuple[str, ...]] = {}  # configuration errors last shown, by tree
        self.debounce = DEFAULT_DEBOUNCE
        self.last_check: Check | None = None

    # --- messages to the client ----------------------------------------------------------------

    def log(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        logger.log(logging.ERROR if kind == types.MessageType.Error else logging.INFO, "%s", message)
        try:
            self.window_log_message(types.LogMessageParams(type=kind, message=message))
        except Exception:  # no client connected (tests calling handlers directly)
            pass

    def show(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        self.log(message, kind)
        try:
            self.window_show_message(types.ShowMessageParams(type=kind, message=message))
        except Exception:
            pass

    # --- projects and documents ----------------------------------------------------------------

    def tree_of(self, path: Path) -> WarmTree:
        directory = path.parent
        root = self._roots.get(directory)
        if root is None:
            root = self._roots[directory] = find_project_root(directory)
        tree = self.trees.get(root)
        if tree is None:
            tree = self.trees[root] = WarmTree(root, self.buffers)
            self.show_errors(tree)
        return tree

    def project_of(self, path: Path) -> WarmProject | None:
        """The project ``path`` is checked in (None: its configuration cannot be read)."""
        return self.tree_of(path).project_of(path)

    def show_errors(self, tree: WarmTree) -> None:
        """Tell the user, once, what is wrong with the configuration of ``tree``."""
        errors = tuple(tree.errors)
        if errors != self._shown.get(tree.root, ()):
            self._shown[tree.root] = errors
            for error in errors:
                self.show(f"cachelint: {error}")

    def set_buffer(self, uri: str) -> Path | None:
        path = path_of(uri)
        if path is None:
            return None
        document = self.workspace.get_text_document(uri)
        self.buffers[path] = document.source.encode("utf-8", "surrogatepass")
        return path

    def changed(self, path: Path, exact: bool, delay: float) -> None:
        """``path`` changed (in the editor or on disk): forget its facts and check its project."""
        tree = self.tree_of(path)
        tree.forget(path)
        self.schedule(tree.project_of(path), exact, delay)

    def schedule(self, project: WarmProject | None, exact: bool, delay: float) -> None:
        """Check ``project`` after ``delay`` seconds, with any other pending one."""
        if project is None:
            return
        self._pending[project] = self._pending.get(project, False) or exact
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(delay, self.flush)

    def flush(self) -> None:
        self._timer = None
        pending, self._pending = self._pending, {}
        for project, exact in pending.items():
            if project in project.tree.projects:  # not replaced by a reload meanwhile
                self.run_check(project, exact)

    def run_check(self, project: WarmProject, exact: bool = True) -> None:
        try:
            check = project.check(exact=exact)
        except Exception:  # a bug in cachelint: say so, keep serving
            self.log(
                f"cachelint: internal error while checking {project.root}:\n{traceback.format_exc()}",
                types.MessageType.Error,
            )
            return
        self.last_check = check
        logger.info("checked %s in %.1f ms (%d parsed)", project.root, check.seconds * 1000, check.parsed)
        problems = tuple(check.errors + check.warnings)
        if problems != self._reported.get(project.root, ()):
            self._reported[project.root] = problems
            for line in problems:
                self.log(f"cachelint: {line}", types.MessageType.Warning)
        self.findings = {p: f for p, f in self.findings.items() if p in p.tree.projects}  # drop reloaded
        self.findings[project] = check.findings
        self.publish(project)

    def publish(self, project: WarmProject) -> None:
        """Publish the diagnostics of the open documents of ``project`` that changed."""
        check_findings = self.findings.get(project, {})
        lines = _Lines(self.buffers)
        for path in list(self.buffers):
            if self._owner(path) is not project:
                continue
            findings = check_findings.get(path, [])
            if self.published.get(path) == findings:
                continue
            self.published[path] = findings
            diagnostics = [self.diagnostic(f, project, lines) for f in findings]
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=from_fs_path(str(path)) or "", diagnostics=diagnostics)
            )

    def _owner(self, path: Path) -> WarmProject | None:
        return self.tree_of(path).project_of(path)

    def diagnostic(self, finding: Finding, project: WarmProject, lines: _Lines) -> types.Diagnostic:
        rule = project.rules.get(finding.code)
        path = project.absolute(finding.location.path)
        encoding = self.workspace.position_encoding
        related = [
            types.DiagnosticRelatedInformation(
                location=types.Location(
                    uri=from_fs_path(str(project.absolute(e.location.path))) or "",
                    range=lsp_range(e.location.span, lines.get(project.absolute(e.location.path)), encoding),
                ),
                message=e.label,
            )
            for e in finding.related
        ]
        return types.Diagnostic(
            range=lsp_range(finding.location.span, lines.get(path), encoding),
            message=finding.message,
            severity=(
                types.DiagnosticSeverity.Error
                if finding.severity == Severity.ERROR
                else types.DiagnosticSeverity.Warning
            ),
            code=finding.code,
            code_description=(
                types.CodeDescription(href=_rule_url(rule, project.config.docs_url)) if rule else None
            ),
            source=SOURCE,
            related_information=related or None,
            data={"path": str(path), "line": finding.location.line, "col": finding.location.col},
        )

    def reload(self, tree: WarmTree | None = None) -> None:
        """Read the configuration again (of ``tree``, or of all) and re-check the open documents."""
        for each in [tree] if tree is not None else list(self.trees.values()):
            each.load()
            self.show_errors(each)
        self.recheck_open()

    def forget_trees(self) -> None:
        """A project root appeared or went (a pyproject.toml created or deleted): find them again."""
        self.trees.clear()
        self._roots.clear()
        self.recheck_open()

    def recheck_open(self) -> None:
        for path in list(self.buffers):
            project = self.project_of(path)
            if project is None:  # its configuration is broken (and shown): no diagnostics
                self.unpublish(path)
            self.schedule(project, True, SOON)

    def unpublish(self, path: Path) -> None:
        if self.published.pop(path, None):
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=from_fs_path(str(path)) or "", diagnostics=[])
            )

    def findings_in(self, path: Path) -> list[Finding]:
        """The findings of the last check in the open document ``path``."""
        project = self.project_of(path)
        return self.findings.get(project, {}).get(path, []) if project is not None else []

    def findings_at(self, path: Path, line: int) -> list[Finding]:
        """The findings of the last check in ``path`` whose lines include ``line`` (1-based)."""
        return [
            f
            for f in self.findings_in(path)
            if f.location.span.line <= line <= max(f.location.span.line, f.location.span.end_line)
        ]


def path_of(uri: str) -> Path | None:
    """The file a ``file:`` URI names (None for an unsaved ``untitled:`` buffer and the like)."""
    if not uri.startswith("file:"):
        return None
    fs_path = to_fs_path(uri)
    return Path(os.path.abspath(fs_path)) if fs_path else None


class _Lines:
    """Lines of files, for columns in UTF-16 (LSP's default): from the buffer of an open
    document, else read once from disk (evidence in files that are not open)."""

    def __init__(self, buffers: dict[Path, bytes]) -> None:
        self.buffers = buffers
        self.cache: dict[Path, list[str]] = {}

    def get(self, path: Path) -> list[str]:
        if path not in self.cache:
            data = self.buffers.get(path)
            if data is None:
                from cachelint.reading import read_bytes

                try:
                    data = read_bytes(path)[0]
                except OSError:
                    data = b""
            self.cache[path] = split_lines(data.decode("utf-8", "replace").removeprefix("\ufeff"))
        return self.cache[path]


def _units(line: str, col: int, encoding: str | None) -> int:
    """The 0-based column in the client's units of the 1-based code point column ``col``."""
    index = max(0, col - 1)
    if encoding == types.PositionEncodingKind.Utf32:
        return index
    prefix = line[:index]
    if encoding == types.PositionEncodingKind.Utf8:
        return len(prefix.encode("utf-8", "surrogatepass"))
    return index + sum(1 for char in prefix if ord(char) > 0xFFFF)


def lsp_range(span: Span, lines: list[str], encoding: str | None) -> types.Range:
    def text(number: int) -> str:
        return lines[number - 1] if 0 < number <= len(lines) else ""

    start_line, end_line = span.line, max(span.line, span.end_line)
    start = types.Position(line=start_line - 1, character=_units(text(start_line), span.col, encoding))
    if (end_line, span.end_col) <= (start_line, span.col):  # a point (a whole file, a line): the line
        end = types.Position(
            line=start_line - 1, character=_units(text(start_line), len(text(start_line)) + 1, encoding)
        )
    else:
        end = types.Position(line=end_line - 1, character=_units(text(end_line), span.end_col, encoding))
    return types.Range(start=start, end=end)


# --- suppressions --------------------------------------------------------------------------

_PY_NOQA = re.compile(r"#\s*noqa:\s*(?P<codes>CL\d+(?:\s*,\s*CL\d+)*)")
_TPL_NOQA = re.compile(r"\{#\s*noqa:\s*(?P<codes>CL\d+(?:\s*,\s*CL\d+)*)\s*#\}")


def suppression_edit(text: str, line: int, code: str, template: bool) -> tuple[int, int, str] | None:
    """Where and what to write to suppress ``code`` on ``line`` (1-based): ``(column from, column
    to, new text)`` in code points on that line, or None when no comment can go there (the line
    ends inside a string or continues with a backslash)."""
    lines = split_lines(text)
    if not 0 < line <= len(lines):
        return None
    current = lines[line - 1]
    pattern = _TPL_NOQA if template else _PY_NOQA
    existing = pattern.search(current)
    if existing:  # add the code to the line's own noqa
        codes = [c.strip() for c in existing.group("codes").split(",")]
        if code in codes:
            return None
        start, end = existing.span("codes")
        return start, end, ", ".join([*codes, code])
    stripped = current.rstrip()
    if template:
        return len(stripped), len(current), f" {{# noqa: {code} #}}"
    if stripped.endswith("\\") or _ends_inside_string(text, line):
        return None
    return len(stripped), len(current), f"  # noqa: {code}"


def _ends_inside_string(text: str, line: int) -> bool:
    """Whether a string (a triple-quoted one, an f-string) runs on past the end of ``line``."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.start[0] > line:
                return False
            if token.type in (tokenize.STRING, getattr(tokenize, "FSTRING_START", -1)):
                if token.start[0] <= line < token.end[0]:
                    return True
            if getattr(tokenize, "FSTRING_END", -1) == token.type and token.end[0] > line:
                return True
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return True  # cannot tell: offer nothing rather than break the code
    return False


# --- handlers ----------------------------------------------------------------------------------


def guarded(request: bool) -> Callable[[F], F]:
    """A handler whose failure is logged and, for a request, answered with an error: one bad
    request must not take the server down."""

    def decorate(handler: F) -> F:
        @functools.wraps(handler)
        def wrapper(ls: CachelintServer, params: Any) -> Any:
            try:
                if FAULT and FAULT == handler.__name__:
                    raise RuntimeError("fault injected by CACHELINT_SERVER_FAULT")
                return handler(ls, params)
            except Exception as error:
                ls.log(
                    f"cachelint: internal error in {handler.__name__}: {type(error).__name__}: {error}\n"
                    f"{traceback.format_exc()}",
                    types.MessageType.Error,
                )
                if request:
                    raise JsonRpcInternalError(
                        message=f"cachelint: internal error: {type(error).__name__}: {error}"
                    ) from None
                return None

        return wrapper  # type: ignore[return-value]

    return decorate


def create_server() -> CachelintServer:
    server = CachelintServer()

    @server.feature(types.INITIALIZE)
    @guarded(request=True)
    def initialize(ls: CachelintServer, params: types.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict) and isinstance(options.get("debounce"), (int, float)):
            ls.debounce = max(0.0, options["debounce"] / 1000)

    @server.feature(types.INITIALIZED)
    @guarded(request=False)
    def initialized(ls: CachelintServer, params: types.InitializedParams) -> None:
        capabilities = ls.client_capabilities.workspace
        watched = capabilities.did_change_watched_files if capabilities else None
        if watched is not None and watched.dynamic_registration:
            ls.client_register_capability(
                types.RegistrationParams(
                    registrations=[
                        types.Registration(
                            id="cachelint-watched-files",
                            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                            register_options=types.DidChangeWatchedFilesRegistrationOptions(
                                watchers=[types.FileSystemWatcher(glob_pattern=WATCHED)]
                            ),
                        )
                    ]
                )
            )

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    @guarded(request=False)
    def did_open(ls: CachelintServer, params: types.DidOpenTextDocumentParams) -> None:
        path = ls.set_buffer(params.text_document.uri)
        if path is None:
            return
        ls.published.pop(path, None)
        ls.changed(path, True, SOON)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @guarded(request=False)
    def did_change(ls: CachelintServer, params: types.DidChangeTextDocumentParams) -> None:
        path = ls.set_buffer(params.text_document.uri)
        if path is None:
            return
        ls.changed(path, False, ls.debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    @guarded(request=False)
    def did_save(ls: CachelintServer, params: types.DidSaveTextDocumentParams) -> None:
        path = path_of(params.text_document.uri)
        if path is None:
            return
        if path.name in CONFIG_FILES:
            ls.reload(ls.tree_of(path))
            return
        ls.changed(path, True, SOON)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @guarded(request=False)
    def did_close(ls: CachelintServer, params: types.DidCloseTextDocumentParams) -> None:
        path = path_of(params.text_document.uri)
        if path is None or path not in ls.buffers:
            return
        del ls.buffers[path]  # the file on disk counts again
        ls.unpublish(path)
        ls.changed(path, True, SOON)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    @guarded(request=False)
    def did_change_configuration(ls: CachelintServer, params: types.DidChangeConfigurationParams) -> None:
        ls.reload()

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @guarded(request=False)
    def did_change_watched_files(ls: CachelintServer, params: types.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            path = path_of(change.uri)
            if path is None:
                continue
            if path.name == "pyproject.toml" and change.type != types.FileChangeType.Changed:
                ls.forget_trees()  # a project root may have appeared or gone
                continue
            root = ls._roots.get(path.parent) or find_project_root(path.parent)
            tree = ls.trees.get(root)
            if tree is None:
                continue  # no open document there
            if path.name in CONFIG_FILES:
                ls.reload(tree)
                continue
            if change.type != types.FileChangeType.Changed or path.name == ".gitignore":
                tree.rediscover()
            if path not in ls.buffers:
                tree.forget(path)
            ls.schedule(tree.project_of(path), True, SOON)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @guarded(request=True)
    def hover(ls: CachelintServer, params: types.HoverParams) -> types.Hover | None:
        path = path_of(params.text_document.uri)
        if path is None:
            return None
        found = ls.findings_at(path, params.position.line + 1)
        project = ls.project_of(path) if found else None
        if project is None:
            return None
        parts = []
        for finding in found:
            rule = project.rules.get(finding.code)
            if rule is None:
                continue
            url = _rule_url(rule, project.config.docs_url)
            part = [f"**{rule.code}** [`{rule.slug}`]({url}): {rule.summary}", "", finding.message]
            if finding.hint:
                part += ["", f"*Fix:* {finding.hint}"]
            part += ["", f"**Why is this bad?** {' '.join(rule.why_is_this_bad.split())}"]
            parts.append("\n".join(part))
        if not parts:
            return None
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts))
        )

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    @guarded(request=True)
    def code_action(ls: CachelintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        path = path_of(params.text_document.uri)
        project = ls.project_of(path) if path is not None and path in ls.buffers else None
        if path is None or project is None:
            return []
        text = ls.buffers[path].decode("utf-8", "surrogatepass")
        first, last = params.range.start.line + 1, params.range.end.line + 1
        findings = [
            f
            for f in ls.findings_in(path)
            if f.location.span.line <= last and first <= max(f.location.span.line, f.location.span.end_line)
        ]
        return code_actions(ls, project, path, params.text_document.uri, text, findings)

    return server


def code_actions(
    ls: CachelintServer, project: WarmProject, path: Path, uri: str, text: str, findings: list[Finding]
) -> list[types.CodeAction]:
    from cachelint.fixing import fix_text

    actions: list[types.CodeAction] = []
    lines = _Lines({path: text.encode("utf-8", "surrogatepass")})
    encoding = ls.workspace.position_encoding
    template = not path.name.endswith(".py")
    for finding in findings:
        rule = project.rules.get(finding.code)
        if rule is None:
            continue
        diagnostic = ls.diagnostic(finding, project, lines)
        if rule.fixes(finding):
            fixed, refused = fix_text(finding.location.path, text, [finding], project.rules, project.config)
            if fixed != text:
                actions.append(
                    types.CodeAction(
                        title=f"Fix {finding.code} ({rule.slug})",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic],
                        is_preferred=True,
                        edit=_whole_text_edit(uri, text, fixed, encoding),
                    )
                )
            for reason in refused:
                logger.info("%s", reason)
        edit = suppression_edit(text, finding.location.line, finding.code, template)
        if edit is not None:
            start, end, new = edit
            line = lines.get(path)[finding.location.line - 1]
            replace = types.Range(
                start=types.Position(
                    line=finding.location.line - 1, character=_units(line, start + 1, encoding)
                ),
                end=types.Position(line=finding.location.line - 1, character=_units(line, end + 1, encoding)),
            )
            actions.append(
                types.CodeAction(
                    title=f"Suppress {finding.code} on this line",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(range=replace, new_text=new)]}),
                )
            )
    return actions


def _whole_text_edit(uri: str, old: str, new: str, encoding: str | None) -> types.WorkspaceEdit:
    """Replace the document's text (from its first line to past its last) with ``new``."""
    lines = split_lines(old)
    end = types.Position(line=len(lines) - 1, character=_units(lines[-1], len(lines[-1]) + 1, encoding))
    edit = types.TextEdit(range=types.Range(start=types.Position(line=0, character=0), end=end), new_text=new)
    return types.WorkspaceEdit(changes={uri: [edit]})


def serve() -> None:
    """``cachelint server``: serve LSP over stdin/stdout until the client says exit."""
    logging.basicConfig(level=os.environ.get("CACHELINT_SERVER_LOG", "WARNING").upper(), format="%(message)s")
    import multiprocessing

    # The engine parses a large project in worker processes. Forked from this process, which
    # runs threads (pygls reads stdin in one), a worker can inherit a lock held by another
    # thread and hang: start them from a clean server process instead.
    if "forkserver" in multiprocessing.get_all_start_methods():
        multiprocessing.set_start_method("forkserver", force=True)
    else:
        multiprocessing.set_start_method("spawn", force=True)
    # Such a worker imports the main module of this process first: run as the `cachelint`
    # script (which starts a server when imported), name the guarded module instead.
    import importlib.util
    import sys

    main = sys.modules.get("__main__")
    if main is not None and getattr(main, "__spec__", None) is None:
        main.__spec__ = importlib.util.find_spec("cachelint.__main__")
    create_server().start_io()
