from __future__ import annotations

from collections.abc import Iterator

from cachelint.finding import Evidence, Finding, Severity
from cachelint.project import AUTH, CACHE_PAGE, ProjectModel
from cachelint.registry import Rule, register


@register
class CachePageOnAuthenticatedView(Rule):
    code = "CL101"
    slug = "cache-page-on-authenticated-view"
    severity = Severity.ERROR
    summary = "`cache_page` on a view that requires login serves one user's page to others"
    tags = ("security", "privacy")
    security_severity = 8.1
    cwe = (524,)
    what_it_does = """
Flags `cache_page` on a view that is protected by `login_required`, `permission_required`,
`user_passes_test`, `staff_member_required`, `LoginRequiredMixin`, `PermissionRequiredMixin`,
`UserPassesTestMixin`, a DRF authenticated permission class, or a project decorator that wraps
one of these. It understands both decorator orders, `method_decorator(cache_page(...),
name="dispatch")` on a class, `method_decorator` on `get`/`dispatch`, module-level aliases
such as `cache_hour = cache_page(3600)`, and project decorators that apply `cache_page` inside
(`def cache_for(minutes): return cache_page(minutes * 60)`); a project decorator that looks at
the user (`.user`, `is_authenticated`) is left alone, as it may cache anonymous visitors only.
Layers and mixins inherited from base classes count in MRO order, as Python calls them; an auth
mixin listed after `View` never runs, so it is not a login check here (CL111 reports it).

It stays silent when the cached response varies per user: `vary_on_cookie`, `never_cache`, or
`cache_control(private=True)`/`no_store=True` applied *inside* `cache_page` (below it), the same
headers set in the view body, or a `key_prefix` built from the user.

The fix, in order of preference: do not cache the view, or cache only its public fragments with
`{% cache %}`; if each user's copy must be cached, vary per user (`vary_on_cookie` below
`cache_page`, which CL104 accepts behind login) or mark it `cache_control(private=True)`.
"""
    why_is_this_bad = """
`cache_page` keys the cache on the URL (plus the headers listed in `Vary` when it stores the
response). With `login_required` outside, the first user's page is stored and every later user
who passes the login check gets that page, with the first user's name, data and CSRF token.
With `cache_page` outside, the stored page is served before the login check runs, even to
anonymous visitors.
"""
    bad_example = {
        "shop/views.py": """from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import cache_page


@login_required
@cache_page(60 * 15)  # expect: CL101
def order_history(request):
    return render(request, "shop/orders.html", {"orders": request.user.orders.all()})
""",
    }
    good_example = {
        "shop/views.py": """from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import cache_control, cache_page


@login_required
@cache_page(60 * 15)
@cache_control(private=True, max_age=300)  # only the user's own browser may keep it
def order_history(request):
    return render(request, "shop/orders.html", {"orders": request.user.orders.all()})


@cache_page(60 * 15)
def catalogue(request):
    return render(request, "shop/catalogue.html")
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for view in project.views:
            auth = view.wrappers(AUTH)
            if not auth:
                continue
            auth_index = view.layers(AUTH)[0]
            for index in view.layers(CACHE_PAGE):
                if view.per_user_variation(index) is not None:
                    continue
                cache = view.stack[index]
                if auth_index < index:
                    consequence = "the first user's response is stored and served to every later user"
                else:
                    consequence = (
                        "the stored response is served before the login check, even to anonymous visitors"
                    )
                guard = auth[0]
                yield self.finding(
                    cache.location,
                    f"`cache_page` on a login-protected view: {consequence}",
                    hint="do not cache this view, or cache only its public fragments with `{% cache %}`; "
                    "if each user's copy must be cached, vary it per user (`@vary_on_cookie` below "
                    "`cache_page`) or let only their browser keep it (`@cache_control(private=True)` "
                    "below `cache_page`)",
                    related=[Evidence(guard.location, guard.label), *guard.via, *cache.via],
                )
