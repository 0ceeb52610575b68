from __future__ import annotations

from collections.abc import Iterator

from cachelint.finding import Finding, Severity
from cachelint.project import AUTH, CACHE_PAGE, PERSONAL_KINDS, ProjectModel
from cachelint.registry import Rule, register


@register
class CachePageOnPersonalizedView(Rule):
    code = "CL102"
    slug = "cache-page-on-personalized-view"
    severity = Severity.ERROR
    summary = "`cache_page` on a public view whose output depends on the visitor"
    tags = ("security", "privacy")
    security_severity = 7.5
    what_it_does = """
Flags `cache_page` on a view that does not require login but whose output is personalized:
its code reads `request.user`, `request.session`, the messages or the CSRF token, or a template
it renders (through `{% extends %}` and `{% include %}`) prints `user`, `request.user`,
`request.session`, `perms` or `messages`. Templates that cannot be found are not guessed. The
same per-user exceptions as CL101 apply. A page whose only personal part is the CSRF token is
reported by CL108 instead.

Class-based views are read along their MRO: a `cache_page` that a base class or mixin applies
to `dispatch` or `get` caches every subclass (reported at the subclass), and the methods and
`template_name` that count are the ones Python resolves. What only an unsafe method reaches is
not part of a cached page, since `cache_page` stores GET and HEAD responses only: `post`,
`put`, `patch`, `delete`, `form_valid`/`form_invalid`, DRF's `perform_create`/`create`/...,
an `if request.method == "POST":` branch, and views under `require_POST` or
`require_http_methods` without GET.
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

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for view in project.views:
            caches = view.layers(CACHE_PAGE)
            if not caches or view.wrappers(AUTH):
                continue
            evidence = None
            for index in caches:
                if view.per_user_variation(index) is not None:
                    continue
                if evidence is None:
                    # A CSRF token alone is CL108's finding, with its own fix.
                    evidence = project.personal_evidence(view, PERSONAL_KINDS - {"csrf_token"})
                if not evidence:
                    break
                yield self.finding(
                    view.stack[index].location,
                    "`cache_page` on a view whose output depends on the visitor: the response is "
                    "cached under its URL alone and served to everyone",
                    hint="move the personal parts out of the cached page (or cache fragments), or "
                    "vary the cache per user with `@vary_on_cookie` below `cache_page`",
                    related=[*view.stack[index].via, *evidence],
                )
