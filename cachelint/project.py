"""The cross-file model: per-file facts joined into views, template chains and settings.

Rules query this model and never parse or read files. Everything here is derived from facts,
so the same model comes out whether facts were parsed now, in a worker, or read from the cache.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cachelint import django_api as api
from cachelint.config import Config
from cachelint.discovery import glob_spec
from cachelint.facts.python import PythonFacts, SkippedModule
from cachelint.facts.settings import (
    SETTINGS_MARKERS,
    Definition,
    SettingsFacts,
    is_production_module,
    run_settings,
)
from cachelint.facts.templates import TemplateFacts, TemplateUse
from cachelint.facts.values import LocList, Namespace
from cachelint.facts.views import Call, ClassFacts, FunctionFacts, HeaderWrite, Route
from cachelint.finding import Evidence, Location, Span


@dataclass(frozen=True)
class Problem:
    """A file that could not be read or parsed (reported as CL001)."""

    location: Location
    reason: str


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


def _worth_a_look(view: View) -> bool:
    return bool(view.header_writes) or any(w.kind in _MATTERING_KINDS for w in view.stack)


def _private(directives: dict[str, Any]) -> bool:
    return directives.get("private") is True or directives.get("no_store") is True


@dataclass(frozen=True)
class RenderedUse:
    """A personal use in a rendered template, with its kind and the extends/include path to it."""

    use: TemplateUse
    kind: str
    location: Location
    via: tuple[Evidence, ...]


@dataclass
class SettingsModule:
    module: str
    path: str
    namespace: Namespace
    definitions: list[Definition]
    production: bool
    is_leaf: bool  # not star-imported by another settings module

    def value(self, name: str) -> Any:
        binding = self.namespace.get(name)
        return binding.value if binding is not None else None

    def location_of(self, name: str) -> Location | None:
        binding = self.namespace.get(name)
        return Location(binding.path, binding.span) if binding is not None else None


@dataclass
class ProjectModel:
    config: Config = field(default_factory=Config)
    root: Path | None = None
    # Declared by the project (or configured); None: unknown, rules assume the latest release.
    django_version: tuple[int, int] | None = None
    python: dict[str, PythonFacts] = field(default_factory=dict)  # by display path
    templates_by_path: dict[str, TemplateFacts] = field(default_factory=dict)
    template_names: dict[str, str] = field(default_factory=dict)  # template name -> display path
    problems: list[Problem] = field(default_factory=list)
    # Modules the pre-filter skipped, with what they import (see modules_importing).
    skipped: dict[str, SkippedModule] = field(default_factory=dict)
    # rendered_uses by template name (rules ask for the same templates again and again)
    _rendered_memo: dict[str, list[RenderedUse]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    # --- lookups ---------------------------------------------------------------------------

    @cached_property
    def modules(self) -> dict[str, PythonFacts]:
        return {facts.module: facts for facts in self.python.values()}

    @cached_property
    def _definitions(self) -> dict[str, tuple[PythonFacts, FunctionFacts | ClassFacts]]:
        table: dict[str, tuple[PythonFacts, FunctionFacts | ClassFacts]] = {}
        for facts in self.python.values():
            for item in (*facts.views.functions, *facts.views.classes):
                table[f"{facts.module}.{item.name}"] = (facts, item)
        return table

    @cached_property
    def _aliases(self) -> dict[str, tuple[PythonFacts, Call]]:
        return {
            f"{facts.module}.{alias.name}": (facts, alias.call)
            for facts in self.python.values()
            for alias in facts.views.aliases
        }

    def functions(self) -> Iterator[tuple[PythonFacts, FunctionFacts]]:
        """Every module-level function and method of a module-level class."""
        for facts in self.python.values():
            yield from ((facts, f) for f in facts.views.functions)
            yield from ((facts, m) for cls in facts.views.classes for m in cls.methods)

    @cached_property
    def cache_control_settings(self) -> list[tuple[dict[str, Any], Location]]:
        """Every literal Cache-Control setting in the project, once each: the views'
        decorators, and ``patch_cache_control``/``response["Cache-Control"]`` in any function."""
        found: dict[Location, dict[str, Any]] = {}
        for view in self.views:
            for directives, location in view.cache_control():
                found.setdefault(location, directives)
        for facts, function in self.functions():
            for write in function.header_writes:
                if write.header == "cache-control" and isinstance(write.value, dict):
                    found.setdefault(Location(facts.path, write.span), write.value)
        return [(directives, location) for location, directives in sorted(found.items())]

    def referenced_modules(self) -> set[str]:
        """Modules that may hold evidence although the byte pre-filter skipped them (parsed on
        demand): views a cached URLconf entry wraps, helpers a cached view passes the request
        to, the decorators and base classes parsed code uses, modules that import a cache alias
        or decorator, the context processors and storage classes named in settings."""
        modules = {
            route.view.rpartition(".")[0]
            for facts in self.python.values()
            for route in facts.views.routes
            if route.view and (route.wrappers or route.initkwargs)
        }
        for _, function in self.functions():
            if any("cache" in call.name for call in function.decorators):
                modules.update(name.rpartition(".")[0] for name, _ in function.request_calls)
        modules.update(p.rpartition(".")[0] for p in self.context_processors)
        # Decorators, mixins and base classes that parsed code uses (and what a project decorator
        # applies inside): where a cached view's login check, template or personal reads may live.
        modules.update(name.rpartition(".")[0] for name in self._wrapper_and_base_names())
        # Skipped modules that use a cache alias or decorator (``cache_day = cache_page(...)``).
        modules.update(self.modules_importing(self.cache_decorator_names()))
        for module in self.settings_modules:  # project storage classes named in settings
            storages = module.value("STORAGES")
            backends = [module.value("STATICFILES_STORAGE")]
            if isinstance(storages, dict):
                backends += [e.get("BACKEND") for e in storages.values() if isinstance(e, dict)]
            modules.update(b.rpartition(".")[0] for b in backends if isinstance(b, str))
        return modules

    def modules_importing(self, names: Iterable[str]) -> set[str]:
        """Modules the pre-filter skipped that import one of ``names`` (or its module)."""
        wanted: set[str] = set()
        for name in names:
            wanted.update((name, name.rpartition(".")[0]))
        if not wanted:
            return set()
        return {module for module, skipped in self.skipped.items() if skipped.imported() & wanted}

    def protecting_names(self) -> set[str]:
        """The project's own decorators and classes that require login (``members_only``,
        ``class StaffView(LoginRequiredMixin, View)``): views elsewhere use them by name."""
        names = set()
        for name, (facts, item) in self._definitions.items():
            if isinstance(item, FunctionFacts):
                if self._project_auth_decorator(name, 0):
                    names.add(name)
            elif any(
                base in api.AUTH_MIXINS for _, owner in self._class_chain(facts, item) for base in owner.bases
            ):
                names.add(name)
        return names

    def _wrapper_and_base_names(self) -> set[str]:
        """The decorators and base classes of the views a rule may look at (those with a cache,
        header, auth or conditional layer), and what those decorators call inside."""
        names: set[str] = set()
        calls = [
            call for facts in self.python.values() for route in facts.views.routes for call in route.wrappers
        ]
        for view in self.views:
            target = self._definitions.get(view.name) if _worth_a_look(view) else None
            if target is None:
                continue
            facts, item = target
            if isinstance(item, ClassFacts):
                names.update(base for _, owner in self._class_chain(facts, item) for base in owner.bases)
                calls += item.decorators
                for method in item.methods:
                    calls += (*method.decorators, *method.inline_wrappers)
            else:
                calls += (*item.decorators, *item.inline_wrappers)
        while calls:
            call = calls.pop()
            names.add(call.name)
            calls += call.inner
        for name in list(names):
            target = self._definitions.get(name)
            if target is not None and isinstance(target[1], FunctionFacts):
                names.update(called for called, _ in target[1].calls)
        return names

    def template(self, name: str) -> TemplateFacts | None:
        path = self.template_names.get(name)
        return self.templates_by_path.get(path) if path else None

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
        stack = outer + self._class_auth(facts, cls) + inner
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

    # --- templates ---------------------------------------------------------------------------

    def use_kind(self, use: TemplateUse) -> str:
        """The personal kind of a template variable: from its name, or "context" when a
        context processor that reads the user or session provides it."""
        if use.kind:
            return use.kind
        return "context" if use.root in self.context_personal_names else ""

    @cached_property
    def context_personal_names(self) -> dict[str, Evidence]:
        """Variables that the project's own context processors derive from the user or session."""
        names: dict[str, Evidence] = {}
        for dotted in self.context_processors:
            target = self._definitions.get(dotted)
            if target is None or not isinstance(target[1], FunctionFacts):
                continue
            facts, function = target
            if function.accesses:
                access = function.accesses[0]
                evidence = Evidence(
                    Location(facts.path, access.span),
                    f"context processor `{function.name}` reads `{access.what}` here",
                )
                for key in function.returned_keys:
                    names.setdefault(key, evidence)
        return names

    @cached_property
    def context_processors(self) -> list[str]:
        """Dotted paths listed in ``TEMPLATES[*]["OPTIONS"]["context_processors"]``."""
        found: list[str] = []
        for module in self.settings_modules:
            templates = module.value("TEMPLATES")
            for engine in templates if isinstance(templates, list | tuple) else ():
                options = engine.get("OPTIONS") if isinstance(engine, dict) else None
                processors = options.get("context_processors") if isinstance(options, dict) else None
                for processor in processors if isinstance(processors, list | tuple) else ():
                    if isinstance(processor, str) and processor not in found:
                        found.append(processor)
        return found

    def rendered_uses(self, name: str) -> list[RenderedUse]:
        """Personal uses that rendering template ``name`` outputs, through extends and includes.

        Each template reached is expanded once, on the first path that reaches it (its uses
        carry that path as evidence): expanding every path is exponential in the include depth.
        """
        if name not in self._rendered_memo:
            self._rendered_memo[name] = out = []
            self._rendered(name, (), set(), 0, out)
        return self._rendered_memo[name]

    def _rendered(
        self, name: str, via: tuple[Evidence, ...], seen: set[str], depth: int, out: list[RenderedUse]
    ) -> None:
        # ``seen`` also cuts include cycles; ``depth`` bounds the recursion (Python's stack).
        if name in seen or depth > 20:
            return
        seen.add(name)
        chain: list[TemplateFacts] = []
        current = self.template(name)
        links: list[tuple[Evidence, ...]] = []
        path_so_far = via
        while current is not None and current.path not in {t.path for t in chain}:
            chain.append(current)
            links.append(path_so_far)
            if current.extends is None:
                break
            parent_name, span = current.extends
            path_so_far = (*path_so_far, Evidence(Location(current.path, span), f"extends `{parent_name}`"))
            current = self.template(parent_name)
        if not chain:
            return
        root_complete = chain[-1].extends is None
        for index, template in enumerate(chain):
            is_root = index == len(chain) - 1 and root_complete
            for use in template.uses:
                kind = self.use_kind(use)
                if kind and self._block_rendered(chain, index, use.block, is_root):
                    out.append(RenderedUse(use, kind, Location(template.path, use.span), links[index]))
            for include in template.includes:
                if include.name not in seen and self._block_rendered(chain, index, include.block, is_root):
                    step = Evidence(Location(template.path, include.span), f"includes `{include.name}`")
                    self._rendered(include.name, (*links[index], step), seen, depth + 1, out)

    @staticmethod
    def _block_rendered(chain: list[TemplateFacts], index: int, block: str | None, is_root: bool) -> bool:
        """Whether content of chain[index] inside ``block`` is output. Outside any block, only the
        root template's content is; a block's content shows unless a more-derived template
        replaces that block (or an enclosing one) without ``{{ block.super }}``."""
        if block is None:
            return is_root
        blocks = {b.name: b for b in chain[index].blocks}
        name: str | None = block
        while name is not None:
            for child in chain[:index]:
                override = next((b for b in child.blocks if b.name == name), None)
                if override is not None and not override.uses_super:
                    return False
            parent = blocks.get(name)
            name = parent.parent if parent else None
        return True

    def personal_evidence(self, view: View, kinds: frozenset[str] = PERSONAL_KINDS) -> list[Evidence]:
        """Why the view's output differs per visitor: its code, or what its templates print.

        ``kinds`` narrows what counts: "user", "session", "perms", "messages", "csrf_token".
        """
        # One line of code is enough to show it.
        evidence = next((list(chain) for kind, chain in view.accesses if kind in kinds), [])
        for name, location, overrides in view.templates:
            for rendered in self.rendered_uses(name):
                if rendered.use.root in overrides:
                    continue  # the view put its own value under that name
                if rendered.kind not in kinds:
                    continue
                via = (Evidence(location, f"renders `{name}`"), *rendered.via)
                label = f"template prints `{rendered.use.expression}` here"
                if rendered.kind == "csrf_token":
                    label = "template uses the CSRF token here"
                elif rendered.kind == "context":
                    label = f"template prints `{rendered.use.expression}` here"
                    via = (
                        *via,
                        Evidence(rendered.location, label),
                        self.context_personal_names[rendered.use.root],
                    )
                    evidence.extend(via)
                    break
                evidence.extend((*via, Evidence(rendered.location, label)))
                break  # one template line is enough evidence per template
        return evidence

    # --- languages ---------------------------------------------------------------------------

    @cached_property
    def language_varies(self) -> list[Evidence]:
        """Why one page can come out in several languages, or [] when it cannot be shown: i18n
        on (Django's default), ``LocaleMiddleware`` choosing each visitor's language, and a
        template that translates text. A project without LocaleMiddleware renders every page
        in LANGUAGE_CODE, so caching without the language is harmless there."""
        values = [m.value("USE_I18N") for m in self.settings_modules if m.value("USE_I18N") is not None]
        if values and all(v is False for v in values):
            return []
        locale = None
        for module in self.settings_modules:
            middleware = module.value("MIDDLEWARE")
            if isinstance(middleware, list | tuple) and api.LOCALE_MIDDLEWARE in middleware:
                located = (
                    middleware.location(middleware.index(api.LOCALE_MIDDLEWARE))
                    if isinstance(middleware, LocList)
                    else None
                )
                locale = located or module.location_of("MIDDLEWARE")
                break
        if locale is None:
            return []
        evidence = [Evidence(locale, "`LocaleMiddleware` picks each visitor's language here")]
        for path, template in sorted(self.templates_by_path.items()):
            for tag, span in template.translation_tags[:1]:
                return [*evidence, Evidence(Location(path, span), f"template translates text (`{tag}`) here")]
        return []

    # --- settings ----------------------------------------------------------------------------

    @cached_property
    def settings_modules(self) -> list[SettingsModule]:
        candidates: dict[str, PythonFacts] = {}
        for facts in self.python.values():
            settings = facts.settings
            if settings is None:
                continue
            if (
                settings.assigned & SETTINGS_MARKERS
                or facts.path.rsplit("/", 1)[-1] == "settings.py"
                or "/settings/" in f"/{facts.path}"
            ):
                candidates[facts.module] = facts
        # A module that star-imports a settings module is one too (prod.py: from .base import *).
        for facts in self.python.values():
            if facts.settings and any(m in candidates for m in facts.settings.star_imports):
                candidates.setdefault(facts.module, facts)
        imported = {m for f in candidates.values() for m in f.settings.star_imports}  # type: ignore[union-attr]

        def load(module: str) -> tuple[str, SettingsFacts] | None:
            target = self.modules.get(module)
            if target is None or target.settings is None:
                return None
            return target.path, target.settings

        modules = []
        for name, facts in sorted(candidates.items()):
            assert facts.settings is not None
            namespace, definitions = run_settings(facts.path, facts.settings, load, _active=frozenset({name}))
            modules.append(
                SettingsModule(
                    module=name,
                    path=facts.path,
                    namespace=namespace,
                    definitions=definitions,
                    production=self._is_production(name, facts.path, namespace),
                    is_leaf=name not in imported,
                )
            )
        return modules

    def _is_production(self, module: str, path: str, namespace: Namespace) -> bool:
        """Configured ``production-settings`` globs win; else the name or ``DEBUG = False``."""
        patterns = self.config.production_settings
        if patterns:
            spec = glob_spec(patterns)
            relative = Path(
                os.path.relpath(os.path.realpath(path), os.path.realpath(self.root or "."))
            ).as_posix()
            return bool(spec and spec.match_file(relative))
        return is_production_module(module, namespace)

    def find_function(self, qualified: str) -> tuple[PythonFacts, FunctionFacts] | None:
        target = self._definitions.get(qualified)
        if target is not None and isinstance(target[1], FunctionFacts):
            return target  # type: ignore[return-value]
        return None

    def find_class(self, qualified: str) -> tuple[PythonFacts, ClassFacts] | None:
        target = self._definitions.get(qualified)
        if target is not None and isinstance(target[1], ClassFacts):
            return target  # type: ignore[return-value]
        return None

    def class_bases(self, qualified: str) -> list[str] | None:
        """All base names of a project class, transitively (None when not a project class)."""
        target = self.find_class(qualified)
        if target is None:
            return None
        return [base for _, cls in self._class_chain(*target) for base in cls.bases]


def location_in_dict(container: Any, key: Any, fallback: Location) -> Location:
    """Where ``key`` was written in an evaluated settings dict, else ``fallback``."""
    spans = getattr(container, "key_spans", {})
    path = getattr(container, "path", "") or fallback.path
    span: Span | None = spans.get(key)
    return Location(path, span) if span is not None else fallback
