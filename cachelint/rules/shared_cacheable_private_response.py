from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cachelint.finding import Evidence, Finding, Severity
from cachelint.project import AUTH, ProjectModel
from cachelint.registry import Rule, register


@register
class SharedCacheablePrivateResponse(Rule):
    code = "CL105"
    slug = "shared-cacheable-private-response"
    severity = Severity.ERROR
    summary = "Login-protected or personalized response marked cacheable by shared caches"
    tags = ("security", "privacy")
    security_severity = 7.5
    cwe = (524, 525,)
    what_it_does = """
Flags `cache_control(public=True)`, `cache_control(s_maxage=...)`, `cache_control(max_age=N)`
with N > 0 and without `private=True`, the same through `patch_cache_control(...)`, and a
literal `Cache-Control` header with `public`, `s-maxage` or a positive `max-age` without
`private`, on a view that requires login or whose output is personalized (see CL102).
`private` or `no-store` anywhere on the response silences it.
"""
    why_is_this_bad = """
`public` (and, for shared caches, any `max-age` without `private`) lets a CDN or a caching proxy
store the response and serve it to other people. For a page with someone's account data, that
is a data leak that no Django setting can undo once the CDN has the copy.
"""
    bad_example = {
        "billing/views.py": """from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import cache_control


@login_required
@cache_control(max_age=600)  # expect: CL105
def invoices(request):
    return render(request, "billing/invoices.html")
""",
    }
    good_example = {
        "billing/views.py": """from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import cache_control


@login_required
@cache_control(private=True, max_age=600)
def invoices(request):
    return render(request, "billing/invoices.html")


@cache_control(public=True, max_age=3600)
def pricing(request):
    return render(request, "billing/pricing.html")
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for view in project.views:
            directives = view.cache_control()
            if not directives or any(_private(d) for d, _ in directives):
                continue
            shared = [(d, loc) for d, loc in directives if _shared(d)]
            if not shared:
                continue
            auth = view.wrappers(AUTH)
            if auth:
                reason, evidence = (
                    "a login-protected view",
                    [Evidence(auth[0].location, auth[0].label), *auth[0].via],
                )
            else:
                evidence = project.personal_evidence(view)
                if not evidence:
                    continue
                reason = "a view whose output depends on the visitor"
            for found, location in shared:
                yield self.finding(
                    location,
                    f"`Cache-Control: {_describe(found)}` on {reason}: shared caches and CDNs may "
                    "store one visitor's response and serve it to others",
                    hint="send `Cache-Control: private` (`cache_control(private=True, ...)`) or no-store",
                    related=evidence,
                )


def _private(directives: dict[str, Any]) -> bool:
    return bool(directives.get("private") is True or directives.get("no_store") is True)


def _positive(value: Any) -> bool:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _shared(directives: dict[str, Any]) -> bool:
    return (
        directives.get("public") is True
        or _positive(directives.get("s_maxage"))
        or _positive(directives.get("max_age"))
    )


def _describe(directives: dict[str, Any]) -> str:
    parts = []
    for key, value in directives.items():
        name = key.replace("_", "-")
        parts.append(name if value is True else f"{name}={value}")
    return ", ".join(parts)
