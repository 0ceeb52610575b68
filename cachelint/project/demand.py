"""Which skipped modules parsed code points at: what the demand rounds parse next."""

from __future__ import annotations

from collections.abc import Iterable

from cachelint import django_api as api
from cachelint.facts.labels import unwrap
from cachelint.facts.views import ClassFacts, FunctionFacts
from cachelint.project.views import worth_a_look


class DemandQueries:
    """Modules worth parsing although the byte pre-filter skipped them."""

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
        modules.update(name.rpartition(".")[0] for name in self._followed_callees())
        modules.update(p.rpartition(".")[0] for p in self.context_processors)
        # Decorators, mixins and base classes that parsed code uses (and what a project decorator
        # applies inside): where a cached view's login check, template or personal reads may live.
        modules.update(name.rpartition(".")[0] for name in self._wrapper_and_base_names())
        # Skipped modules that use a cache alias or decorator (``cache_day = cache_page(...)``).
        modules.update(self.modules_importing(self.cache_decorator_names()))
        modules.update(self.star_importing_settings())
        for module in self.settings_modules:  # project storage classes named in settings
            storages = module.value("STORAGES")
            backends = [module.value("STATICFILES_STORAGE")]
            if isinstance(storages, dict):
                backends += [e.get("BACKEND") for e in storages.values() if isinstance(e, dict)]
            modules.update(b.rpartition(".")[0] for b in backends if isinstance(b, str))
        return modules

    def _followed_callees(self) -> set[str]:
        """The project functions whose results reach a cache key or value or a context
        processor's keys (``project.flow``, three calls deep), and the helpers a cached view
        passes the request to: where the evidence of a finding may live."""
        names: set[str] = set()
        work: list[tuple[FunctionFacts, frozenset[str], int]] = []
        helpers: list[tuple[FunctionFacts, int]] = []
        for _, function in self.functions():
            if function.cache_calls:
                labels = frozenset().union(*(c.key_labels | c.value_labels for c in function.cache_calls))
                work.append((function, labels, 0))
            if any("cache" in call.name for call in function.decorators):
                helpers.append((function, 0))
        for found in map(self.find_function, self.context_processors):
            if found is not None:
                labels = frozenset().union(*(labels for _, labels in found[1].flow.returned_keys))
                work.append((found[1], labels, 0))
        while work:  # call sites whose result flows into what is asked about
            function, labels, depth = work.pop()
            sites = function.flow.sites
            pending = [int(unwrap(label)[5:]) for label in labels if unwrap(label).startswith("call:")]
            seen: set[int] = set()
            while pending:
                index = pending.pop()
                if index in seen or index >= len(sites):
                    continue
                seen.add(index)
                site = sites[index]
                for given in (*site.args, *(v for _, v in site.kwargs), site.rest):
                    pending += [int(unwrap(label)[5:]) for label in given if unwrap(label).startswith("call:")]
                if "." in site.callee and not site.callee.startswith("self.") and site.callee not in names:
                    names.add(site.callee)
                    callee = self.find_function(site.callee)
                    if callee is not None and depth < 3:
                        work.append((callee[1], callee[1].flow.returns, depth + 1))
        while helpers:  # the request passed on
            function, depth = helpers.pop()
            for name, _ in function.request_calls:
                if name not in names:
                    names.add(name)
                    callee = self.find_function(name)
                    if callee is not None and depth < 3:
                        helpers.append((callee[1], depth + 1))
        return names

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
            target = self._definitions.get(view.name) if worth_a_look(view) else None
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
