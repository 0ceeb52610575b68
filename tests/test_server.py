"""``cachelint server``: the language server, end to end with pygls' own LSP client spawning
``cachelint server`` as a subprocess, and its pieces in process (the warm model, positions,
suppression edits, the error guard)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cachelint.config import Config
from cachelint.engine import check
from cachelint.registry import all_rules, configured_rules
from tests.helpers import write_tree

pytest.importorskip("pygls")

from lsprotocol import types  # noqa: E402
from pygls.exceptions import JsonRpcException  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402

REPO = Path(__file__).resolve().parent.parent

LEAKY_VIEWS = textwrap.dedent(
    """\
    from django.contrib.auth.decorators import login_required
    from django.shortcuts import render
    from django.views.decorators.cache import cache_page
    from django.views.decorators.vary import vary_on_cookie


    @login_required
    @cache_page(60 * 15)
    def order_history(request):
        return render(request, "shop/orders.html")


    @vary_on_cookie
    @cache_page(60)
    def profile_card(request):
        return render(request, "shop/card.html")


    @cache_page(60 * 5)
    def catalogue(request):
        return render(request, "shop/catalogue.html")
    """
)
BASE = "<!doctype html>\n<header>{% block header %}Shop{% endblock %}</header>\n{% block content %}{% endblock %}\n"
USER_BASE = BASE.replace("Shop{% endblock %}", "Hello {{ request.user.username }}{% endblock %}")
ABOUT = (
    "from django.shortcuts import render\nfrom django.views.decorators.cache import cache_page\n\n\n"
    '@cache_page(60)\ndef about(request):\n    return render(request, "shop/card.html")\n'
)
CATALOGUE = '{% extends "base.html" %}\n{% block content %}<p>Everything we sell</p>{% endblock %}\n'


def leaky_project(root: Path, pyproject: str = "") -> None:
    write_tree(
        root,
        {
            "manage.py": "",
            "pyproject.toml": pyproject,
            "shop/__init__.py": "",
            "shop/views.py": LEAKY_VIEWS,
            "shop/templates/base.html": BASE,
            "shop/templates/shop/catalogue.html": CATALOGUE,
            "shop/templates/shop/orders.html": "<p>{{ orders }}</p>\n",
            "shop/templates/shop/card.html": "<p>card</p>\n",
        },
    )


# --- a client ------------------------------------------------------------------------------------


class Session:
    """A pygls LanguageClient talking to ``cachelint server`` (a subprocess) in ``root``."""

    def __init__(self, root: Path, environment: dict[str, str] | None = None) -> None:
        self.root = root
        self.environment = environment or {}
        self.client = LanguageClient("cachelint-tests", "1")
        self.diagnostics: dict[str, list[types.Diagnostic]] = {}
        self.received = asyncio.Condition()
        self.logs: list[str] = []
        self.versions: dict[str, int] = {}

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        async def publish(params: types.PublishDiagnosticsParams) -> None:
            async with self.received:
                self.diagnostics[params.uri] = list(params.diagnostics)
                self.received.notify_all()

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def log(params: types.LogMessageParams) -> None:
            self.logs.append(params.message)

        @self.client.feature(types.WINDOW_SHOW_MESSAGE)
        def show(params: types.ShowMessageParams) -> None:
            self.logs.append(params.message)

    async def start(self) -> types.InitializeResult:
        environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | self.environment
        await self.client.start_io(
            sys.executable, str(REPO / "scripts" / "cachelint"), "server", cwd=str(self.root), env=environment
        )
        result = await self.client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                root_uri=self.root.as_uri(),
                initialization_options={"debounce": 20},
            )
        )
        self.client.initialized(types.InitializedParams())
        return result

    async def stop(self) -> None:
        await asyncio.wait_for(self.client.shutdown_async(None), 10)
        self.client.exit(None)
        await self.client.stop()

    def uri(self, relative: str) -> str:
        return (self.root / relative).as_uri()

    def open(self, relative: str) -> str:
        uri = self.uri(relative)
        self.versions[uri] = 1
        language = "python" if relative.endswith(".py") else "html"
        text = (self.root / relative).read_text()
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)
            )
        )
        return uri

    def change(self, uri: str, text: str) -> None:
        self.versions[uri] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    async def wait_for(self, uri: str, predicate, timeout: float = 30) -> list[types.Diagnostic]:
        """The diagnostics of ``uri`` once ``predicate`` holds for them."""

        def ready() -> bool:
            return uri in self.diagnostics and predicate(self.diagnostics[uri])

        async with self.received:
            await asyncio.wait_for(self.received.wait_for(ready), timeout)
            return self.diagnostics[uri]


def codes(diagnostics: list[types.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


def apply_edits(text: str, edits) -> str:
    """``text`` with LSP ``TextEdit``s applied (ASCII text: UTF-16 columns are characters)."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def offset(position: types.Position) -> int:
        return offsets[min(position.line, len(lines))] + position.character

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


def run(scenario) -> None:
    asyncio.run(asyncio.wait_for(scenario(), 120))


# --- end to end ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_leaky_view_diagnostics_code_actions_and_hover(tmp_path: Path) -> None:
    leaky_project(tmp_path)

    async def scenario() -> None:
        session = Session(tmp_path)
        result = await session.start()
        assert result.capabilities.hover_provider
        assert result.capabilities.code_action_provider
        uri = session.open("shop/views.py")
        diagnostics = await session.wait_for(uri, lambda d: "CL101" in codes(d))
        assert codes(diagnostics) == ["CL101", "CL103"]
        leak = next(d for d in diagnostics if d.code == "CL101")
        assert leak.source == "cachelint"
        assert leak.severity == types.DiagnosticSeverity.Error
        assert (leak.range.start.line, leak.range.start.character) == (7, 1)  # `cache_page(...)`, line 8
        assert leak.code_description.href.endswith("/rules/CL101.md")
        assert leak.message.startswith("`cache_page` on a login-protected view")
        related = leak.related_information
        assert [(r.location.uri, r.location.range.start.line, r.message) for r in related] == [
            (uri, 6, "`login_required` requires login here")
        ]

        hover = await session.client.text_document_hover_async(
            types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=leak.range.start)
        )
        assert "**CL101**" in hover.contents.value
        assert "serves one user's page to others" in hover.contents.value  # the summary
        assert "**Why is this bad?**" in hover.contents.value

        text = (tmp_path / "shop/views.py").read_text()

        async def actions(diagnostic: types.Diagnostic) -> list[types.CodeAction]:
            return await session.client.text_document_code_action_async(
                types.CodeActionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    range=diagnostic.range,
                    context=types.CodeActionContext(diagnostics=[diagnostic]),
                )
            )

        # CL101 has no mechanical fix: suppressing it on its line is the action.
        offered = await actions(leak)
        assert [a.title for a in offered] == ["Suppress CL101 on this line"]
        text = apply_edits(text, offered[0].edit.changes[uri])
        assert "@cache_page(60 * 15)  # noqa: CL101\n" in text
        session.change(uri, text)
        diagnostics = await session.wait_for(uri, lambda d: "CL101" not in codes(d))
        assert codes(diagnostics) == ["CL103"]

        # CL103's fix is --fix's: the vary decorator moves below cache_page.
        offered = await actions(diagnostics[0])
        assert [a.title for a in offered] == [
            "Fix CL103 (vary-applied-outside-cache-page)",
            "Suppress CL103 on this line",
        ]
        assert offered[0].is_preferred
        text = apply_edits(text, offered[0].edit.changes[uri])
        assert "@cache_page(60)\n@vary_on_cookie\ndef profile_card" in text
        session.change(uri, text)
        diagnostics = await session.wait_for(uri, lambda d: "CL103" not in codes(d))
        # Below cache_page, Vary: Cookie keeps one entry per visitor of a public page: CL104 says so.
        assert codes(diagnostics) == ["CL104"]
        assert not any("internal error" in line for line in session.logs)
        await session.stop()

    run(scenario)


@pytest.mark.slow
def test_editing_a_base_template_updates_the_views_that_render_it(tmp_path: Path) -> None:
    leaky_project(tmp_path)

    async def scenario() -> None:
        # Worker processes parse the project (the server starts them from a forkserver, which
        # must not run the `cachelint` script, i.e. a second server, when it imports __main__).
        write_tree(tmp_path, {"shop/about.py": ABOUT})  # parsed from disk, in a worker
        session = Session(tmp_path, {"CACHELINT_PARALLEL_MIN_BYTES": "0"})
        await session.start()
        views = session.open("shop/views.py")
        base = session.open("shop/templates/base.html")
        assert "CL102" not in codes(await session.wait_for(views, lambda d: "CL101" in codes(d)))
        # The base template now greets the user: the cached catalogue, which extends it, leaks.
        session.change(base, USER_BASE)
        diagnostics = await session.wait_for(views, lambda d: "CL102" in codes(d))
        personal = next(d for d in diagnostics if d.code == "CL102")
        assert personal.range.start.line == 18  # catalogue's cache_page
        assert (base, 1) in [
            (r.location.uri, r.location.range.start.line) for r in personal.related_information
        ]
        await session.wait_for(base, lambda d: True)
        # Undo: the finding goes, without the view's file being touched.
        session.change(base, BASE)
        await session.wait_for(views, lambda d: "CL102" not in codes(d))
        # Closing the template makes the file on disk count again.
        assert (tmp_path / "shop/templates/base.html").read_text() == BASE
        assert not any("internal error" in line for line in session.logs), session.logs
        await session.stop()

    run(scenario)


@pytest.mark.slow
def test_configuration_reload_bad_request_and_pyproject(tmp_path: Path) -> None:
    leaky_project(tmp_path)

    async def scenario() -> None:
        session = Session(tmp_path, {"CACHELINT_SERVER_FAULT": "hover"})
        await session.start()
        uri = session.open("shop/views.py")
        await session.wait_for(uri, lambda d: codes(d) == ["CL101", "CL103"])
        # A request that fails (here on purpose) is logged and answered with an error.
        with pytest.raises(JsonRpcException, match="fault injected"):
            await session.client.text_document_hover_async(
                types.HoverParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=types.Position(line=7, character=2),
                )
            )
        assert any("internal error in hover: RuntimeError" in line for line in session.logs)
        (tmp_path / "pyproject.toml").write_text('[tool.cachelint]\nignore = ["CL101"]\n')
        session.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        assert codes(await session.wait_for(uri, lambda d: "CL101" not in codes(d))) == ["CL103"]
        # A changed pyproject.toml (seen by the editor's file watcher) is read again too.
        (tmp_path / "pyproject.toml").write_text('[tool.cachelint]\nignore = ["CL103"]\n')
        session.client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[
                    types.FileEvent(uri=session.uri("pyproject.toml"), type=types.FileChangeType.Changed)
                ]
            )
        )
        assert codes(await session.wait_for(uri, lambda d: "CL103" not in codes(d))) == ["CL101"]
        # A broken configuration is shown, and the server still answers.
        (tmp_path / "pyproject.toml").write_text('[tool.cachelint]\nselect = ["CL9"]\n')
        session.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        await session.wait_for(uri, lambda d: not d)
        still = await session.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(
                    start=types.Position(line=7, character=0), end=types.Position(line=7, character=0)
                ),
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
        assert not still
        assert any("unknown rule code or prefix: CL9" in line for line in session.logs)
        await session.stop()

    run(scenario)


# --- in process -----------------------------------------------------------------------------------


def test_server_without_the_lsp_extra_says_how_to_install_it() -> None:
    code = "import sys; sys.modules['pygls'] = None; from cachelint.cli import main; sys.argv = ['cachelint', 'server']; main()"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 2
    assert "pip install 'django-cachelint[lsp]'" in done.stderr


def test_check_does_not_import_pygls() -> None:
    code = (
        "import sys, cachelint.cli, cachelint.engine, cachelint.server, cachelint.server.model\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol')], 'imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_warm_model_matches_check_and_reparses_only_the_buffer(tmp_path: Path, monkeypatch) -> None:
    from cachelint.server.model import WarmTree

    leaky_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    buffers: dict[Path, bytes] = {}
    tree = WarmTree(tmp_path, buffers, disk_cache=False)
    [project] = tree.projects
    views = tmp_path / "shop/views.py"
    first = project.check()
    rules = configured_rules(all_rules(), [], [], [])
    cold = check([tmp_path], Config(cache=False), rules)
    assert first.findings == {views: cold.findings}
    base = tmp_path / "shop/templates/base.html"
    buffers[base] = USER_BASE.encode()
    tree.forget(base)
    quick = project.check(exact=False)
    assert quick.parsed == 1  # the buffer; every other file from memory
    assert sorted(f.code for f in quick.findings[views]) == ["CL101", "CL102", "CL103"]
    assert project.check(exact=True).findings == quick.findings
    del buffers[base]
    tree.forget(base)
    assert project.check(exact=False).findings == first.findings


def test_open_files_the_walk_skips_are_checked(tmp_path: Path, monkeypatch) -> None:
    from cachelint.server.model import WarmTree

    leaky_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    test_module = tmp_path / "shop/tests/test_views.py"  # test code: not walked by default
    buffers = {test_module: LEAKY_VIEWS.encode()}
    tree = WarmTree(tmp_path, buffers, disk_cache=False)
    [project] = tree.projects
    assert tree.project_of(test_module) is project
    assert sorted(f.code for f in project.check().findings[test_module]) == ["CL101", "CL103"]


def test_suppression_edits() -> None:
    from cachelint.server.lsp import suppression_edit

    text = "a = 1\n@cache_page(60)\nb = 2  # noqa: CL201\nc = '''\nd'''\ne = 1 + \\\n  2\n"
    assert suppression_edit(text, 2, "CL101", template=False) == (15, 15, "  # noqa: CL101")
    assert suppression_edit(text, 3, "CL101", template=False) == (15, 20, "CL201, CL101")
    assert suppression_edit(text, 3, "CL201", template=False) is None  # already there
    assert suppression_edit(text, 4, "CL101", template=False) is None  # inside a string
    assert suppression_edit(text, 6, "CL101", template=False) is None  # a continued line
    assert suppression_edit(text, 99, "CL101", template=False) is None
    html = "{% cache 500 sidebar %}   \n{{ user }} {# noqa: CL202 #}\n"
    assert suppression_edit(html, 1, "CL201", template=True) == (23, 26, " {# noqa: CL201 #}")
    assert suppression_edit(html, 2, "CL203", template=True) == (20, 25, "CL202, CL203")


def test_positions_in_utf16() -> None:
    from cachelint.finding import Span
    from cachelint.server.lsp import lsp_range

    lines = ["x = '😀'; cache.set(k, v)"]
    span = Span(1, 10, 1, 25)  # 1-based code points, end exclusive: `cache.set(k, v)`
    utf16 = lsp_range(span, lines, "utf-16")
    assert (utf16.start.character, utf16.end.character) == (10, 25)  # the emoji is two UTF-16 units
    utf32 = lsp_range(span, lines, "utf-32")
    assert (utf32.start.character, utf32.end.character) == (9, 24)
    whole_line = lsp_range(Span(1), lines, "utf-32")  # a finding on a file: its first line
    assert (whole_line.start.character, whole_line.end.character) == (0, 24)


def test_a_failing_request_is_logged_and_answered_with_an_error() -> None:
    from pygls.exceptions import JsonRpcInternalError

    from cachelint.server.lsp import CachelintServer, guarded

    server = CachelintServer()
    logged: list[str] = []
    server.log = lambda message, kind=None: logged.append(message)  # type: ignore[method-assign]

    @guarded(request=True)
    def broken_request(ls, params):
        raise KeyError("boom")

    @guarded(request=False)
    def broken_notification(ls, params):
        raise ValueError("bang")

    with pytest.raises(JsonRpcInternalError, match="KeyError"):
        broken_request(server, None)
    assert broken_notification(server, None) is None
    assert "internal error in broken_request: KeyError" in logged[0]
    assert "internal error in broken_notification: ValueError: bang" in logged[1]


def test_baseline_fingerprints_come_from_the_buffer(tmp_path: Path, monkeypatch) -> None:
    from cachelint import baseline
    from cachelint.server.model import WarmTree

    leaky_project(tmp_path, '[tool.cachelint]\nbaseline = "baseline.json"\n')
    monkeypatch.chdir(tmp_path)
    rules = configured_rules(all_rules(), [], [], [])
    recorded = check([tmp_path], Config(cache=False), rules).findings
    assert sorted(f.code for f in recorded) == ["CL101", "CL103"]
    baseline.write(tmp_path / "baseline.json", recorded, tmp_path)
    views = tmp_path / "shop/views.py"
    buffers = {views: ("# a new first line\n\n" + LEAKY_VIEWS).encode()}  # every finding moves down
    tree = WarmTree(tmp_path, buffers, disk_cache=False)
    [project] = tree.projects
    assert project.check().findings == {}  # still the baselined findings, matched in the buffer
    buffers[views] = (
        LEAKY_VIEWS + "\n\n@cache_page(60)\n@login_required\ndef more(request):\n    pass\n"
    ).encode()
    tree.forget(views)
    [new] = project.check(exact=False).findings[views]
    assert (new.code, new.location.line) == ("CL101", 24)  # the new `cache_page`
