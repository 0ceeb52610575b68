from __future__ import annotations

from collections.abc import Iterator

from cachelint.finding import Evidence, Finding, Severity
from cachelint.project import CACHE_PAGE, ProjectModel
from cachelint.registry import Rule, register


@register
class CachePageOnUnsafeView(Rule):
    code = "CL109"
    slug = "cache-page-on-unsafe-view"
    severity = Severity.WARNING
    default_enabled = False
    summary = "`cache_page` on a view that only accepts POST/PUT/DELETE does nothing"
    tags = ("correctness",)
    what_it_does = """
Flags `cache_page` on a view restricted to unsafe methods: `require_POST`,
`require_http_methods([...])` without GET, or a class whose `http_method_names` has no `get`.
"""
    why_is_this_bad = """
Django's cache middleware only stores and serves GET and HEAD responses, so the decorator never
caches anything. It is harmless, but it shows a misunderstanding (perhaps the author meant to
cache something else) and misleads readers.
"""
    bad_example = {
        "forms/views.py": """from django.http import HttpResponse
from django.views.decorators.cache import cache_page
from django.views.decorators.http import require_POST


@cache_page(60)  # expect: CL109
@require_POST
def subscribe(request):
    return HttpResponse("ok")
""",
    }
    good_example = {
        "forms/views.py": """from django.http import HttpResponse
from django.views.decorators.http import require_POST


@require_POST
def subscribe(request):
    return HttpResponse("ok")
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for view in project.views:
            allowed = view.allowed_methods()
            if allowed is None or {"GET", "HEAD"} & set(allowed[0]):
                continue
            for cache in view.wrappers(CACHE_PAGE):
                yield self.finding(
                    cache.location,
                    f"`cache_page` on a view that only accepts {', '.join(allowed[0]) or 'no method'}: "
                    "Django only caches GET and HEAD responses, so nothing is ever cached",
                    hint="remove `cache_page`",
                    related=[Evidence(allowed[1], "methods restricted here")],
                )
