from __future__ import annotations

from collections.abc import Iterator

from cachelint.finding import Finding, Severity
from cachelint.project import CACHE_PAGE, CSRF_PROTECT, ProjectModel
from cachelint.registry import Rule, register


@register
class CsrfTokenInCachedView(Rule):
    code = "CL108"
    slug = "csrf-token-in-cached-view"
    severity = Severity.ERROR
    summary = "`cache_page` freezes one visitor's CSRF token into the cached page"
    tags = ("correctness", "security")
    security_severity = 5.3
    cwe = (352,)
    what_it_does = """
Flags `cache_page` on a view whose rendered templates use `{% csrf_token %}` (directly or
through `{% extends %}`/`{% include %}`) or whose code calls `get_token`, unless `csrf_protect`
is applied inside `cache_page` (below it) or the cache varies per visitor (see CL101).
"""
    why_is_this_bad = """
With a per-view cache, `CsrfViewMiddleware` has not yet set the CSRF cookie or `Vary: Cookie`
when `cache_page` stores the response, so the first visitor's token is baked into the page and
served to everybody. Every other visitor's form POST then fails with "CSRF verification
failed", and the token is shared. Django's CSRF docs prescribe `csrf_protect` inside.
"""
    bad_example = {
        "contact/views.py": """from django.shortcuts import render
from django.views.decorators.cache import cache_page


@cache_page(60 * 60)  # expect: CL108
def contact(request):
    return render(request, "contact/form.html")
""",
        "contact/templates/contact/form.html": """<form method="post">{% csrf_token %}
  <input name="email"><button>Send</button>
</form>
""",
    }
    good_example = {
        "contact/views.py": """from django.shortcuts import render
from django.views.decorators.cache import cache_page
from django.views.decorators.csrf import csrf_protect


@cache_page(60 * 60)
@csrf_protect
def contact(request):
    return render(request, "contact/form.html")
""",
        "contact/templates/contact/form.html": """<form method="post">{% csrf_token %}
  <input name="email"><button>Send</button>
</form>
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for view in project.views:
            for index in view.layers(CACHE_PAGE):
                if any(i > index for i in view.layers(CSRF_PROTECT)):
                    continue
                if view.per_user_variation(index) is not None:
                    continue
                evidence = project.personal_evidence(view, frozenset({"csrf_token"}))
                if not evidence:
                    continue
                yield self.finding(
                    view.stack[index].location,
                    "`cache_page` on a view that renders a CSRF token: the first visitor's token "
                    "is cached and served to everyone, so other visitors' form posts fail",
                    hint="apply `@csrf_protect` below `cache_page`, or do not cache pages with forms",
                    related=[*view.stack[index].via, *evidence],
                )
