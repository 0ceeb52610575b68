from __future__ import annotations

from collections.abc import Iterator

from cachelint import django_api as api
from cachelint.finding import Evidence, Finding, Severity
from cachelint.project import AUTH, NEVER_CACHE, ProjectModel
from cachelint.registry import Rule, register


@register
class PrivateResponseWithoutCacheControl(Rule):
    code = "CL106"
    slug = "private-response-without-cache-control"
    severity = Severity.WARNING
    default_enabled = False
    file_tokens = api.AUTH_TOKENS  # every protected view, cached or not
    summary = "Login-protected HTML view without `Cache-Control: private` or `no-store`"
    tags = ("security", "privacy")
    security_severity = 4.3
    cwe = (525,)
    what_it_does = """
Flags a login-protected view that renders a template but never says `private`, `no-store` or
`never_cache` (decorator or header), when no project middleware sets such a header either.
Views that only answer POST (`require_POST`, `http_method_names = ["post"]`, a class-based view
with no GET handler) are left alone: no cache stores those responses.
Opt-in: useful behind a CDN or a shared proxy, noisy elsewhere.
"""
    why_is_this_bad = """
Without an explicit `Cache-Control`, shared caches fall back to heuristics and some CDNs can be
configured to cache HTML by default. An account page then depends on infrastructure settings
nobody reviews with the code. `private` (or `no-store` for sensitive pages) makes it explicit.
"""
    bad_example = {
        "account/views.py": """from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def settings_page(request):  # expect: CL106
    return render(request, "account/settings.html")
""",
    }
    good_example = {
        "account/views.py": """from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import never_cache


@never_cache
@login_required
def settings_page(request):
    return render(request, "account/settings.html")
""",
    }

    def wanted_modules(self, project: ProjectModel) -> set[str]:
        # Views protected by a project decorator or mixin mention no auth token themselves.
        return project.modules_importing(project.protecting_names())

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        if _middleware_marks_private(project):
            return
        for view in project.views:
            auth = view.wrappers(AUTH)
            if not auth or not view.templates or view.wrappers(NEVER_CACHE):
                continue
            if not view.serves_safe_methods():
                continue  # a POST-only view: no cache keeps its responses by heuristics
            if any(d.get("private") or d.get("no_store") for d, _ in view.cache_control()):
                continue
            yield self.finding(
                view.location,
                "login-protected page without `Cache-Control: private` or `no-store`: shared "
                "caches may apply their own heuristics to it",
                hint="add `@cache_control(private=True)` or `@never_cache`",
                related=[Evidence(auth[0].location, auth[0].label)],
            )


def _middleware_marks_private(project: ProjectModel) -> bool:
    """A project middleware (a ``process_response``/``__call__``) that writes Cache-Control private."""
    for _, function in project.functions():
        if function.name in ("process_response", "__call__"):
            for write in function.header_writes:
                if write.header == "cache-control" and isinstance(write.value, dict):
                    if write.value.get("private") or write.value.get("no_store"):
                        return True
    return False
