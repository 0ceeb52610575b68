from __future__ import annotations

from collections.abc import Iterator

from cachelint.finding import Evidence, Finding, Severity
from cachelint.project import CACHE_PAGE, CONDITIONAL, ProjectModel
from cachelint.registry import Rule, register


@register
class ConditionalDecoratorOutsideCache(Rule):
    code = "CL402"
    slug = "conditional-decorator-outside-cache"
    severity = Severity.WARNING
    default_enabled = False
    summary = "`etag`/`last_modified`/`condition` inside `cache_page`: cached hits skip it, 304s get cached"
    tags = ("correctness", "performance")
    what_it_does = """
Flags `etag`, `last_modified` or `condition` applied inside `cache_page` (below it, or on a
handler while `cache_page` wraps `dispatch`).
"""
    why_is_this_bad = """
On a cache hit, `cache_page` returns the stored response before the conditional decorator runs,
so clients never get a 304 for it. On a miss, the decorator may answer 304, and Django's cache
stores 304 responses too: other visitors, who have no copy, then receive an empty 304. Put the
conditional decorator outside (above) `cache_page`.
"""
    bad_example = {
        "blog/views.py": """from django.shortcuts import render
from django.views.decorators.cache import cache_page
from django.views.decorators.http import last_modified


def latest_post(request):
    return None


@cache_page(300)
@last_modified(latest_post)  # expect: CL402
def post_list(request):
    return render(request, "blog/list.html")
""",
    }
    good_example = {
        "blog/views.py": """from django.shortcuts import render
from django.views.decorators.cache import cache_page
from django.views.decorators.http import last_modified


def latest_post(request):
    return None


@last_modified(latest_post)
@cache_page(300)
def post_list(request):
    return render(request, "blog/list.html")
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for view in project.views:
            caches = view.layers(CACHE_PAGE)
            if not caches:
                continue
            for index in view.layers(CONDITIONAL):
                if index > caches[0]:
                    wrapper = view.stack[index]
                    yield self.finding(
                        wrapper.location,
                        f"`{wrapper.call.text if wrapper.call else 'condition'}` is applied inside "
                        "`cache_page`: cached responses skip it (no 304s), and a 304 it returns can "
                        "be cached and served to visitors who have no copy",
                        hint="move the conditional decorator above `cache_page`",
                        related=[Evidence(view.stack[caches[0]].location, "`cache_page` here")],
                    )
