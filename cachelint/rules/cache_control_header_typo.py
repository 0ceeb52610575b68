from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from cachelint import django_api as api
from cachelint.facts.values import UNKNOWN
from cachelint.finding import Finding, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register


@register
class CacheControlHeaderTypo(Rule):
    code = "CL403"
    slug = "cache-control-header-typo"
    severity = Severity.ERROR
    summary = "Unknown or malformed Cache-Control directive"
    tags = ("correctness",)
    what_it_does = """
Flags `cache_control(...)` / `patch_cache_control(...)` keyword arguments and literal
`Cache-Control` header values with a directive that does not exist (`maxage`, `max_ages`,
`no_chache`), a flag directive (`public`, `no_store`, `must_revalidate`, `immutable`, ...) given
a string, or a seconds directive (`max_age`, `s_maxage`, ...) given a boolean or a non-number.
"""
    why_is_this_bad = """
Django writes whatever it is given into the header: `cache_control(maxage=3600)` sends
`maxage=3600`, which every cache ignores, so the response is cached by heuristics or not at all.
The typo never raises; it only shows up as a slow site or a stale page.
"""
    bad_example = {
        "pages/views.py": """from django.shortcuts import render
from django.views.decorators.cache import cache_control


@cache_control(public=True, maxage=3600)  # expect: CL403
def landing(request):
    return render(request, "pages/landing.html")
""",
    }
    good_example = {
        "pages/views.py": """from django.shortcuts import render
from django.views.decorators.cache import cache_control


@cache_control(public=True, max_age=3600)
def landing(request):
    return render(request, "pages/landing.html")
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for directives, location in project.cache_control_settings:
            problem = _problem(directives)
            if problem is not None:
                yield self.finding(location, problem[0], hint=problem[1])


def _problem(directives: dict[str, Any]) -> tuple[str, str] | None:
    for name, value in directives.items():
        header = name.replace("_", "-")
        if name not in api.CACHE_CONTROL_DIRECTIVES:
            close = difflib.get_close_matches(name, sorted(api.CACHE_CONTROL_DIRECTIVES), n=1)
            hint = f"did you mean `{close[0]}`?" if close else "see RFC 9111 for the directives"
            return f"unknown Cache-Control directive `{header}`: caches ignore it", hint
        if value is UNKNOWN:
            continue
        if name in api.CACHE_CONTROL_FLAGS and not isinstance(value, bool):
            return (
                f"`{header}` is a flag but was given {value!r}: the header becomes `{header}={value}`",
                f"pass `{name}=True`",
            )
        if name in api.CACHE_CONTROL_SECONDS and not _is_seconds(value):
            return f"`{header}` takes a number of seconds, not {value!r}", f"pass e.g. `{name}=3600`"
    return None


def _is_seconds(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.isdigit()
