"""Views with their wrapper stacks, as Django applies decorators, URLconf wrappers and mixins."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from cachelint import django_api as api
from cachelint.facts.python import PythonFacts
from cachelint.facts.values import SettingRef
from cachelint.facts.views import Call, ClassFacts, FunctionFacts, HeaderWrite, Route
from cachelint.finding import Evidence, Location, Span

# --- views ------------------------------------------------------------------------------------

CACHE_PAGE, AUTH, VARY_COOKIE, VARY_HEADERS, CACHE_CONTROL, NEVER_CACHE, CSRF_PROTECT = (
    "cache_page",
    "auth",
    "vary_cookie",
    "vary_headers",
    "cache_control",
    "never_cache",
    "csrf_protect",
)
CONDITIONAL, METHODS = "conditional", "methods"
# DRF's dispatch (``APIView.dispatch``, ``@api_view``): it negotiates the format and adds
# ``Vary: Accept`` when it returns, so a cache inside it stores the response before that.
DRF_DISPATCH = "drf_dispatch"


PERSONAL_KINDS = frozenset({"user", "session", "perms", "messages", "csrf_token", "context"})
ACCESS_KINDS = {
    "request.user": "user",
    "request.session": "session",
    "messages": "messages",
    "csrf_token": "csrf_token",
}


@dataclass(frozen=True)
class Wrapper:
    """One layer around a view's handler, as Django applies it (outermost first in a stack)."""

    kind: str
    location: Location
    call: Call | None = None  # None for layers that come from a mixin or a class attribute
    label: str = ""
    # Extra evidence, e.g. where a project decorator calls login_required.
    via: tuple[Evidence, ...] = ()
    # Where the decorator is written when a base class applies it (``location`` is the view).
    origin: Location | None = None


@dataclass
class View:
    name: str  # qualified: app.views.dashboard
    location: Location  # the def/class name
    stack: list[Wrapper]  # outermost first
    accesses: list[tuple[str, tuple[Evidence, ...]]]  # (kind, where the code reads request.user)
    # (template name, where the view names it, keys the view sets in the context itself)
    templates: list[tuple[str, Location, frozenset[str]]]
    header_writes: list[tuple[HeaderWrite, Location]]
    # Lower-case methods a class-based view declares in ``http_method_names`` (None: all).
    http_methods: tuple[str, ...] | None = None
    # False for a class-based view without a GET handler: ``View`` answers GET with 405.
    serves_get: bool = True

    def cache_control(self) -> list[tuple[dict[str, Any], Location]]:
        """Every Cache-Control directive set the view applies: decorators, then its code."""
        found = [
            (dict(w.call.kwargs), w.origin or w.location)
            for w in self.wrappers(CACHE_CONTROL)
            if w.call is not None
        ]
        found += [
            (write.value, location)
            for write, location in self.header_writes
            if write.header == "cache-control" and isinstance(write.value, dict)
        ]
        return found

    def allowed_methods(self) -> tuple[tuple[str, ...], Location] | None:
        """The HTTP methods the view accepts, when restricted, and where that is said."""
        for wrapper in self.wrappers(METHODS):
            call = wrapper.call
            assert call is not None
            methods = api.METHOD_RESTRICTIONS.get(call.name)
            if methods is None and call.args and isinstance(call.args[0], list | tuple):
                methods = tuple(m.upper() for m in call.args[0] if isinstance(m, str))
            if methods is not None:
                return methods, wrapper.location
        if self.http_methods is not None:
            return tuple(m.upper() for m in self.http_methods), self.location
        return None

    def serves_safe_methods(self) -> bool:
        """Whether the view answers GET or HEAD, the only responses ``cache_page`` stores."""
        allowed = self.allowed_methods()
        return self.serves_get and (allowed is None or bool({"GET", "HEAD"} & set(allowed[0])))

    def layers(self, kind: str) -> list[int]:
        return [i for i, w in enumerate(self.stack) if w.kind == kind]

    def wrappers(self, kind: str) -> list[Wrapper]:
        return [w for w in self.stack if w.kind == kind]

    def per_user_variation(self, cache_index: int) -> Evidence | None:
        """What makes the cache at ``stack[cache_index]`` keep one entry per visitor, or not
        store the response at all: a layer inside it (``vary_on_cookie``, ``never_cache``,
        ``cache_control(private=True)``/``no_store``), the same in the view body, or a
        ``key_prefix`` built from the user."""
        cache = self.stack[cache_index]
        prefix = cache.call.kwarg_text("key_prefix") if cache.call else None
        literal = cache.call.kwarg("key_prefix") if cache.call else None
        # A computed prefix that mentions the user; a literal such as "user_dashboard" is one key.
        if prefix and not isinstance(literal, str) and any(word in prefix for word in ("user", "session")):
            return Evidence(cache.location, "`key_prefix` is built from the user")
        for wrapper in self.stack[cache_index + 1 :]:
            if wrapper.kind in (VARY_COOKIE, NEVER_CACHE):
                return Evidence(wrapper.location, "varies per visitor here")
            if wrapper.kind == CACHE_CONTROL and wrapper.call and _private(dict(wrapper.call.kwargs)):
                return Evidence(wrapper.location, "marked private here")
        for write, location in self.header_writes:
            if write.header == "vary" and isinstance(write.value, tuple) and "cookie" in write.value:
                return Evidence(location, "varies per visitor here")
            if write.header == "cache-control" and isinstance(write.value, dict) and _private(write.value):
                return Evidence(location, "marked private here")
        return None


# Layers that make a view worth a rule's look (a bare ``require_POST`` or ``csrf_protect`` does not).
_MATTERING_KINDS = frozenset(
    {CACHE_PAGE, AUTH, VARY_COOKIE, VARY_HEADERS, CACHE_CONTROL, NEVER_CACHE, CONDITIONAL}
)


def worth_a_look(view: View) -> bool:
    return bool(view.header_writes) or any(w.kind in _MATTERING_KINDS for w in view.stack)


def _drf_get_action(method: FunctionFacts) -> bool:
    """``@action(...)`` that answers GET (its default), so ``cache_page`` on it stores responses."""
    for call in method.decorators:
        if call.name in api.DRF_ACTION:
            methods = call.kwarg("methods", ["get"])
            return isinstance(methods, list | tuple) and any(
                isinstance(m, str) and m.lower() == "get" for m in methods
            )
    return False


def _private(directives: dict[str, Any]) -> bool:
    return directives.get("private") is True or directives.get("no_store") is True


class ViewQueries:
    """Which callables are views, what wraps them, what they read and render."""

    # --- wrappers ----------------------------------------------------------------------------

    def classify(self, call: Call, path: str, depth: int = 0) -> list[Wrapper]:
        """What a decorator does, resolving the project's own aliases and decorators."""
        call = self._with_settings(call)
        location = Location(path, call.span)
        name = call.name
        if name in api.CACHE_PAGE:
            return [Wrapper(CACHE_PAGE, location, call)]
        if name in api.AUTH_DECORATORS:
            return [Wrapper(AUTH, location, call, f"`{call.text}` requires login here")]
        if name in api.NEVER_CACHE:
            return [Wrapper(NEVER_CACHE, location, call)]
        if name in api.CACHE_CONTROL:
            return [Wrapper(CACHE_CONTROL, location, call)]
        if name in api.VARY_ON_COOKIE:
            return [Wrapper(VARY_COOKIE, location, call)]
        if name in api.VARY_ON_HEADERS:
            headers = [h.lower() for h in call.args if isinstance(h, str)]
            kind = VARY_COOKIE if "cookie" in headers else VARY_HEADERS
            return [Wrapper(kind, location, call)]
        if name in api.CSRF_PROTECT:
            return [Wrapper(CSRF_PROTECT, location, call)]
        if name in api.CONDITIONAL:
            return [Wrapper(CONDITIONAL, location, call)]
        if name in api.METHOD_RESTRICTIONS:
            return [Wrapper(METHODS, location, call)]
        if name in api.DRF_PERMISSION_CLASSES_DECORATOR:
            return self._drf_auth(location, call, call.names)
        if name in api.DRF_API_VIEW:
            return [Wrapper(DRF_DISPATCH, location, call)]
        if name in api.METHOD_DECORATOR:
            return [w for inner in call.inner for w in self.classify(inner, path, depth)]
        if depth < 3 and name in self._aliases:
            # Report at the use (``@cache_hour``), not at the alias shared by many views.
            alias_facts, alias_call = self._aliases[name]
            defined = Evidence(
                Location(alias_facts.path, alias_call.span), f"`{call.text}` is `{alias_call.text}`"
            )
            return [
                Wrapper(w.kind, location, w.call, w.label, (*w.via, defined))
                for w in self.classify(alias_call, alias_facts.path, depth + 1)
            ]
        if depth < 3:
            wrapped = self._project_auth_decorator(name, depth)
            if wrapped is not None:
                return [Wrapper(AUTH, location, call, f"`{call.text}` requires login here", wrapped)]
            cached = self._project_cache_decorator(name)
            if cached is not None:
                return [Wrapper(CACHE_PAGE, location, call, via=(cached,))]
        return []

    def _with_settings(self, call: Call) -> Call:
        """The call with ``settings.X["k"]`` arguments replaced by their production values."""
        if not any(isinstance(v, SettingRef) for v in (*call.args, *(v for _, v in call.kwargs))):
            return call

        def value(v: Any) -> Any:
            return self.setting_value(v) if isinstance(v, SettingRef) else v

        return replace(
            call,
            args=tuple(value(v) for v in call.args),
            kwargs=tuple((k, value(v)) for k, v in call.kwargs),
        )

    def _project_cache_decorator(self, name: str) -> Evidence | None:
        """A project function that applies ``cache_page`` inside (``def cache_for(minutes): ...``)
        and never looks at the user: one that does may cache anonymous visitors only."""
        target = self._definitions.get(name)
        if target is None or not isinstance(target[1], FunctionFacts):
            return None
        facts, function = target
        if function.reads_user or function.accesses:
            return None
        for called, span in function.calls:
            if called in api.CACHE_PAGE:
                return Evidence(Location(facts.path, span), f"`{function.name}` applies `cache_page` here")
        return None

    def cache_decorator_names(self) -> set[str]:
        """Module-level aliases and project functions that apply ``cache_page`` (or another layer
        a rule looks at): views elsewhere use them by name."""
        names = {
            name
            for name, (facts, call) in self._aliases.items()
            if any(w.kind in _MATTERING_KINDS for w in self.classify(call, facts.path))
        }
        names.update(
            name
            for name, (_, item) in self._definitions.items()
            if isinstance(item, FunctionFacts) and self._project_cache_decorator(name) is not None
        )
        # Base classes that cache or wrap their subclasses' responses (``class CachedMixin``).
        for view in self.views:
            target = self._definitions.get(view.name)
            if target is None or not isinstance(target[1], ClassFacts):
                continue
            if view.location != Location(target[0].path, target[1].span):
                continue  # a URLconf entry's layers wrap that entry only
            if any(w.kind in _MATTERING_KINDS and w.origin is None for w in view.stack):
                names.add(view.name)
        return names

    def _project_auth_decorator(self, name: str, depth: int) -> tuple[Evidence, ...] | None:
        """A project function that applies an auth decorator inside (``def staff_only(view): ...``)."""
        target = self._definitions.get(name)
        if target is None or not isinstance(target[1], FunctionFacts):
            return None
        facts, function = target
        for called, span in function.calls:
            location = Location(facts.path, span)
            if called in api.AUTH_DECORATORS:
                short = called.rsplit(".", 1)[-1]
                return (Evidence(location, f"`{function.name}` applies `{short}` here"),)
            inner = self._project_auth_decorator(called, depth + 1) if depth < 2 and called != name else None
            if inner:
                return (Evidence(location, f"`{function.name}` calls `{called}` here"), *inner)
        return None

    def _drf_auth(self, location: Location, call: Call | None, classes: Iterable[str]) -> list[Wrapper]:
        protected = [c for c in classes if c in api.DRF_AUTHENTICATED_PERMISSIONS]
        if not protected:
            return []
        short = protected[0].rsplit(".", 1)[-1]
        return [Wrapper(AUTH, location, call, f"DRF permission `{short}` requires login here")]

    # --- views -------------------------------------------------------------------------------

    @cached_property
    def views(self) -> list[View]:
        """Every function and class that may be a view, plus one per URLconf entry that wraps
        its view (``cache_page(60)(views.home)``) with the URLconf layers outermost."""
        views = []
        for facts in self.python.values():
            for function in facts.views.functions:
                views.append(self._function_view(facts, function))
            for cls in facts.views.classes:
                if not self._is_mixin(facts, cls):
                    views.append(self._class_view(facts, cls))
        for facts in self.python.values():
            for route in facts.views.routes:
                view = self._route_view(facts, route)
                if view is not None:
                    views.append(view)
        return views

    @cached_property
    def _base_names(self) -> set[str]:
        return {base for facts in self.python.values() for cls in facts.views.classes for base in cls.bases}

    def _is_mixin(self, facts: PythonFacts, cls: ClassFacts) -> bool:
        """A project class other classes derive from, with no Django view in its MRO: it is
        never a view itself, its layers and reads count in the views that use it."""
        name = f"{facts.module}.{cls.name}"
        return name in self._base_names and api.DJANGO_VIEW not in self.linearization(name)

    def _route_view(self, facts: PythonFacts, route: Route) -> View | None:
        template = dict(route.initkwargs).get("template_name")
        if not route.wrappers and not isinstance(template, str):
            return None  # the view's own facts already say everything
        outer = [w for call in route.wrappers for w in self.classify(call, facts.path)]
        target = self._definitions.get(route.view or "")
        if target is not None:
            base_facts, base = target
            inner = (
                self._function_view(base_facts, base)
                if isinstance(base, FunctionFacts)
                else self._class_view(base_facts, base)
            )
        else:  # a third-party or unresolvable view: only what the URLconf shows is known
            inner = View(route.view or "<view>", Location(facts.path, route.view_span), [], [], [], [])
        templates = list(inner.templates)
        if isinstance(template, str):
            templates.append((template, Location(facts.path, route.view_span), frozenset()))
        return View(
            name=inner.name,
            location=Location(facts.path, route.span),
            stack=outer + inner.stack,
            accesses=inner.accesses,
            templates=templates,
            header_writes=inner.header_writes,
        )

    def _function_view(self, facts: PythonFacts, function: FunctionFacts) -> View:
        stack = [w for call in function.decorators for w in self.classify(call, facts.path)]
        if any(c.name in api.DRF_API_VIEW for c in function.decorators) and not any(
            c.name in api.DRF_PERMISSION_CLASSES_DECORATOR for c in function.decorators
        ):
            stack.extend(self._drf_default_auth())
        return View(
            name=f"{facts.module}.{function.name}",
            location=Location(facts.path, function.span),
            stack=stack,
            accesses=self._accesses([(facts.path, function)]),
            templates=[
                (t.name, Location(facts.path, t.span), frozenset(t.context_keys)) for t in function.renders
            ],
            header_writes=[(h, Location(facts.path, h.span)) for h in function.header_writes],
        )

    def _class_view(self, facts: PythonFacts, cls: ClassFacts) -> View:
        entries = self.mro_entries(facts, cls)
        dispatch = self.dispatch_chain(facts, cls)
        inner = [w for handler in api.CACHED_HANDLERS[1:] for w in self._handler_layers(entries, handler)]
        drf_auth: list[Wrapper] = []
        if dispatch.terminal == api.DRF_API_VIEW_CLASS:  # APIView.dispatch checks permissions
            attr = self._class_attribute(facts, cls, "permission_classes")
            if attr is not None:
                drf_auth = self._drf_auth(Location(attr[0], attr[1].span), None, attr[1].names)
            else:
                drf_auth = self._drf_default_auth()
        for method in cls.methods:  # DRF ``@action`` methods are GET handlers too
            if method.name not in api.CACHED_HANDLERS and _drf_get_action(method):
                calls = (*method.decorators, *method.inline_wrappers)
                inner.extend(w for call in calls for w in self.classify(call, facts.path))
        # DRF's own dispatch (content negotiation, ``Vary: Accept``) runs inside the class's
        # dispatch layers and outside its handlers'.
        drf = (
            [Wrapper(DRF_DISPATCH, Location(facts.path, cls.span))] if self._is_drf_class(facts, cls) else []
        )
        stack = dispatch.layers + drf + drf_auth + inner
        # Methods that run, as the MRO resolves them (a mixin reading the session counts), less
        # those only unsafe methods reach: their output is never a cached GET response.
        methods = [
            (path, m) for path, m in self._resolved_methods(entries) if m.name not in api.UNSAFE_HANDLERS
        ]
        templates = [
            (t.name, Location(path, t.span), frozenset(t.context_keys))
            for path, m in methods
            for t in m.renders
        ]
        template_attr = self._class_attribute(facts, cls, "template_name")
        if template_attr is not None and isinstance(template_attr[1].value, str):
            templates.append(
                (template_attr[1].value, Location(template_attr[0], template_attr[1].span), frozenset())
            )
        http_methods = self._class_attribute(facts, cls, "http_method_names")
        declared = http_methods[1].value if http_methods else None
        return View(
            name=f"{facts.module}.{cls.name}",
            location=Location(facts.path, cls.span),
            http_methods=tuple(m for m in declared if isinstance(m, str))
            if isinstance(declared, list)
            else None,
            stack=stack,
            accesses=self._accesses(methods),
            templates=templates,
            header_writes=[(h, Location(path, h.span)) for path, m in methods for h in m.header_writes],
            serves_get=dispatch.terminal is None or any(_defines_safe_handler(e) for e in entries),
        )

    # --- classes as Python resolves them -----------------------------------------------------

    @cached_property
    def _linearizations(self) -> dict[str, tuple[str, ...]]:
        return {}  # filled by ``linearization``, once per class

    def linearization(self, name: str) -> tuple[str, ...]:
        """The MRO of a class as qualified names: C3 over the project's classes, across modules.

        A class outside the project is opaque (its own name), except Django's and DRF's views,
        which bring ``View`` (and ``APIView``) along: where those land decides which mixins run."""
        memo = self._linearizations
        if name in memo:
            return memo[name]
        target = self.find_class(name)
        if target is None:
            result = _opaque_mro(name)
        else:
            memo[name] = (name,)  # a cycle of bases ends here
            bases = [b for b in dict.fromkeys(target[1].bases) if b not in ("object", "builtins.object")]
            result = (name, *_c3_merge([list(self.linearization(b)) for b in bases] + [bases]))
        memo[name] = result
        return result

    def mro_entries(self, facts: PythonFacts, cls: ClassFacts) -> list[MroEntry]:
        """The class's MRO, each entry with its facts when it is a project class."""
        entries = [MroEntry(f"{facts.module}.{cls.name}", facts, cls)]
        for name in self.linearization(entries[0].name)[1:]:
            target = self.find_class(name)
            entries.append(MroEntry(name, *target) if target else MroEntry(name))
        return entries

    def _class_chain(self, facts: PythonFacts, cls: ClassFacts) -> Iterator[tuple[PythonFacts, ClassFacts]]:
        """The class and its project base classes, in MRO order."""
        for entry in self.mro_entries(facts, cls):
            if entry.facts is not None and entry.cls is not None:
                yield entry.facts, entry.cls

    def _class_attribute(self, facts: PythonFacts, cls: ClassFacts, name: str) -> tuple[str, Any] | None:
        """Where the class gets attribute ``name``: the first class in its MRO that defines it
        (None when that is a framework class, which holds the default)."""
        for entry in self.mro_entries(facts, cls):
            if entry.cls is None:
                if _framework_defines(entry.name, name):
                    return None
                continue
            attr = entry.cls.attribute(name)
            if attr is not None:
                assert entry.facts is not None
                return entry.facts.path, attr
        return None

    def dispatch_chain(self, facts: PythonFacts, cls: ClassFacts) -> DispatchChain:
        """What runs when Django calls ``dispatch`` on the view: each class in the MRO that wraps
        it, outermost first, until one that does not call ``super().dispatch`` (Django's ``View``);
        the mixins after that one never run."""
        entries = self.mro_entries(facts, cls)
        chain = DispatchChain()
        for entry in entries:
            if entry.cls is None:
                wraps = entry.name in api.AUTH_MIXINS
                terminal = entry.name in (api.DJANGO_VIEW, api.DRF_API_VIEW_CLASS)
                layers = self._mixin_auth(entries, entry.name) if wraps else []
            else:
                layers = self._own_layers(entries[0], entry, "dispatch")
                method = entry.cls.method("dispatch")
                wraps = method is not None or bool(layers)
                terminal = method is not None and "dispatch" not in method.super_calls
            if chain.terminal is not None:
                if wraps:
                    chain.dead.append(entry)
                continue
            chain.layers.extend(layers)
            if terminal:
                chain.terminal = entry.name
        return chain

    def dispatch_wrapping_classes(self) -> set[str]:
        """Project classes with a ``dispatch`` method or ``method_decorator(..., name="dispatch")``."""
        return {
            name
            for name, (_, item) in self._definitions.items()
            if isinstance(item, ClassFacts)
            and (
                item.method("dispatch") is not None
                or any(
                    c.name in api.METHOD_DECORATOR and c.kwarg("name") == "dispatch" for c in item.decorators
                )
            )
        }

    def _own_layers(self, view: MroEntry, entry: MroEntry, handler: str) -> list[Wrapper]:
        """The layers class ``entry`` puts around ``handler``: ``method_decorator(..., name=)``
        on the class, then the method's own decorators and inline wrappers. A base class's layer
        is reported at the view, with where it is written as evidence."""
        assert entry.facts is not None and entry.cls is not None
        calls = [
            call
            for call in entry.cls.decorators
            if call.name in api.METHOD_DECORATOR and call.kwarg("name") == handler
        ]
        method = entry.cls.method(handler)
        if method is not None:
            calls += [*method.decorators, *method.inline_wrappers]
        wrappers = [w for call in calls for w in self.classify(call, entry.facts.path)]
        if entry is view:
            return wrappers
        assert view.facts is not None and view.cls is not None
        here = Location(view.facts.path, view.cls.span)
        inherited = []
        for w in wrappers:
            text = w.call.text if w.call is not None else w.label
            where = Evidence(w.location, f"inherited from `{entry.cls.name}`: `{text}` here")
            inherited.append(Wrapper(w.kind, here, w.call, w.label, (where, *w.via), origin=w.location))
        return inherited

    def _handler_layers(self, entries: list[MroEntry], handler: str) -> list[Wrapper]:
        """The layers around ``get`` (or another cached handler) as the MRO resolves it: down
        from the view to the first class whose method does not call ``super()`` for it."""
        layers: list[Wrapper] = []
        for entry in entries:
            if entry.cls is None:
                if _framework_defines(entry.name, handler):
                    break
                continue
            layers += self._own_layers(entries[0], entry, handler)
            method = entry.cls.method(handler)
            if method is not None and handler not in method.super_calls:
                break
        return layers

    def _resolved_methods(self, entries: list[MroEntry]) -> list[tuple[str, FunctionFacts]]:
        """The project methods that run: for each name, the first definition in the MRO, and
        the next ones as long as each calls ``super()`` for it."""
        found: list[tuple[str, FunctionFacts]] = []
        stopped: set[str] = set()
        for entry in entries:
            if entry.cls is None:
                continue
            assert entry.facts is not None
            for method in entry.cls.methods:
                if method.name in stopped:
                    continue
                found.append((entry.facts.path, method))
                if method.name not in method.super_calls:
                    stopped.add(method.name)
        return found

    def _mixin_auth(self, entries: list[MroEntry], mixin: str) -> list[Wrapper]:
        """The login check of an auth mixin, located at the project class that lists it."""
        # The first class listing it; the view itself when a same-named class shadows the one
        # the MRO was computed from (``class index(): ...`` then ``class index(Mixin): ...``).
        owner = next((e for e in entries if e.cls is not None and mixin in e.cls.bases), entries[0])
        assert owner.facts is not None and owner.cls is not None
        short = mixin.rsplit(".", 1)[-1]
        location = Location(owner.facts.path, owner.cls.span)
        return [Wrapper(AUTH, location, None, f"`{short}` requires login here")]

    def _is_drf_class(self, facts: PythonFacts, cls: ClassFacts) -> bool:
        return any(
            base.startswith(api.DRF_VIEW_PREFIX)
            for _, owner in self._class_chain(facts, cls)
            for base in owner.bases
        )

    def _drf_default_auth(self) -> list[Wrapper]:
        for module in self.settings_modules:
            framework = module.value("REST_FRAMEWORK")
            if isinstance(framework, dict):
                classes = framework.get("DEFAULT_PERMISSION_CLASSES")
                if isinstance(classes, list | tuple):
                    location = module.location_of("REST_FRAMEWORK")
                    assert location is not None
                    wrappers = self._drf_auth(location, None, [c for c in classes if isinstance(c, str)])
                    if wrappers:
                        return wrappers
        return []

    def _accesses(
        self, functions: Iterable[tuple[str, FunctionFacts]]
    ) -> list[tuple[str, tuple[Evidence, ...]]]:
        """What the view's code reads, directly or in the project functions it passes the request
        to (``get_cart(request)`` reading ``request.session``), up to three helpers deep."""
        found: list[tuple[str, tuple[Evidence, ...]]] = []
        for path, function in functions:
            for access in function.accesses:
                if access.unsafe_only:
                    continue  # only a POST (PUT, ...) reaches it: cache_page never stores that
                evidence = Evidence(Location(path, access.span), f"reads `{access.what}` here")
                found.append((ACCESS_KINDS[access.what], (evidence,)))
            found.extend(self._helper_reads(path, function, 1, {function.name}))
        return found

    def _helper_reads(
        self, path: str, function: FunctionFacts, depth: int, seen: set[str]
    ) -> list[tuple[str, tuple[Evidence, ...]]]:
        """The first read of each helper the request is passed to, with the calls leading there
        (not those called where only an unsafe method gets, nor reads only one reaches)."""
        found: list[tuple[str, tuple[Evidence, ...]]] = []
        for called, span in function.request_calls:
            target = self._definitions.get(called)
            if called in seen or target is None or not isinstance(target[1], FunctionFacts):
                continue
            if any(_inside(span, branch) for branch in function.unsafe_branches):
                continue
            helper_facts, helper = target
            call = Evidence(Location(path, span), f"passes the request to `{helper.name}` here")
            reads = [a for a in helper.accesses if not a.unsafe_only]
            for access in reads[:1]:
                read = Evidence(
                    Location(helper_facts.path, access.span), f"`{helper.name}` reads `{access.what}` here"
                )
                found.append((ACCESS_KINDS[access.what], (call, read)))
            if not reads and depth < 3:
                for kind, chain in self._helper_reads(helper_facts.path, helper, depth + 1, seen | {called}):
                    found.append((kind, (call, *chain)))
        return found


@dataclass(frozen=True, eq=False)
class MroEntry:
    """One class of a view's MRO: a project class with its facts, or a class outside it."""

    name: str
    facts: PythonFacts | None = None
    cls: ClassFacts | None = None


@dataclass
class DispatchChain:
    layers: list[Wrapper] = field(default_factory=list)  # outermost first
    # The class whose ``dispatch`` does not pass on (Django's ``View``), None when unknown.
    terminal: str | None = None
    # Classes after it that wrap ``dispatch``: they never run.
    dead: list[MroEntry] = field(default_factory=list)


def _c3_merge(sequences: list[list[str]]) -> list[str]:
    """Python's C3 merge; where Python would refuse the bases, a deterministic order anyway."""
    result: list[str] = []
    sequences = [s for s in sequences if s]
    while sequences:
        head = next(
            (s[0] for s in sequences if not any(s[0] in other[1:] for other in sequences)),
            sequences[0][0],
        )
        result.append(head)
        sequences = [rest for rest in ([x for x in s if x != head] for s in sequences) if rest]
    return result


def _opaque_mro(name: str) -> tuple[str, ...]:
    if name in api.DJANGO_VIEW_NAMES:
        return (api.DJANGO_VIEW,)
    if name == api.DRF_API_VIEW_CLASS:
        return (name, api.DJANGO_VIEW)
    if api.is_framework_view_class(name):
        if name.startswith(api.DRF_VIEW_PREFIX):
            return (name, api.DRF_API_VIEW_CLASS, api.DJANGO_VIEW)
        return (name, api.DJANGO_VIEW)
    return (name,)


def _framework_defines(name: str, attribute: str) -> bool:
    """Whether a framework class (not parsed) defines ``attribute`` itself, hiding the classes
    after it in the MRO: ``View`` has ``http_method_names``, ``APIView`` ``permission_classes``,
    the generic views ``get`` and ``template_name``."""
    if name == api.DJANGO_VIEW:
        return attribute == "http_method_names"
    if name == api.DRF_API_VIEW_CLASS:
        return attribute in ("permission_classes", "renderer_classes", "authentication_classes")
    if not api.is_framework_view_class(name) or name.startswith(api.DRF_VIEW_PREFIX):
        return False
    if attribute == "get":
        return True
    return attribute == "template_name" and name not in api.NO_TEMPLATE_VIEW_CLASSES


def _defines_safe_handler(entry: MroEntry) -> bool:
    """Whether the class may answer GET: a project class with a GET handler, or a class outside
    the project that is neither a known handler-less view nor a known mixin."""
    if entry.cls is not None:
        return any(entry.cls.method(h) is not None for h in api.CACHED_HANDLERS[1:])
    name = entry.name
    if name in (api.DJANGO_VIEW, *api.NO_GET_VIEW_CLASSES) or name in api.AUTH_MIXINS:
        return False
    if name.startswith(("django.", "rest_framework.mixins.")) and name.endswith("Mixin"):
        return name.rpartition(".")[2] in ("ListModelMixin", "RetrieveModelMixin")
    return True


def _inside(span: Span, block: Span) -> bool:
    start, end = (span.line, span.col), (span.end_line, span.end_col)
    return (block.line, block.col) <= start and end <= (block.end_line, block.end_col)
