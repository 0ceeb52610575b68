"""Values followed across functions: what a value of one function depends on, in visitor terms.

Each function's facts carry its own flow (``facts.flow``): labels per local, per returned value
and per call site. Here the ``call:N`` labels are replaced by what the called project function
returns (its ``param:NAME`` labels replaced by the caller's arguments), through ``self.``
methods of the class being served, up to ``MAX_HOPS`` calls deep. A call of anything that is
not a project function returns what it was given (``str(request.user)`` is still the user).
Rules ask ``sources(...)``: which visitor sources reach a value, each with its evidence chain.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

from cachelint.facts.labels import QUOTED, SANE, is_input, is_text, kind_of
from cachelint.facts.python import PythonFacts
from cachelint.facts.views import ClassFacts, FunctionFacts
from cachelint.finding import Evidence, Location

MAX_HOPS = 4  # calls followed from the function asked about (three helpers deep, and one more)

Sources = dict[str, tuple[Evidence, ...]]  # source label -> how it reaches the value

# Parameter names that are the visitor when the function is asked about directly (no caller).
_VISITOR_PARAMS = frozenset({"user"})
# What reading ``.pk`` of a value with the source on the left gives.
_IDENTITY = {"user": "user_id", "session": "session_key"}


def describe(label: str) -> str:
    """The code a source label stands for, as a finding names it."""
    if is_input(label):
        return f"request.{label.partition(':')[2]}"
    return {
        "user": "request.user",
        "user_id": "request.user",
        "auth_state": "request.user",
        "session": "request.session",
        "session_key": "request.session",
        "csrf_token": "get_token",
        "messages": "messages",
    }.get(label, label)


class FlowQueries:
    """Where values come from, followed through helpers and ``self.`` methods."""

    def sources(
        self,
        facts: PythonFacts,
        function: FunctionFacts,
        labels: frozenset[str],
        owner: tuple[PythonFacts, ClassFacts] | None = None,
    ) -> Sources:
        """The visitor sources (and raw request input) that ``labels`` of ``function`` stand for.

        ``owner`` is the class whose ``self.`` calls are followed (the view being served, so a
        subclass's override wins)."""
        return self._sources(facts, function, labels, owner, {}, 0, root=True)

    def _sources(
        self,
        facts: PythonFacts,
        function: FunctionFacts,
        labels: frozenset[str],
        owner: tuple[PythonFacts, ClassFacts] | None,
        bound: Mapping[str, Sources],
        depth: int,
        root: bool = False,
    ) -> Sources:
        found: Sources = {}
        flow = function.flow
        for label in sorted(labels):
            if label.startswith((SANE, QUOTED)):
                # ``int(helper(request))``: what the helper returns, less what the sanitizer drops.
                wrapper, _, inner = label.partition(":")
                inner_sources = self._sources(facts, function, frozenset({inner}), owner, bound, depth, root)
                for source, chain in inner_sources.items():
                    if is_text(source) or (wrapper + ":" == SANE and is_input(source)):
                        continue
                    found.setdefault(source, chain)
            elif label.startswith(("param:", "param_id:")):
                identity, _, name = label.partition(":")
                name = name.partition("@")[0]
                if name in bound:
                    for source, chain in bound[name].items():
                        found.setdefault(
                            _IDENTITY.get(source, source) if identity == "param_id" else source, chain
                        )
                elif root and name in _VISITOR_PARAMS:
                    evidence = Evidence(
                        Location(facts.path, function.span),
                        f"`{function.name}` takes the `{name}` argument here",
                    )
                    found.setdefault("user_id" if identity == "param_id" else "user", (evidence,))
            elif label.startswith("call:"):
                index = int(label.partition(":")[2])
                if index < len(flow.sites):
                    for source, chain in self._call_sources(
                        facts, function, index, owner, bound, depth
                    ).items():
                        found.setdefault(source, chain)
            elif kind_of(label) not in found:
                span = flow.origin(label)
                where = Location(facts.path, span if span is not None else function.span)
                found[kind_of(label)] = (Evidence(where, f"reads `{describe(kind_of(label))}` here"),)
        return found

    def _call_sources(
        self,
        facts: PythonFacts,
        function: FunctionFacts,
        index: int,
        owner: tuple[PythonFacts, ClassFacts] | None,
        bound: Mapping[str, Sources],
        depth: int,
    ) -> Sources:
        site = function.flow.sites[index]

        def resolve(labels: frozenset[str]) -> Sources:
            return self._sources(facts, function, labels, owner, bound, depth)

        given = [resolve(labels) for labels in site.args]
        named = {name: resolve(labels) for name, labels in site.kwargs}
        target = self._callee(site.callee, owner) if depth < MAX_HOPS else None
        if target is None:  # not the project's: it returns what it is given
            merged = resolve(site.rest)
            for sources in (*given, *named.values()):
                for source, chain in sources.items():
                    merged.setdefault(source, chain)
            return merged
        callee_facts, callee, callee_owner = target
        params = [p for p in callee.params if p not in ("self", "cls")]
        arguments: dict[str, Sources] = dict(zip(params, given))
        arguments.update((name, sources) for name, sources in named.items() if name in params)
        step = Evidence(Location(facts.path, site.span), f"calls `{callee.name}` here")
        returned = self._sources(
            callee_facts, callee, callee.flow.returns, callee_owner, arguments, depth + 1
        )
        return {source: (step, *chain) for source, chain in returned.items()}

    def _callee(
        self, name: str, owner: tuple[PythonFacts, ClassFacts] | None
    ) -> tuple[PythonFacts, FunctionFacts, tuple[PythonFacts, ClassFacts] | None] | None:
        """The project function or method a call site calls (``self.x`` through the owner's MRO)."""
        if name.startswith("self."):
            if owner is None:
                return None
            method_name = name.partition(".")[2]
            for owner_facts, cls in self._class_chain(*owner):  # MRO order
                method = cls.method(method_name)
                if method is not None:
                    return owner_facts, method, owner
            return None
        found = self.find_function(name)
        return (found[0], found[1], None) if found is not None else None

    def owner_of(self, facts: PythonFacts, function: FunctionFacts) -> tuple[PythonFacts, ClassFacts] | None:
        """The module-level class that defines ``function`` as a method, if any."""
        return self._method_owners.get(id(function))

    @cached_property
    def _method_owners(self) -> dict[int, tuple[PythonFacts, ClassFacts]]:
        # Built once: rules ask for every function's owner.
        return {
            id(method): (facts, cls)
            for facts in self.python.values()
            for cls in facts.views.classes
            for method in cls.methods
        }
