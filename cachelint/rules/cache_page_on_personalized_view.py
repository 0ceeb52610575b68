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
same per-user exceptions as CL101 apply; on a public view, though, `vary_on_cookie` keeps one
entry per cookie, which CL104 reports. A page whose only personal part is the CSRF token is
reported by CL108 instead.

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
                    hint="do not cache this view, or cache only its public fragments with `{% cache %}` "
                    "and render the personal parts uncached; if each visitor's copy must be cached, "
                    "let only their browser keep it (`@cache_control(private=True)` below `cache_page`)",
                    related=[*view.stack[index].via, *evidence],
                )
