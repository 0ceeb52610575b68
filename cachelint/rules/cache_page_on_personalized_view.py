from __future__ import annotations

from collections.abc import Iterator

from cachelint.finding import Finding, Severity
from cachelint.project import AUTH, CACHE_PAGE, DRF_DISPATCH, PERSONAL_KINDS, ProjectModel, View
from cachelint.registry import Rule, register


@register
class CachePageOnPersonalizedView(Rule):
    code = "CL102"
    slug = "cache-page-on-personalized-view"
    severity = Severity.ERROR
    summary = "`cache_page` on a public view whose output depends on the visitor"
    tags = ("security", "privacy")
    security_severity = 7.5
    cwe = (524,)
    what_it_does = """
Flags `cache_page` on a view that does not require login but whose output is personalized:
its code reads `request.user`, `request.session`, the messages or the CSRF token, or a template
it renders (through `{% extends %}` and `{% include %}`) prints `user`, `request.user`,
`request.session`, `perms` or `messages`. Templates that cannot be found are not guessed. The
same per-user exceptions as CL101 apply; on a public view, though, `vary_on_cookie` keeps one
entry per cookie, which CL104 reports. A page whose only personal part is the CSRF token is
reported by CL108 instead.

Class-based views are read along their MRO: a `cache_page` that a base class or mixin applies
to `dispatch` or `get` caches every subclass (reported at the subclass), and the methods and
`template_name` that count are the ones Python resolves. What only an unsafe method reaches is
not part of a cached page, since `cache_page` stores GET and HEAD responses only: `post`,
`put`, `patch`, `delete`, `form_valid`/`form_invalid`, DRF's `perform_create`/`create`/...,
an `if request.method == "POST":` branch, and views under `require_POST` or
`require_http_methods` without GET.

A Django REST framework view (`@api_view` or an `APIView`/viewset subclass) is personal too when
its renderers include `BrowsableAPIRenderer` and its authentication includes
`SessionAuthentication` (or a project subclass of either): the HTML page DRF renders for a
browser prints the logged-in user and a CSRF token. Both are DRF's defaults, so what counts is
the view's `renderer_classes`/`authentication_classes` (inherited ones too, or the
`@renderer_classes`/`@authentication_classes` decorators), else `REST_FRAMEWORK` in the settings
that run in production (every settings module that may run when none says production), else
DRF's default. A view with JSON-only renderers or with token/JWT authentication only is not
personal this way, and a value cachelint cannot evaluate is not guessed.

The fix, in order of preference: do not cache the view, or cache only its public fragments with
`{% cache %}`; if each visitor's copy must be cached, let only their browser keep it with
`cache_control(private=True)` below `cache_page` (`cache_page` does not store private responses).
"""
    why_is_this_bad = """
View-level `cache_page` stores the response inside the middleware stack, before
`SessionMiddleware` adds `Vary: Cookie`, so the entry is keyed on the URL alone. The first
visitor's "Hello, alice" (or their cart, or their flash message) is served to everyone.
"""
    bad_example = {
        "blog/views.py": """from django.shortcuts import render
from django.views.decorators.cache import cache_page


@cache_page(300)  # expect: CL102
def home(request):
    return render(request, "blog/home.html")
""",
        "blog/templates/blog/home.html": """<header>Hello, {{ user.username }}</header>
<main>Latest posts</main>
""",
    }
    good_example = {
        "blog/views.py": """from django.shortcuts import render
from django.views.decorators.cache import cache_page


@cache_page(300)
def home(request):
    return render(request, "blog/home.html")
""",
        "blog/templates/blog/home.html": """<header><a href="/account/">Your account</a></header>
<main>Latest posts</main>
""",
    }

    def wanted_modules(self, project: ProjectModel) -> set[str]:
        return project.drf_class_modules()  # a project subclass of SessionAuthentication, say

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for view in project.views:
            caches = view.layers(CACHE_PAGE)
            if not caches or view.wrappers(AUTH):
                continue
            evidence, browsable = None, []
            for index in caches:
                if view.per_user_variation(index) is not None:
                    continue
                if evidence is None:
                    # A CSRF token alone is CL108's finding, with its own fix.
                    evidence = project.personal_evidence(view, PERSONAL_KINDS - {"csrf_token"})
                    browsable = [] if evidence else project.browsable_api_evidence(view)
                if browsable:
                    yield self.finding(
                        view.stack[index].location,
                        "`cache_page` on a DRF view with the browsable API and session login: the "
                        "HTML page DRF renders for a browser shows the visitor's name and CSRF token, "
                        "and the cache serves it to every visitor",
                        hint=f"use JSON-only renderers on this view ({_json_only(view)}), or do not cache it",
                        related=[*view.stack[index].via, *browsable],
                    )
                    continue
                if not evidence:
                    break
                yield self.finding(
                    view.stack[index].location,
                    "`cache_page` on a view whose output depends on the visitor: the response is "
                    "cached under its URL alone and served to everyone",
                    hint="do not cache this view, or cache only its public fragments with `{% cache %}` "
                    "and render the personal parts uncached; if each visitor's copy must be cached, "
                    "let only their browser keep it (`@cache_control(private=True)` below `cache_page`)",
                    related=[*view.stack[index].via, *evidence],
                )


def _json_only(view: View) -> str:
    """How a DRF view says it renders JSON only: a decorator for ``@api_view``, else an attribute."""
    if any(w.call is not None for w in view.wrappers(DRF_DISPATCH)):
        return "`@renderer_classes([JSONRenderer])` below `@api_view`"
    return "`renderer_classes = [JSONRenderer]`"
