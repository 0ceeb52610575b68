"""One libcst parse and one traversal per Python file, producing picklable facts."""

from __future__ import annotations

import re
from typing import Any

import libcst as cst

from cachelint import django_api as api
from cachelint.facts.flow import FunctionFlowBuilder
from cachelint.facts.keyshapes import CACHE_API, KeyShaper
from cachelint.facts.lowering import lower, lower_module
from cachelint.facts.names import ImportTable, dotted_name
from cachelint.facts.positions import Positions
from cachelint.facts.python import ParseError, PythonFacts, RedisClient
from cachelint.facts.settings import SETTINGS_MARKERS
from cachelint.facts.values import UNKNOWN, SettingRef, evaluate
from cachelint.facts.views import (
    ABSENT,
    Access,
    Alias,
    CacheCall,
    Call,
    ClassAttr,
    ClassFacts,
    FunctionFacts,
    HeaderWrite,
    Route,
    TemplateRef,
    ViewFacts,
)
from cachelint.facts.walk import walk
from cachelint.finding import Span


def collect(source: bytes, path: str, module: str, is_package: bool, settings_like: bool) -> PythonFacts:
    try:
        tree = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        raise _syntax_error(error, source) from None
    except (UnicodeDecodeError, LookupError, SyntaxError) as error:
        raise ParseError(f"cannot decode: {error}") from None
    except RecursionError:
        raise ParseError("too deeply nested to parse") from None
    collector = _Collector(tree, ImportTable(module, is_package))
    walk(tree, collector)
    views = collector.finish()
    settings = None
    if (
        settings_like
        or collector.assigns_settings_marker
        or collector.imports.star_imports
        or any(t.startswith("configurations") for t in collector.imports.bindings.values())
    ):
        settings = lower_module(tree, collector.imports, collector.positions.span)
    return PythonFacts(path, module, views, settings, redis_clients=tuple(collector.redis_clients))


_ERROR_AT = re.compile(r"error at (\d+):(\d+): (.*)")


def _syntax_error(error: cst.ParserSyntaxError, source: bytes) -> ParseError:
    """libcst's message names the real position ("error at 2:0: expected ..."); keep it short."""
    line, col, detail = error.raw_line, error.raw_column + 1, ""
    match = _ERROR_AT.search(str(error.message))
    if match:
        line, col, detail = int(match[1]), int(match[2]) + 1, match[3]
    line = max(1, min(line, source.count(b"\n") + 1))
    if detail.startswith("expected one of") and detail.count(",") > 5:
        detail = ""  # a list of every token the grammar allows helps nobody
    return ParseError(
        f"syntax error{': ' + detail if detail else ''} (Python file cannot be parsed)", Span(line, col)
    )


# unittest's and pytest's set-up and tear-down hooks: they run around tests, never in a request.
TEST_FIXTURE_FUNCTIONS = frozenset(
    "setUp tearDown setUpClass tearDownClass setUpTestData asyncSetUp asyncTearDown setUpModule "
    "tearDownModule setup_method teardown_method setup_class teardown_class setup_function "
    "teardown_function setup_module teardown_module".split()
)


class _FunctionState:
    def __init__(self, node: cst.FunctionDef, request_names: set[str], flow: FunctionFlowBuilder) -> None:
        self.node = node
        self.request_names = request_names
        self.flow = flow
        self.accesses: list[Access] = []
        self.renders: list[TemplateRef] = []
        self.header_writes: list[HeaderWrite] = []
        self.calls: dict[str, Span] = {}
        self.inline_wrappers: list[Call] = []
        self.session_accessed_writes: list[Span] = []
        self.request_calls: dict[str, Span] = {}
        self.returned_keys: list[str] = []
        self.cache_calls: list[CacheCall] = []
        self.reads_user = False
        self.super_calls: set[str] = set()
        self.unsafe_branches: list[Span] = []
        self.unsafe_depth = 0  # inside ``if request.method == "POST":``
        self.cookie_writes: list[Span] = []


class _ClassState:
    def __init__(self, node: cst.ClassDef) -> None:
        self.node = node
        self.methods: list[FunctionFacts] = []
        self.attributes: list[ClassAttr] = []


class _Collector(cst.CSTVisitor):
    """Collects imports, view-like callables and module-level aliases in one walk."""

    def __init__(self, module: cst.Module, imports: ImportTable) -> None:
        self.module = module
        self.imports = imports
        self.positions = Positions(module)
        self.functions: list[FunctionFacts] = []
        self.classes: list[ClassFacts] = []
        self.aliases: list[Alias] = []
        self.routes: list[Route] = []
        self.assigns_settings_marker = False
        self.redis_clients: list[RedisClient] = []
        self._class: _ClassState | None = None
        self._function: _FunctionState | None = None
        self._depth = 0  # nesting of def/class below module level
        self._conditional = 0  # nesting of if/try blocks
        self._debug_only = 0  # inside an ``if settings.DEBUG:`` branch
        self._key_shaper = KeyShaper(module, imports)  # reads the module only for cache calls
        # Decorators are converted when the walk is over and every import is known.
        self._pending_functions: list[tuple[cst.FunctionDef, _FunctionState, _ClassState | None]] = []

    # --- helpers ---------------------------------------------------------------------------

    def span(self, node: cst.CSTNode) -> Span:
        return self.positions.span(node)

    def resolve(self, node: cst.BaseExpression) -> str | None:
        return self.imports.resolve(dotted_name(node))

    def resolve_bound(self, node: cst.BaseExpression) -> str | None:
        """Like ``resolve``, but a name the module does not import or define (yet) is marked
        ``?name``: a function defined further down is resolved when the walk is over."""
        dotted = dotted_name(node)
        if dotted is None:
            return None
        if dotted.partition(".")[0] not in self.imports.bindings:
            return f"?{dotted}"
        return self.imports.resolve(dotted)

    def late(self, name: str) -> str:
        """A name as the finished import table resolves it (``helper`` defined below its use)."""
        if name.startswith("?"):
            name = name[1:]
            return self.imports.resolve(name) or "" if name.partition(".")[0] in self.imports.bindings else ""
        if "." not in name and name in self.imports.bindings:
            return self.imports.resolve(name) or name
        return name

    def literal(self, node: cst.BaseExpression) -> Any:
        return evaluate(lower(node, self.imports.resolve, self.span), {})

    def argument(self, node: cst.BaseExpression) -> Any:
        """A decorator argument: its literal value, or a ``SettingRef`` for ``settings.X["k"]``."""
        value = self.literal(node)
        if value is not UNKNOWN:
            return value
        keys: list[Any] = []
        while isinstance(node, cst.Subscript) and len(node.slice) == 1:
            index = node.slice[0].slice
            key = self.literal(index.value) if isinstance(index, cst.Index) else UNKNOWN
            if not isinstance(key, str | int):
                return UNKNOWN
            keys.insert(0, key)
            node = node.value
        if isinstance(node, cst.Attribute) and self.resolve(node.value) in api.SETTINGS_OBJECT:
            return SettingRef(node.attr.value, tuple(keys))
        return UNKNOWN

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def to_call(self, expression: cst.BaseExpression) -> Call | None:
        """A decorator expression as a Call; None when it is not a (called) dotted name."""
        if isinstance(expression, cst.Call):
            name = self.resolve(expression.func)
            if name is None:
                return None
            positional = [a.value for a in expression.args if a.keyword is None and not a.star]
            keywords = [(a.keyword.value, a.value) for a in expression.args if a.keyword]
            inner: tuple[Call, ...] = ()
            if name in api.METHOD_DECORATOR and positional:
                first = positional[0]
                elements = (
                    [e.value for e in first.elements] if isinstance(first, cst.List | cst.Tuple) else [first]
                )
                inner = tuple(c for c in map(self.to_call, elements) if c is not None)
            return Call(
                name=name,
                span=self.span(expression),
                text=self.code(expression),
                called=True,
                args=tuple(self.argument(v) for v in positional),
                kwargs=tuple((k, self.argument(v)) for k, v in keywords),
                inner=inner,
                kwarg_texts=tuple((k, self.code(v)) for k, v in keywords),
                names=self._listed_names(positional),
                refs=tuple(
                    name
                    for name in (self.resolve(v) for v in (*positional, *(v for _, v in keywords)))
                    if name is not None
                ),
            )
        name = self.resolve(expression)
        if name is None:
            return None
        return Call(name=name, span=self.span(expression), text=self.code(expression))

    # --- imports ---------------------------------------------------------------------------

    def visit_If(self, node: cst.If) -> bool:
        self._conditional += 1
        return True

    def leave_If(self, node: cst.If) -> None:
        self._conditional -= 1
        if self._function is not None:
            for name in _membership_guarded(node):
                self._function.flow.validated(name)

    def leave_For(self, node: cst.For) -> None:
        if self._function is not None:
            for name in _allowlist_loop_guarded(node):
                self._function.flow.validated(name)

    def _debug_branch(self, node: cst.If) -> str | None:
        """ "body" for ``if settings.DEBUG:``, "orelse" for ``if not settings.DEBUG:`` (or a
        project's ``settings.TESTS``/``TESTING`` flag: test-only code never runs in production)."""
        test, negated = node.test, False
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            test, negated = test.expression, True
        if (dotted_name(test) or "").rpartition(".")[2] not in ("DEBUG", "TESTS", "TESTING"):
            return None
        return "orelse" if negated else "body"

    def visit_If_body(self, node: cst.If) -> None:
        self._debug_only += self._debug_branch(node) == "body"
        self._enter_method_branch(node, "body")

    def leave_If_body(self, node: cst.If) -> None:
        self._debug_only -= self._debug_branch(node) == "body"
        self._leave_method_branch(node, "body")

    def visit_If_orelse(self, node: cst.If) -> None:
        self._debug_only += self._debug_branch(node) == "orelse"
        self._enter_method_branch(node, "orelse")

    def leave_If_orelse(self, node: cst.If) -> None:
        self._debug_only -= self._debug_branch(node) == "orelse"
        self._leave_method_branch(node, "orelse")

    def _unsafe_method_branch(self, node: cst.If) -> str | None:
        """ "body" for ``if request.method == "POST":``, "orelse" for ``if request.method in
        ("GET", "HEAD"):``: the branch that never answers GET or HEAD, whose response
        ``cache_page`` does not store."""
        state = self._function
        if state is None:
            return None
        test, conjunction = node.test, False
        if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
            test, conjunction = test.left, True  # ``request.method == "POST" and form.is_valid()``
        methods = _method_test(test, {f"{name}.method" for name in state.request_names})
        if methods is None:
            return None
        allowed, negated = methods
        safe = {"GET", "HEAD"}
        body_never_safe = not allowed & safe if not negated else safe <= allowed
        orelse_never_safe = safe <= allowed if not negated else not allowed & safe
        if body_never_safe:
            return "body"
        return "orelse" if orelse_never_safe and not conjunction and node.orelse is not None else None

    def _enter_method_branch(self, node: cst.If, branch: str) -> None:
        if self._function is not None and self._unsafe_method_branch(node) == branch:
            block = node.body if branch == "body" else node.orelse
            assert block is not None  # no "orelse" without one
            self._function.unsafe_depth += 1
            self._function.unsafe_branches.append(self.span(block))

    def _leave_method_branch(self, node: cst.If, branch: str) -> None:
        if self._function is not None and self._unsafe_method_branch(node) == branch:
            self._function.unsafe_depth -= 1

    def visit_Try(self, node: cst.Try) -> bool:
        self._conditional += 1
        return True

    def leave_Try(self, node: cst.Try) -> None:
        self._conditional -= 1

    def _bind_local(self, name: str) -> None:
        """A module-level definition rebinds the name, unless it only happens on one branch:
        ``if settings.DEBUG: def cache_page(t): ...`` leaves production's import in force."""
        if not self._conditional or name not in self.imports.bindings:
            self.imports.bind_local(name)

    def visit_Import(self, node: cst.Import) -> bool:
        self.imports.add_import(node)
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        self.imports.add_import_from(node)
        return False

    # --- definitions -----------------------------------------------------------------------

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        if self._depth == 0:
            self._bind_local(node.name.value)
            self._class = _ClassState(node)
        self._depth += 1
        return True

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self._depth -= 1
        if self._depth == 0 and self._class is not None:
            state = self._class
            self._class = None
            self._pending_functions.append((node, None, state))  # type: ignore[arg-type]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        in_class = self._class is not None and self._depth == 1
        if self._depth == 0 or in_class:
            if self._depth == 0:
                self._bind_local(node.name.value)
            params = [p.name.value for p in node.params.params]
            request_names = {"request"}
            if in_class:
                request_names |= {"self.request"}
                if len(params) > 1:
                    request_names.add(params[1])
            elif params:
                request_names.add(params[0])
            flow = FunctionFlowBuilder(
                request_names, params, self.resolve_bound, self.span, api.PERSONAL_CALLS
            )
            for param in node.params.params:
                if param.default is not None:  # ``template_name="stats/stats.html"``
                    flow.constant(param.name.value, self.literal(param.default))
            self._function = _FunctionState(node, request_names, flow)
        elif self._function is not None:
            # Decorators of nested functions: how a project decorator applies login_required.
            for decorator in node.decorators:
                self._record_call(decorator.decorator)
        self._depth += 1
        return True

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._depth -= 1
        state = self._function
        if state is not None and state.node is node:
            self._function = None
            self._pending_functions.append((node, state, self._class if self._depth == 1 else None))

    def _record_call(self, expression: cst.BaseExpression) -> None:
        assert self._function is not None
        target = expression.func if isinstance(expression, cst.Call) else expression
        name = self.resolve(target)
        if name:
            span = self.span(expression)
            if name not in self._function.calls or span < self._function.calls[name]:
                self._function.calls[name] = span

    # --- inside functions ------------------------------------------------------------------

    def visit_Expr(self, node: cst.Expr) -> bool:
        # A bare ``request.user`` statement (forcing authentication) prints nothing.
        return not isinstance(node.value, cst.Attribute)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        state, attribute = self._function, node.attr.value
        if state is None:
            return True
        if attribute in ("user", "session") and dotted_name(node.value) in state.request_names:
            state.accesses.append(Access(f"request.{attribute}", self.span(node), state.unsafe_depth > 0))
        if _is_super_call(node.value):
            state.super_calls.add(attribute)
        if attribute in ("user", "is_authenticated", "is_anonymous"):
            state.reads_user = True
        return True

    def visit_Call(self, node: cst.Call) -> bool:
        state = self._function
        name = self.resolve(node.func)
        if name in api.URL_FUNCTIONS:
            self._record_route(node)
        elif name in api.REDIS_FROM_URL and node.args and node.args[0].keyword is None:
            ref = self.argument(node.args[0].value)
            if isinstance(ref, SettingRef) and not ref.keys:
                self.redis_clients.append(RedisClient(ref.name, self.span(node), name))
        if state is None:
            return True
        if isinstance(node.func, cst.Attribute):
            state.flow.mutate(node)
            if node.func.attr.value in ("set_cookie", "set_signed_cookie") and not state.unsafe_depth:
                state.cookie_writes.append(self.span(node))
            alias = self._cache_alias(node.func.value, bound=node.func.attr.value in CACHE_API)
            if alias is not False:
                state.cache_calls.append(self._cache_call(node, node.func.attr.value, alias))
        if isinstance(node.func, cst.Call) and node.args and _is_handler_reference(node.args[0].value):
            wrapper = self.to_call(node.func)  # cache_page(60)(super().dispatch)
            if wrapper is not None:
                state.inline_wrappers.append(wrapper)
        if name is None:
            return True
        span = self.span(node)
        if name not in state.calls or span < state.calls[name]:  # the first in the source
            state.calls[name] = span
        if any(dotted_name(a.value) in state.request_names for a in node.args):
            if name not in state.request_calls or span < state.request_calls[name]:
                state.request_calls[name] = span
        if name in api.RESPONSE_CLASSES:
            self._headers_kwarg(node)
        if name in api.TEMPLATE_RENDERERS:
            self._record_templates(node, api.TEMPLATE_RENDERERS[name])
        elif name in api.PERSONAL_CALLS:
            state.accesses.append(Access(api.PERSONAL_CALLS[name], self.span(node), state.unsafe_depth > 0))
        elif name in api.PATCH_VARY_HEADERS and len(node.args) > 1:
            value = self.literal(node.args[1].value)
            headers = tuple(h.lower() for h in value) if isinstance(value, list | tuple) else UNKNOWN
            state.header_writes.append(HeaderWrite("vary", headers, self.span(node), "patch_vary_headers"))
        elif name in api.PATCH_CACHE_CONTROL:
            directives = {a.keyword.value: self.literal(a.value) for a in node.args if a.keyword}
            state.header_writes.append(
                HeaderWrite("cache-control", directives, self.span(node), "patch_cache_control")
            )
        elif name in api.ADD_NEVER_CACHE_HEADERS:
            state.header_writes.append(
                HeaderWrite("cache-control", {"no_store": True, "private": True}, self.span(node), name)
            )
        return True

    @property
    def _imports_cache(self) -> bool:
        """The module imports Django's cache: a name of it may be bound to ``caches["x"]``."""
        return any(target.startswith("django.core.cache") for target in self.imports.bindings.values())

    def _cache_alias(self, receiver: cst.BaseExpression, bound: bool = True) -> str | None | bool:
        """ "default" for ``cache``, "x" for ``caches["x"]``, None if not literal, False if no cache;
        also through a variable assigned one of them (``store = caches["x"]``), once."""
        name = receiver.value if bound and isinstance(receiver, cst.Name) else "self"
        if name != "self" and name not in self.imports.bindings and self._imports_cache:
            value = self._key_shaper.bound_value(name, self._function.node if self._function else None)
            if value is not None:
                return self._cache_alias(value, bound=False)
        if self.resolve(receiver) in api.DEFAULT_CACHE:
            return "default"
        if isinstance(receiver, cst.Subscript) and self.resolve(receiver.value) in api.CACHES_HANDLER:
            index = receiver.slice[0].slice if len(receiver.slice) == 1 else None
            alias = self.literal(index.value) if isinstance(index, cst.Index) else UNKNOWN
            return alias if isinstance(alias, str) else None
        return False

    def _cache_call(self, node: cst.Call, method: str, alias: str | None) -> CacheCall:
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        keywords = {a.keyword.value: a.value for a in node.args if a.keyword}

        def argument(index: int | None, keyword: str) -> cst.BaseExpression | None:
            if keyword in keywords:
                return keywords[keyword]
            return positional[index] if index is not None and index < len(positional) else None

        flow = self._function.flow if self._function is not None else None
        slots = api.CACHE_METHOD_ARGUMENTS.get(method, (0, None, None))
        key = argument(slots[0], "key")
        value = argument(slots[1], "value" if method != "get_or_set" else "default")
        timeout = argument(slots[2], "timeout")
        return CacheCall(
            method=method,
            alias=alias,
            span=self.span(node),
            key_text=self.code(key) if key is not None else None,
            key=self.literal(key) if key is not None else None,
            value_text=self.code(value) if value is not None else None,
            timeout=self.literal(timeout) if timeout is not None else ABSENT,
            debug_only=self._debug_only > 0,
            key_labels=flow.labels(key) if flow else frozenset(),
            value_labels=flow.labels(value) if flow else frozenset(),
            key_shapes=self._key_shaper.call_shapes(method, key, value, self._function.node)
            if self._function is not None
            else (),
            test_code=self._in_test_code(),
        )

    def _in_test_code(self) -> bool:
        """Inside a ``setUp``/``tearDown``-like function or a class whose base is a ``*TestCase``."""
        if self._function is not None and self._function.node.name.value in TEST_FIXTURE_FUNCTIONS:
            return True
        bases = self._class.node.bases if self._class is not None else ()
        return any((dotted_name(base.value) or "").rpartition(".")[2].endswith("TestCase") for base in bases)

    def _record_route(self, node: cst.Call) -> None:
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        keyword = next((a.value for a in node.args if a.keyword and a.keyword.value == "view"), None)
        target = keyword if keyword is not None else (positional[1] if len(positional) > 1 else None)
        if target is not None:
            route = self.literal(positional[0]) if positional else None
            self._record_wrapped_view(node, target, route if isinstance(route, str) else None)

    def _record_wrapped_view(self, node: cst.CSTNode, target: cst.BaseExpression, route: str | None) -> bool:
        """Unwrap ``cache_page(60)(login_required(views.x))`` or ``View.as_view(...)`` into a
        Route: the wrappers (outermost first) and the view. False when it is not a view."""
        wrappers: list[Call] = []
        expression: cst.BaseExpression = target
        while isinstance(expression, cst.Call):
            func = expression.func
            args = [a.value for a in expression.args if a.keyword is None and not a.star]
            if isinstance(func, cst.Attribute) and func.attr.value == "as_view":
                initkwargs = tuple(
                    (a.keyword.value, self.literal(a.value)) for a in expression.args if a.keyword
                )
                view = self.resolve(func.value)
                span = self.span(expression)
                self.routes.append(Route(self.span(node), route, tuple(wrappers), view, span, initkwargs))
                return True
            if isinstance(func, cst.Call):  # cache_page(60)(view)
                call = self.to_call(func)
            else:  # login_required(view), never_cache(view), a project decorator(view)
                name = self.resolve(func)
                if name is None or name in api.URL_INCLUDE:
                    return False
                call = Call(name=name, span=self.span(func), text=self.code(func))
            if call is None or not args:
                return False
            wrappers.append(call)
            expression = args[0]
        view = self.resolve(expression)
        if view is None:
            return False
        self.routes.append(Route(self.span(node), route, tuple(wrappers), view, self.span(expression)))
        return True

    def _record_templates(self, node: cst.Call, index: int) -> None:
        assert self._function is not None
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        keyword = next(
            (a.value for a in node.args if a.keyword and a.keyword.value in api.TEMPLATE_NAME_KEYWORDS),
            None,
        )
        target = keyword if keyword is not None else (positional[index] if len(positional) > index else None)
        if target is None:
            return
        value = self.literal(target)
        names = value if isinstance(value, list | tuple) else [value]
        if value is UNKNOWN:  # a local or a parameter default: ``render(request, template_name)``
            names = self._function.flow.template_names(target)
        # Keys the view puts in the context itself: ``{"user": profile_owner}`` hides the
        # visitor's ``user`` from the template.
        context = next((a.value for a in node.args if a.keyword and a.keyword.value == "context"), None)
        if context is None and keyword is None and len(positional) > index + 1:
            context = positional[index + 1]
        keys: tuple[str, ...] = ()
        if isinstance(context, cst.Dict):
            keys = tuple(
                k
                for k in (self.literal(e.key) for e in context.elements if isinstance(e, cst.DictElement))
                if isinstance(k, str)
            )
        for name in names:
            if isinstance(name, str):
                self._function.renders.append(TemplateRef(name, self.span(target), keys))

    def visit_Return(self, node: cst.Return) -> bool:
        if self._function is not None:
            self._function.flow.returned(node.value)
            if node.value is not None and self._function.node.name.value == "get_template_names":
                self._returned_templates(node.value)
        if self._function is not None and isinstance(node.value, cst.Dict):
            for element in node.value.elements:
                if isinstance(element, cst.DictElement):
                    key = self.literal(element.key)
                    if isinstance(key, str):
                        self._function.returned_keys.append(key)
        return True

    def _returned_templates(self, value: cst.BaseExpression) -> None:
        """``get_template_names`` returning literals (or a local holding them) names templates."""
        assert self._function is not None
        literal = self.literal(value)
        names = literal if isinstance(literal, list | tuple) else [literal]
        if literal is UNKNOWN:
            names = self._function.flow.template_names(value)
        for name in names:
            if isinstance(name, str):
                self._function.renders.append(TemplateRef(name, self.span(value)))

    def visit_Del(self, node: cst.Del) -> bool:
        if self._function is not None and self._header_name(node.target) == "vary":
            self._function.header_writes.append(HeaderWrite("vary", None, self.span(node), "delete"))
        # ``del request.session`` removes the session so that nothing reads it: not a read.
        return not (isinstance(node.target, cst.Attribute) and node.target.attr.value in ("session", "user"))

    def visit_Assign(self, node: cst.Assign) -> bool:
        if self._function is not None:
            flow = self._function.flow
            labels = flow.labels(node.value)
            for target in node.targets:
                flow.assign(target.target, node.value, labels)
                if isinstance(target.target, cst.Name):
                    flow.constant(target.target.value, self.literal(node.value))
                self._header_assignment(target.target, node.value, node)
                if isinstance(target.target, cst.Attribute) and target.target.attr.value == "accessed":
                    session = target.target.value
                    if isinstance(session, cst.Attribute) and session.attr.value == "session":
                        self._function.session_accessed_writes.append(self.span(node))
        elif self._class is not None and self._depth == 1:
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self._class.attributes.append(self._class_attr(target.target.value, node.value))
        elif self._depth == 0:
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self._module_assignment(target.target.value, node.value)
        return True

    def visit_AugAssign(self, node: cst.AugAssign) -> bool:
        if self._function is not None:
            flow = self._function.flow
            flow.assign(node.target, node.value, flow.labels(node.value))
        return True

    def visit_For(self, node: cst.For) -> bool:
        if self._function is not None:
            flow = self._function.flow
            flow.assign(node.target, node.iter, flow.labels(node.iter))
        return True

    def visit_NamedExpr(self, node: cst.NamedExpr) -> bool:
        if self._function is not None:
            flow = self._function.flow
            flow.assign(node.target, node.value, flow.labels(node.value))
        return True

    def visit_WithItem(self, node: cst.WithItem) -> bool:
        if self._function is not None and node.asname is not None:
            flow = self._function.flow
            flow.assign(node.asname.name, node.item, flow.labels(node.item))
        return True

    def visit_AnnAssign(self, node: cst.AnnAssign) -> bool:
        if self._function is not None and node.value is not None:
            flow = self._function.flow
            flow.assign(node.target, node.value, flow.labels(node.value))
        if self._class is not None and self._depth == 1 and isinstance(node.target, cst.Name) and node.value:
            self._class.attributes.append(self._class_attr(node.target.value, node.value))
        return True

    def _module_assignment(self, name: str, value: cst.BaseExpression) -> None:
        if name in SETTINGS_MARKERS:
            self.assigns_settings_marker = True
        # ``dashboard = cache_page(600)(dashboard)``: the view is wrapped where it is rebound.
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Call):
            if self._record_wrapped_view(value, value, None):
                return
        if isinstance(value, cst.Call):
            call = self.to_call(value)
            if call is not None:
                self.aliases.append(Alias(name, call))
                # ``cache_day = cache_page(86400)`` then ``@cache_day`` in this module.
                self._bind_local(name)

    def _listed_names(self, values: list[cst.BaseExpression]) -> tuple[str, ...]:
        """Dotted names inside list/tuple literals among ``values``, qualified."""
        return tuple(
            name
            for value in values
            if isinstance(value, cst.List | cst.Tuple)
            for name in (self.resolve(e.value) for e in value.elements)
            if name is not None
        )

    def _class_attr(self, name: str, value: cst.BaseExpression) -> ClassAttr:
        names = self._listed_names([value])
        literal = self.literal(value) if not names else UNKNOWN
        return ClassAttr(name, literal, self.span(value), names)

    def _header_assignment(
        self, target: cst.BaseExpression, value: cst.BaseExpression, node: cst.CSTNode
    ) -> None:
        """``response["Vary"] = ...`` and ``response.headers["Cache-Control"] = ...``."""
        header = self._header_name(target)
        if header is None:
            return
        text = self.literal(value)
        parsed: Any = UNKNOWN
        if isinstance(text, str):
            parsed = parse_vary(text) if header == "vary" else parse_cache_control(text)
        assert self._function is not None
        self._function.header_writes.append(HeaderWrite(header, parsed, self.span(node), "setitem"))

    def _headers_kwarg(self, node: cst.Call) -> None:
        """``HttpResponse(..., headers={"Cache-Control": "..."})`` sets the header like
        ``response["Cache-Control"] = ...`` does (a dict that is not a literal is not followed)."""
        headers = next((a.value for a in node.args if a.keyword and a.keyword.value == "headers"), None)
        if not isinstance(headers, cst.Dict):
            return
        assert self._function is not None
        for element in headers.elements:
            if not isinstance(element, cst.DictElement):
                continue
            header = self.literal(element.key)
            if not isinstance(header, str) or header.lower() not in ("vary", "cache-control"):
                continue
            text, parsed = self.literal(element.value), UNKNOWN
            if isinstance(text, str):
                parsed = parse_vary(text) if header.lower() == "vary" else parse_cache_control(text)
            start, end = self.span(element.key), self.span(element.value)  # without the comma
            span = Span(start.line, start.col, end.end_line, end.end_col)
            self._function.header_writes.append(HeaderWrite(header.lower(), parsed, span, "headers-kwarg"))

    def _header_name(self, target: cst.BaseExpression) -> str | None:
        """ "vary"/"cache-control" for ``x["Vary"]``-style subscripts, else None."""
        if not isinstance(target, cst.Subscript) or len(target.slice) != 1:
            return None
        index = target.slice[0].slice
        if not isinstance(index, cst.Index):
            return None
        header = self.literal(index.value)
        if isinstance(header, str) and header.lower() in ("vary", "cache-control"):
            return header.lower()
        return None

    # --- result ----------------------------------------------------------------------------

    def finish(self) -> ViewFacts:
        for node, state, class_state in self._pending_functions:
            if state is None:  # a class, closed after its methods
                self.classes.append(self._class_facts(node, class_state))  # type: ignore[arg-type]
                continue
            facts = FunctionFacts(
                name=node.name.value,
                span=self.span(node.name),
                decorators=self._decorators(node.decorators),
                accesses=tuple(state.accesses),
                renders=tuple(state.renders),
                header_writes=tuple(state.header_writes),
                calls=tuple(
                    sorted(((self.late(n), s) for n, s in state.calls.items()), key=lambda item: item[1])
                ),
                inline_wrappers=tuple(state.inline_wrappers),
                session_accessed_writes=tuple(state.session_accessed_writes),
                request_calls=tuple(
                    sorted(
                        ((self.late(n), s) for n, s in state.request_calls.items()), key=lambda item: item[1]
                    )
                ),
                returned_keys=tuple(state.returned_keys),
                cache_calls=tuple(state.cache_calls),
                params=tuple(p.name.value for p in node.params.params),
                reads_user=state.reads_user,
                super_calls=tuple(sorted(state.super_calls)),
                unsafe_branches=tuple(state.unsafe_branches),
                flow=state.flow.finish(self.late),
                cookie_writes=tuple(state.cookie_writes),
            )
            if class_state is not None:
                class_state.methods.append(facts)
            else:
                self.functions.append(facts)
        return ViewFacts(tuple(self.functions), tuple(self.classes), tuple(self.aliases), tuple(self.routes))

    def _decorators(self, decorators: Any) -> tuple[Call, ...]:
        return tuple(c for c in (self.to_call(d.decorator) for d in decorators) if c is not None)

    def _class_facts(self, node: cst.ClassDef, state: _ClassState) -> ClassFacts:
        bases = tuple(name for name in (self.resolve(arg.value) for arg in node.bases) if name is not None)
        return ClassFacts(
            name=node.name.value,
            span=self.span(node.name),
            bases=bases,
            decorators=self._decorators(node.decorators),
            methods=tuple(state.methods),
            attributes=tuple(state.attributes),
        )


def _is_handler_reference(node: cst.BaseExpression) -> bool:
    """``super().dispatch``, ``super(View, self).get``, ``self.get``: a handler being wrapped."""
    if not isinstance(node, cst.Attribute):
        return False
    base = node.value
    return _is_super_call(base) or isinstance(base, cst.Name) and base.value == "self"


def _is_super_call(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "super"


def _method_test(test: cst.BaseExpression, method_names: set[str]) -> tuple[set[str], bool] | None:
    """The HTTP methods for which ``test`` holds, from ``request.method == "POST"``,
    ``request.method in ("PUT", "PATCH")`` and their negations (True: all but those), or None
    when it does not test the method."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return None
    if dotted_name(test.left) not in method_names:
        return None
    target = test.comparisons[0]
    operator, value = target.operator, target.comparator
    if isinstance(operator, cst.Equal | cst.NotEqual):
        values = [value]
    elif isinstance(operator, cst.In | cst.NotIn) and isinstance(value, cst.List | cst.Tuple | cst.Set):
        values = [e.value for e in value.elements]
    else:
        return None
    if not all(isinstance(v, cst.SimpleString) for v in values):
        return None
    methods = {v.evaluated_value.upper() for v in values if isinstance(v.evaluated_value, str)}
    return methods, isinstance(operator, cst.NotEqual | cst.NotIn)


def parse_vary(text: str) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in text.split(",") if part.strip())


def parse_cache_control(text: str) -> dict[str, Any]:
    directives: dict[str, Any] = {}
    for part in text.split(","):
        name, _, value = part.strip().partition("=")
        if name:
            directives[name.strip().lower().replace("-", "_")] = value.strip() or True
    return directives


def _terminates(block: cst.BaseSuite) -> bool:
    """The block always leaves the function (its last statement returns or raises)."""
    statements = list(block.body) if isinstance(block, cst.IndentedBlock) else [block]
    if not statements:
        return False
    last = statements[-1]
    if isinstance(last, cst.SimpleStatementLine | cst.SimpleStatementSuite):
        return bool(last.body) and isinstance(last.body[-1], cst.Return | cst.Raise)
    return False


def _rebinds_to_literal(block: cst.BaseSuite, name: str) -> bool:
    """The block's only statement is ``name = "literal"`` (a default replacing a bad value)."""
    statements = list(block.body) if isinstance(block, cst.IndentedBlock) else [block]
    if len(statements) != 1 or not isinstance(statements[0], cst.SimpleStatementLine | cst.SimpleStatementSuite):
        return False
    small = statements[0].body
    if len(small) != 1 or not isinstance(small[0], cst.Assign):
        return False
    assign = small[0]
    return (
        len(assign.targets) == 1
        and isinstance(assign.targets[0].target, cst.Name)
        and assign.targets[0].target.value == name
        and isinstance(assign.value, cst.SimpleString | cst.Integer | cst.Name)
    )


def _membership_guarded(node: cst.If) -> list[str]:
    """``if x not in ALLOWED: return ...`` / ``x = "default"`` (no ``else``): ``x`` after it."""
    test = node.test
    if node.orelse is not None or not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return []
    if not isinstance(test.left, cst.Name) or not isinstance(test.comparisons[0].operator, cst.NotIn):
        return []
    name = test.left.value
    if _terminates(node.body) or _rebinds_to_literal(node.body, name):
        return [name]
    return []


def _allowlist_loop_guarded(node: cst.For) -> list[str]:
    """``for pattern in ALLOWED: if re.match(pattern, x): break`` ``else: return ...``: ``x``
    matched one of the allowed patterns."""
    if node.orelse is None or not _terminates(node.orelse.body):
        return []
    if not isinstance(node.target, cst.Name) or not isinstance(node.body, cst.IndentedBlock):
        return []
    loop_name = node.target.value
    names: list[str] = []
    for statement in node.body.body:
        if not isinstance(statement, cst.If) or statement.orelse is not None:
            continue
        body = list(statement.body.body) if isinstance(statement.body, cst.IndentedBlock) else []
        if not (
            len(body) == 1
            and isinstance(body[0], cst.SimpleStatementLine)
            and len(body[0].body) == 1
            and isinstance(body[0].body[0], cst.Break)
        ):
            continue
        test = statement.test
        if not isinstance(test, cst.Call) or not any(
            isinstance(a.value, cst.Name) and a.value.value == loop_name for a in test.args
        ):
            continue  # the test must compare against the allowed entry
        names += [
            a.value.value
            for a in test.args
            if isinstance(a.value, cst.Name) and a.value.value != loop_name
        ]
    return names
