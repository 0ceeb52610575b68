"""Facts about the functions and classes of a Python module that may be views.

Plain frozen dataclasses with no CST inside, so they pickle into worker processes and the
on-disk cache. Names are already qualified through the module's import table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cachelint.finding import Span


@dataclass(frozen=True)
class Call:
    """A decorator or wrapper: ``@cache_page(60)``, ``@login_required``, ``method_decorator(...)``.

    ``args``/``kwargs`` hold literal values (``UNKNOWN`` where not literal); ``called`` is False
    for a bare ``@login_required``; ``inner`` holds the decorators a ``method_decorator`` applies,
    outermost first.
    """

    name: str
    span: Span
    text: str
    called: bool = False
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    inner: tuple[Call, ...] = ()
    kwarg_texts: tuple[tuple[str, str], ...] = ()
    # Qualified names listed in list/tuple arguments: ``permission_classes([IsAuthenticated])``.
    names: tuple[str, ...] = ()
    # Qualified names passed as plain arguments: ``etag(latest_entry_etag)``.
    refs: tuple[str, ...] = ()

    def kwarg(self, name: str, default: Any = None) -> Any:
        for key, value in self.kwargs:
            if key == name:
                return value
        return default

    def kwarg_text(self, name: str) -> str | None:
        for key, text in self.kwarg_texts:
            if key == name:
                return text
        return None


@dataclass(frozen=True)
class Access:
    """The view reads something that makes its output differ per visitor."""

    what: str  # "request.user" | "request.session" | "messages" | "csrf_token"
    span: Span
    # Inside an ``if request.method == "POST":`` branch: never part of a cached GET response.
    unsafe_only: bool = False


@dataclass(frozen=True)
class TemplateRef:
    name: str
    span: Span
    context_keys: tuple[str, ...] = ()  # literal keys of the context dict the view passes


@dataclass(frozen=True)
class HeaderWrite:
    """Code that sets Vary or Cache-Control on a response.

    For ``vary`` the value is a tuple of lower-case header names; for ``cache-control`` a dict of
    directive -> value (``True`` for flags). ``UNKNOWN`` when not literal.
    """

    header: str  # "vary" | "cache-control"
    value: Any  # None for a deletion
    span: Span
    how: str  # "patch_vary_headers", "setitem", "delete", "patch_cache_control", ...


ABSENT = "<absent>"  # an optional argument that was not passed
# In key shapes (``keyshapes``): any text, and the separator of a key function's arguments.
HOLE = "\x00"
ARG = "\x1f"


@dataclass(frozen=True)
class CacheCall:
    """A low-level cache API call: ``cache.set(key, value, timeout)``, ``caches["x"].clear()``.

    ``alias`` is "default" for ``django.core.cache.cache``, the literal for ``caches["x"]``,
    None when not literal. Texts are the source of the arguments (None when absent);
    ``timeout`` is its literal value, ``UNKNOWN``, or ``ABSENT``.
    """

    method: str
    alias: str | None
    span: Span
    key_text: str | None = None
    key: Any = None  # literal key, UNKNOWN when computed
    value_text: str | None = None
    timeout: Any = ABSENT
    debug_only: bool = False  # inside ``if settings.DEBUG:``: never runs in production
    # Where the key and the value come from (``FunctionFlow`` labels), locals followed.
    key_labels: frozenset[str] = frozenset()
    value_labels: frozenset[str] = frozenset()
    # What the keys look like, to match a write with its invalidation elsewhere (see keyshapes).
    key_shapes: tuple[str, ...] = ()
    # inside a class deriving from ``*TestCase`` or a ``setUp``/``tearDown``-like method: test
    # code even in a module whose name does not say so (a project's ``testcases.py`` helpers)
    test_code: bool = False


@dataclass(frozen=True)
class CallSite:
    """A call whose result a function uses: ``get_orders(request.user)``, ``self.get_queryset()``.

    ``callee`` is the qualified name (or ``self.<method>``); each argument is kept as the labels
    of the value passed, so the callee's ``param:NAME`` labels can be replaced by the caller's.
    ``rest`` holds the labels of the receiver and of starred arguments.
    """

    callee: str
    span: Span
    args: tuple[frozenset[str], ...] = ()
    kwargs: tuple[tuple[str, frozenset[str]], ...] = ()
    rest: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FunctionFlow:
    """Where a function's values come from (see ``facts.flow``).

    Source labels name a kind and where it was read (``user@2``: ``origins[2]``). Kinds:
    ``user`` (the visitor's data), ``user_id`` (only who the visitor is: ``.pk``),
    ``auth_state`` (``is_authenticated``), ``session``, ``session_key``, ``csrf_token``,
    ``messages``, ``input:GET``/``input:headers``/... (raw request input), ``html`` (text
    rendered from a template), ``param:NAME`` (a
    parameter's value; ``param_id:NAME`` for only its ``.pk``) and ``call:N`` (what ``sites[N]`` returns, resolved across functions).
    """

    names: tuple[tuple[str, frozenset[str]], ...] = ()  # local -> labels, over every assignment
    returns: frozenset[str] = frozenset()
    returned_keys: tuple[tuple[str, frozenset[str]], ...] = ()  # keys of a returned dict
    sites: tuple[CallSite, ...] = ()
    origins: tuple[Span, ...] = ()  # where each source was read (``user@2``: origins[2])
    # Locals only ever assigned literal strings (``key = "stats"``), with those strings.
    literals: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def origin(self, label: str) -> Span | None:
        _, _, index = label.partition("@")
        return self.origins[int(index)] if index.isdigit() and int(index) < len(self.origins) else None

    def literal(self, text: str | None) -> tuple[str, ...] | None:
        """The strings a local named ``text`` is ever assigned, when it is only given literals."""
        return next((values for local, values in self.literals if local == text), None)


@dataclass(frozen=True)
class FunctionFacts:
    name: str
    span: Span
    decorators: tuple[Call, ...] = ()
    accesses: tuple[Access, ...] = ()
    renders: tuple[TemplateRef, ...] = ()
    header_writes: tuple[HeaderWrite, ...] = ()
    # Qualified names this function calls or decorates nested functions with (first use only):
    # how a project decorator is recognised as a wrapper of ``login_required``.
    calls: tuple[tuple[str, Span], ...] = ()
    # Decorators applied by hand in the body: ``cache_page(60)(super().dispatch)(request)``.
    inline_wrappers: tuple[Call, ...] = ()
    # ``request.session.accessed = False``: hides the session read from SessionMiddleware.
    session_accessed_writes: tuple[Span, ...] = ()
    # Calls that pass the request on (``get_cart(request)``), for one-hop helper analysis.
    request_calls: tuple[tuple[str, Span], ...] = ()
    # Keys of dict literals the function returns (what a context processor provides).
    returned_keys: tuple[str, ...] = ()
    cache_calls: tuple[CacheCall, ...] = ()
    # Parameter names, in order (``request``, ``user``...).
    params: tuple[str, ...] = ()
    # The body reads some ``.user``/``.is_authenticated``/``.is_anonymous``, whatever the receiver
    # is called: a project decorator that does may cache anonymous visitors only.
    reads_user: bool = False
    # Methods reached through ``super()`` (``super().dispatch``): an override that passes on.
    super_calls: tuple[str, ...] = ()
    # ``if request.method == "POST":`` branches (and the ``else`` of a GET/HEAD test).
    unsafe_branches: tuple[Span, ...] = ()
    flow: FunctionFlow = field(default_factory=FunctionFlow)
    # ``response.set_cookie(...)``/``set_signed_cookie`` outside POST-only branches (CL113).
    cookie_writes: tuple[Span, ...] = ()


@dataclass(frozen=True)
class ClassAttr:
    name: str
    value: Any
    span: Span
    # Qualified names listed in the value (``permission_classes = [IsAuthenticated]``).
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClassFacts:
    name: str
    span: Span
    bases: tuple[str, ...] = ()
    decorators: tuple[Call, ...] = ()
    methods: tuple[FunctionFacts, ...] = ()
    attributes: tuple[ClassAttr, ...] = ()

    def method(self, name: str) -> FunctionFacts | None:
        # Asked for every class of every MRO by every view question: a table, built on first use
        # (outside the fields: equality, hashing and the cached facts ignore it).
        index = self.__dict__.get("_methods")
        if index is None:
            index = {}
            for method in self.methods:
                index.setdefault(method.name, method)  # the first definition, as before
            object.__setattr__(self, "_methods", index)
        return index.get(name)

    def attribute(self, name: str) -> ClassAttr | None:
        return next((a for a in self.attributes if a.name == name), None)


@dataclass(frozen=True)
class Alias:
    """A module-level ``name = <call>``, e.g. ``cache_hour = cache_page(3600)``."""

    name: str
    call: Call


@dataclass(frozen=True)
class Route:
    """A ``path()``/``re_path()``/``url()`` entry: the wrappers applied in the URLconf and the view.

    ``wrappers`` are outermost first: ``cache_page(60)(login_required(views.x))`` gives
    ``(cache_page, login_required)``. ``view`` is the qualified name of the function or class
    (``as_view()``), None when it cannot be resolved statically.
    """

    span: Span
    route: str | None
    wrappers: tuple[Call, ...]
    view: str | None
    view_span: Span
    initkwargs: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class ViewFacts:
    """Everything the python parser learned about one module's callables."""

    functions: tuple[FunctionFacts, ...] = ()
    classes: tuple[ClassFacts, ...] = field(default=())
    aliases: tuple[Alias, ...] = ()
    routes: tuple[Route, ...] = ()
