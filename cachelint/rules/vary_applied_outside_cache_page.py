from __future__ import annotations

from collections.abc import Iterator

from cachelint.config import Config
from cachelint.finding import Evidence, Finding, Severity
from cachelint.project import (
    AUTH,
    CACHE_CONTROL,
    CACHE_PAGE,
    DRF_DISPATCH,
    NEVER_CACHE,
    VARY_COOKIE,
    VARY_HEADERS,
    ProjectModel,
    View,
)
from cachelint.project.views import _private
from cachelint.registry import Rule, register

DRF_MESSAGE = "`cache_page` is applied inside DRF's"


@register
class VaryAppliedOutsideCachePage(Rule):
    code = "CL103"
    slug = "vary-applied-outside-cache-page"
    severity = Severity.ERROR
    summary = "`vary_on_*` above `cache_page` adds Vary after the response was cached"
    tags = ("security", "privacy")
    security_severity = 7.5
    cwe = (524,)
    fixable = True
    what_it_does = """
Flags `vary_on_cookie` / `vary_on_headers(...)` applied *outside* `cache_page` on the same view:
above it in a decorator list, or on `dispatch` while `cache_page` wraps `get`. For
`Vary: Cookie` on a page anonymous visitors reach, the hint names not caching (or caching public
fragments) first: moved below `cache_page`, it keeps one entry per cookie, which CL104 reports.
`--fix` still moves the decorator, which ends the leak.

The same happens with Django REST framework's own `Vary: Accept`: `cache_page` *inside* DRF's
dispatch (below `@api_view`, or with `method_decorator` on an `APIView`/viewset handler such as
`get`, `list` or an `@action`) is flagged when the view has more than one renderer (DRF's
default: JSON and the browsable API) and returns DRF `Response`s, unless the response already
varies on `Accept` (`vary_on_headers("Accept")` below `cache_page`) or is private. A view that
requires login is left to CL101. `--fix` leaves these to you.
"""
    why_is_this_bad = """
Decorators apply bottom-up, so the outer `vary_on_cookie` adds its header after `cache_page`
has already stored the response and learned its cache key from the headers it saw. The cache
keeps one entry for everyone, although the response says it varies.

DRF negotiates the format and adds `Vary: Accept` in `finalize_response`, when its dispatch
returns: a cache inside it has already keyed the response without `Accept`, so whichever format
the first client asked for (the browsable HTML page or JSON) is served to every client.
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
            yield from self._inside_drf(project, view, caches)
            innermost_cache = caches[-1]
            for index, wrapper in enumerate(view.stack):
                if wrapper.kind in (VARY_COOKIE, VARY_HEADERS) and index < innermost_cache:
                    cache = view.stack[innermost_cache]
                    name = wrapper.call.name.rsplit(".", 1)[-1] if wrapper.call else "vary"
                    hint = f"move `{name}` below `cache_page` (decorators apply bottom-up)"
                    if wrapper.kind == VARY_COOKIE and not view.wrappers(AUTH):
                        # Moved below, it keeps one entry per cookie on a public page: CL104.
                        hint = (
                            "do not cache this page, or cache its public fragments with `{% cache %}`; "
                            f"if it must be cached per visitor, require login and {hint}"
                        )
                    yield self.finding(
                        wrapper.location,
                        f"`{name}` is applied outside `cache_page`: the response is cached before "
                        "the Vary header is added, so the cache ignores it",
                        hint=hint,
                        related=[Evidence(cache.location, "`cache_page` stores the response here")],
                    )

    def _inside_drf(self, project: ProjectModel, view: View, caches: list[int]) -> Iterator[Finding]:
        """``cache_page`` inside DRF's dispatch (below ``@api_view``, on a handler or an
        ``@action``) stores the response before DRF adds ``Vary: Accept``."""
        drf = view.layers(DRF_DISPATCH)
        inside = [i for i in caches if drf and i > drf[0]]
        if not inside or view.wrappers(AUTH):
            return  # a cached view that requires login is CL101's, whatever the format
        renderers = project.negotiated_renderers(view)
        if not renderers:
            return  # one renderer: DRF negotiates nothing and adds no Vary
        for index in inside:
            if _varies_on_accept(view, index):
                continue
            layer = view.stack[drf[0]]
            where = "`@api_view`" if layer.call is not None else "`APIView.dispatch`"
            yield self.finding(
                view.stack[index].location,
                f"{DRF_MESSAGE} {where}: it stores the response before DRF adds `Vary: Accept`, so "
                "the first client's format (the browsable HTML page or JSON) is served to all",
                hint="cache outside DRF (`@cache_page` above `@api_view`, or "
                '`method_decorator(cache_page(...), name="dispatch")`), or add '
                '`vary_on_headers("Accept")` below `cache_page`',
                related=[
                    Evidence(layer.location, "DRF negotiates the format and adds `Vary: Accept` here"),
                    *renderers,
                ],
            )

    def fixes(self, finding: Finding) -> bool:
        return not finding.message.startswith(DRF_MESSAGE)  # a cache inside DRF: no single fix

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


def _varies_on_accept(view: View, cache_index: int) -> bool:
    """The response reaches the cache already varying on Accept, or is not stored at all."""
    for wrapper in view.stack[cache_index + 1 :]:
        call = wrapper.call
        if wrapper.kind == NEVER_CACHE:
            return True
        if (
            wrapper.kind == VARY_HEADERS
            and call
            and any(isinstance(h, str) and h.lower() == "accept" for h in call.args)
        ):
            return True
        if wrapper.kind == CACHE_CONTROL and call and _private(dict(call.kwargs)):
            return True
    for write, _ in view.header_writes:
        if write.header == "vary" and isinstance(write.value, tuple) and {"accept", "*"} & set(write.value):
            return True
        if write.header == "cache-control" and isinstance(write.value, dict) and _private(write.value):
            return True
    return False


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
