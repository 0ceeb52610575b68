from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cachelint.finding import Evidence, Finding, Severity
from cachelint.project import CACHE_PAGE, NEVER_CACHE, ProjectModel
from cachelint.registry import Rule, register


@register
class ConflictingCacheControl(Rule):
    code = "CL404"
    slug = "conflicting-cache-control"
    severity = Severity.ERROR
    summary = "Cache-Control directives that contradict each other"
    tags = ("correctness",)
    what_it_does = """
Flags one Cache-Control setting that says two opposite things: `public` with `private`,
`no_store` with `public` or a positive `max_age`; and `never_cache` together with `cache_page`
on one view.
"""
    why_is_this_bad = """
Caches resolve contradictions differently (most take the most restrictive directive, some the
first), so the response is cached in some places and not others, and what the author wanted is
anyone's guess. `never_cache` with `cache_page` caches on the server while telling browsers not
to, or the reverse, depending on the order.
"""
    bad_example = {
        "pages/views.py": """from django.shortcuts import render
from django.views.decorators.cache import cache_control


@cache_control(public=True, private=True)  # expect: CL404
def landing(request):
    return render(request, "pages/landing.html")
""",
    }
    good_example = {
        "pages/views.py": """from django.shortcuts import render
from django.views.decorators.cache import cache_control


@cache_control(private=True, max_age=60)
def landing(request):
    return render(request, "pages/landing.html")
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for directives, location in project.cache_control_settings:
            conflict = _conflict(directives)
            if conflict:
                yield self.finding(
                    location,
                    f"Cache-Control {conflict}: caches will disagree about whether to store it",
                    hint="keep the directive you mean and drop the other",
                )
        for view in project.views:
            never, cached = view.wrappers(NEVER_CACHE), view.wrappers(CACHE_PAGE)
            if never and cached:
                yield self.finding(
                    never[0].location,
                    "`never_cache` and `cache_page` on the same view: it is cached on the server "
                    "and marked uncacheable at once",
                    hint="remove one of them",
                    related=[Evidence(cached[0].location, "`cache_page` here")],
                )


def _positive(value: Any) -> bool:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _conflict(directives: dict[str, Any]) -> str | None:
    if directives.get("public") is True and directives.get("private") not in (None, False):
        return "says both `public` and `private`"
    if directives.get("no_store") is True:
        if directives.get("public") is True:
            return "says both `no-store` and `public`"
        if _positive(directives.get("max_age")):
            return f"says both `no-store` and `max-age={directives['max_age']}`"
    return None
