from __future__ import annotations

from collections.abc import Iterator

from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import AUTH, CACHE_CONTROL, CACHE_PAGE, VARY_COOKIE, ProjectModel, View
from cachelint.registry import Rule, register


@register
class VaryOnCookie(Rule):
    code = "CL104"
    slug = "vary-on-cookie"
    severity = Severity.WARNING
    summary = "`Vary: Cookie` on a response meant to be cached defeats shared caches"
    tags = ("performance",)
    what_it_does = """
Flags `Vary: Cookie` (`vary_on_cookie`, `vary_on_headers("Cookie")`,
`patch_vary_headers(response, ["Cookie"])`, `response["Vary"] = "Cookie"`) on a view that
anonymous visitors reach and whose response a cache is meant to keep: one cached with
`cache_page` (Vary set inside it), or marked `cache_control(public=True)`. A Vary applied
outside `cache_page` is CL103's concern instead.

It also flags the "cache anonymous visitors" pattern: a public view that reads the user only to
personalise some visitors' pages and adds `Vary: Cookie` so that `cache_page` keeps one entry
per cookie. Views that are auth-protected (`login_required`, an auth mixin, a DRF authenticated
permission class) are not flagged: there varying per credential (`vary_on_cookie`,
`vary_on_headers("Cookie", "Authorization")`) inside `cache_page` is the per-user caching CL101
allows.
"""
    why_is_this_bad = """
Every visitor has a different session or CSRF cookie (and analytics cookies), so every visitor
gets a separate cache entry: the cache fills up with copies and shared caches and CDNs stop
helping. On a personalised public page the copies are safe only as long as every personal part
really is keyed by the cookie; a page that is the same for most visitors is better served by
caching its public fragments and rendering the personal part uncached.
"""
    bad_example = {
        "news/views.py": """from django.shortcuts import render
from django.views.decorators.cache import cache_page
from django.views.decorators.vary import vary_on_cookie


@cache_page(600)
@vary_on_cookie  # expect: CL104
def front_page(request):
    return render(request, "news/front.html")


@cache_page(600)
@vary_on_cookie  # expect: CL104
def reading_list(request):
    # "Cache anonymous visitors": every cookie, anonymous or not, gets its own entry.
    if request.user.is_authenticated:
        return render(request, "news/list.html", {"items": request.user.saved_items.all()})
    return render(request, "news/list.html")
""",
    }
    good_example = {
        "news/views.py": """from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import cache_page
from django.views.decorators.vary import vary_on_cookie


@cache_page(600)
def front_page(request):
    return render(request, "news/front.html")


@vary_on_cookie
def dashboard(request):
    return render(request, "news/dashboard.html")


@login_required
@cache_page(600)
@vary_on_cookie
def reading_list(request):
    # Behind login: one cached copy per session is the per-user caching CL101 allows.
    return render(request, "news/list.html", {"items": request.user.saved_items.all()})
""",
        "news/api.py": """from django.utils.decorators import method_decorator
from django.views.decorators.cache import cache_page
from django.views.decorators.vary import vary_on_headers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView


class SavedItemsAPI(APIView):
    # An authenticated API varies per credential: a session cookie or a token.
    permission_classes = [IsAuthenticated]

    @method_decorator(cache_page(600))
    @method_decorator(vary_on_headers("Cookie", "Authorization"))
    def get(self, request):
        return Response(list(request.user.saved_items.values("pk", "title")))
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for view in project.views:
            caches = view.layers(CACHE_PAGE)
            public = _public_cache_control(view)
            if not caches and public is None:
                continue
            if view.wrappers(AUTH):
                continue  # only authenticated users get the page: varying per credential is per-user caching
            for index, wrapper in enumerate(view.stack):
                if wrapper.kind != VARY_COOKIE:
                    continue
                outer_caches = [i for i in caches if i < index]
                if outer_caches:
                    yield self._finding(
                        wrapper.location, view.stack[outer_caches[-1]].location, "cached here"
                    )
                elif public is not None and not caches:
                    yield self._finding(wrapper.location, public, "marked public here")
            for write, location in view.header_writes:
                if write.header == "vary" and isinstance(write.value, tuple) and "cookie" in write.value:
                    if caches:
                        yield self._finding(location, view.stack[caches[-1]].location, "cached here")
                    elif public is not None:
                        yield self._finding(location, public, "marked public here")

    def _finding(self, location: Location, cache: Location, label: str) -> Finding:
        return self.finding(
            location,
            "`Vary: Cookie` on a cached response: every visitor gets a separate cache entry, so "
            "shared caches and CDNs stop helping",
            hint="do not cache this response, cache its public fragments with `{% cache %}`, "
            "or split it into a public cached page and a per-user part",
            related=[Evidence(cache, label)],
        )


def _public_cache_control(view: View) -> Location | None:
    for wrapper in view.wrappers(CACHE_CONTROL):
        if wrapper.call is not None and wrapper.call.kwarg("public") is True:
            return wrapper.location
    for write, location in view.header_writes:
        if (
            write.header == "cache-control"
            and isinstance(write.value, dict)
            and write.value.get("public") is True
        ):
            return location
    return None
