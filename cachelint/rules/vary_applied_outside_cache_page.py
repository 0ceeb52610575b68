from __future__ import annotations

from collections.abc import Iterator

from cachelint.config import Config
from cachelint.finding import Evidence, Finding, Severity
from cachelint.project import CACHE_PAGE, VARY_COOKIE, VARY_HEADERS, ProjectModel
from cachelint.registry import Rule, register


@register
class VaryAppliedOutsideCachePage(Rule):
    code = "CL103"
    slug = "vary-applied-outside-cache-page"
    severity = Severity.ERROR
    summary = "`vary_on_*` above `cache_page` adds Vary after the response was cached"
    tags = ("security", "privacy")
    security_severity = 7.5
    fixable = True
    what_it_does = """
Flags `vary_on_cookie` / `vary_on_headers(...)` applied *outside* `cache_page` on the same view:
above it in a decorator list, or on `dispatch` while `cache_page` wraps `get`.
"""
    why_is_this_bad = """
Decorators apply bottom-up, so the outer `vary_on_cookie` adds its header after `cache_page`
has already stored the response and learned its cache key from the headers it saw. The cache
keeps one entry for everyone, although the response says it varies.
"""
    bad_example = {
        "accounts/views.py": """from django.shortcuts import render
from django.views.decorators.cache import cache_page
from django.views.decorators.vary import vary_on_cookie


@vary_on_cookie  # expect: CL103
@cache_page(60)
def profile_card(request):
    return render(request, "accounts/card.html")
""",
    }
    good_example = {
        "accounts/views.py": """from django.shortcuts import render
from django.views.decorators.cache import cache_page
from django.views.decorators.vary import vary_on_headers


@cache_page(60)
@vary_on_headers("Accept-Language")
def profile_card(request):
    return render(request, "accounts/card.html")
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for view in project.views:
            caches = view.layers(CACHE_PAGE)
            if not caches:
                continue
            innermost_cache = caches[-1]
            for index, wrapper in enumerate(view.stack):
                if wrapper.kind in (VARY_COOKIE, VARY_HEADERS) and index < innermost_cache:
                    cache = view.stack[innermost_cache]
                    name = wrapper.call.name.rsplit(".", 1)[-1] if wrapper.call else "vary"
                    yield self.finding(
                        wrapper.location,
                        f"`{name}` is applied outside `cache_page`: the response is cached before "
                        "the Vary header is added, so the cache ignores it",
                        hint=f"move `{name}` below `cache_page` (decorators apply bottom-up)",
                        related=[Evidence(cache.location, "`cache_page` stores the response here")],
                    )

    def fix(self, text: str, findings: list[Finding], config: Config) -> str:
        """Move each vary decorator to just below the `cache_page` in the same decorator list."""
        import libcst as cst

        from cachelint.fixing import FixRefused, locate_nodes

        module = cst.parse_module(text)
        wanted = {(f.location.line, f.location.col): f.related[0].location for f in findings if f.related}
        spans = set(wanted) | {(loc.line, loc.col) for loc in wanted.values()}
        nodes = locate_nodes(module, spans, cst.BaseExpression)
        moves = {}
        for start, cache_location in wanted.items():
            vary, cache = nodes.get(start), nodes.get((cache_location.line, cache_location.col))
            if vary is None or cache is None:
                raise FixRefused("the decorators could not be located")
            moves[vary] = cache

        moved: set[object] = set()

        class Mover(cst.CSTTransformer):
            def _reorder(self, original, node):  # FunctionDef or ClassDef
                decorators = list(node.decorators)
                # identity with `nodes`: a finding points at the decorator, or inside
                # ``method_decorator(...)`` at its argument
                expressions = [_applied(d.decorator) for d in original.decorators]
                for vary, cache in moves.items():
                    here = [i for i, (inner, _) in enumerate(expressions) if inner is vary]
                    if not here:
                        continue
                    there = [i for i, (inner, _) in enumerate(expressions) if inner is cache]
                    if not there:
                        raise FixRefused("`cache_page` is applied elsewhere (another method or the URLconf)")
                    if expressions[here[0]][1] != expressions[there[0]][1]:
                        raise FixRefused("the two `method_decorator`s decorate different methods (`name=`)")
                    moving, expression = decorators.pop(here[0]), expressions.pop(here[0])
                    at = next(i for i, (inner, _) in enumerate(expressions) if inner is cache) + 1
                    decorators.insert(at, moving)
                    expressions.insert(at, expression)
                    moved.add(vary)
                return node.with_changes(decorators=decorators)

            def leave_FunctionDef(self, original, updated):
                return self._reorder(original, updated)

            def leave_ClassDef(self, original, updated):
                return self._reorder(original, updated)

        code = module.visit(Mover()).code
        if len(moved) < len(moves):
            raise FixRefused(
                "the `vary_on_*` decorator is not one of a decorator list (or of one `method_decorator`)"
            )
        return code


def _applied(decorator: object) -> tuple[object, str | None]:
    """What a decorator applies, and to which method: ``method_decorator(vary_on_cookie,
    name="dispatch")`` applies ``vary_on_cookie`` to ``dispatch``; others apply themselves."""
    import libcst as cst

    if isinstance(decorator, cst.Call):
        func = decorator.func
        name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
        positional = [a for a in decorator.args if a.keyword is None]
        if name == "method_decorator" and len(positional) == 1:
            target = next(
                (a.value for a in decorator.args if a.keyword is not None and a.keyword.value == "name"), None
            )
            method = target.evaluated_value if isinstance(target, cst.SimpleString) else None
            return positional[0].value, str(method) if method is not None else None
    return decorator, None
