"""Views with their wrapper stacks, as Django applies decorators, URLconf wrappers and mixins."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cachelint import django_api as api
from cachelint.facts.python import PythonFacts
from cachelint.facts.views import Call, ClassFacts, FunctionFacts, HeaderWrite, Route
from cachelint.finding import Evidence, Location

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

    def cache_control(self) -> list[tuple[dict[str, Any], Location]]:
        """Every Cache-Control directive set the view applies: decorators, then its code."""
        found = [
            (dict(w.call.kwargs), w.location) for w in self.wrappers(CACHE_CONTROL) if w.call is not None
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
                views.append(self._class_view(facts, cls))
        for facts in self.python.values():
            for route in facts.views.routes:
                view = self._route_view(facts, route)
                if view is not None:
                    views.append(view)
        return views

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
        outer: list[Wrapper] = []  # method_decorator(..., name="dispatch") and dispatch's own
        inner: list[Wrapper] = []  # around get/head, inside dispatch
        for call in cls.decorators:
            if call.name in api.METHOD_DECORATOR:
                target = call.kwarg("name")
                wrappers = self.classify(call, facts.path)
                if target == "dispatch":
                    outer.extend(wrappers)
                elif target in api.CACHED_HANDLERS:
                    inner.extend(wrappers)
        for handler in api.CACHED_HANDLERS:
            bucket = outer if handler == "dispatch" else inner
            method = cls.method(handler)
            if method is not None:
                calls = (*method.decorators, *method.inline_wrappers)
                bucket.extend(w for call in calls for w in self.classify(call, facts.path))
        for method in cls.methods:  # DRF ``@action`` methods are GET handlers too
            if method.name not in api.CACHED_HANDLERS and _drf_get_action(method):
                calls = (*method.decorators, *method.inline_wrappers)
                inner.extend(w for call in calls for w in self.classify(call, facts.path))
        is_drf = self._is_drf_class(facts, cls)
        drf = [Wrapper(DRF_DISPATCH, Location(facts.path, cls.span))] if is_drf else []
        stack = outer + drf + self._class_auth(facts, cls) + inner
        # Methods inherited from project base classes count too (a mixin reading the session).
        methods = [(f.path, m) for f, owner in self._class_chain(facts, cls) for m in owner.methods]
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
        )

    def _class_chain(self, facts: PythonFacts, cls: ClassFacts) -> Iterator[tuple[PythonFacts, ClassFacts]]:
        """The class and its project base classes, nearest first (a simple MRO approximation)."""
        seen: set[str] = set()
        queue = [(facts, cls)]
        while queue:
            current_facts, current = queue.pop(0)
            key = f"{current_facts.module}.{current.name}"
            if key in seen:
                continue
            seen.add(key)
            yield current_facts, current
            for base in current.bases:
                target = self._definitions.get(base)
                if target is not None and isinstance(target[1], ClassFacts):
                    queue.append(target)  # type: ignore[arg-type]

    def _class_attribute(self, facts: PythonFacts, cls: ClassFacts, name: str) -> tuple[str, Any] | None:
        for owner_facts, owner in self._class_chain(facts, cls):
            attr = owner.attribute(name)
            if attr is not None:
                return owner_facts.path, attr
        return None

    def _is_drf_class(self, facts: PythonFacts, cls: ClassFacts) -> bool:
        chain = self._class_chain(facts, cls)
        return any(base.startswith(api.DRF_VIEW_PREFIX) for _, owner in chain for base in owner.bases)

    def _class_auth(self, facts: PythonFacts, cls: ClassFacts) -> list[Wrapper]:
        """Auth enforced in dispatch by mixins or DRF permissions, from the class or its bases."""
        is_drf = False
        for owner_facts, owner in self._class_chain(facts, cls):
            for base in owner.bases:
                if base in api.AUTH_MIXINS:
                    short = base.rsplit(".", 1)[-1]
                    location = Location(owner_facts.path, owner.span)
                    return [Wrapper(AUTH, location, None, f"`{short}` requires login here")]
                is_drf = is_drf or base.startswith(api.DRF_VIEW_PREFIX)
        attr = self._class_attribute(facts, cls, "permission_classes")
        if attr is not None:
            path, value = attr
            return self._drf_auth(Location(path, value.span), None, value.names)
        return self._drf_default_auth() if is_drf else []

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
        """What the view's code reads, directly or in a project function it passes the request to
        (one hop: ``get_cart(request)`` reading ``request.session``)."""
        found: list[tuple[str, tuple[Evidence, ...]]] = []
        for path, function in functions:
            for access in function.accesses:
                evidence = Evidence(Location(path, access.span), f"reads `{access.what}` here")
                found.append((ACCESS_KINDS[access.what], (evidence,)))
            for called, span in function.request_calls:
                target = self._definitions.get(called)
                if target is None or not isinstance(target[1], FunctionFacts):
                    continue
                helper_facts, helper = target
                for access in helper.accesses[:1]:
                    call = Evidence(Location(path, span), f"passes the request to `{helper.name}` here")
                    read = Evidence(
                        Location(helper_facts.path, access.span),
                        f"`{helper.name}` reads `{access.what}` here",
                    )
                    found.append((ACCESS_KINDS[access.what], (call, read)))
        return found
