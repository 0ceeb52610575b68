from __future__ import annotations

from collections.abc import Iterator

from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register


@register
class SessionVarySuppressed(Rule):
    code = "CL110"
    slug = "session-vary-suppressed"
    severity = Severity.ERROR
    summary = "Code hides `Vary: Cookie`, so caches share pages that depend on the session"
    tags = ("security", "privacy")
    security_severity = 7.5
    what_it_does = """
Flags assignments to `request.session.accessed` (which stop `SessionMiddleware` from adding
`Vary: Cookie`), `del response["Vary"]`, and a literal `response["Vary"] = ...` without `Cookie`
in a function that has read `request.user` or `request.session` before it.
"""
    why_is_this_bad = """
`SessionMiddleware` adds `Vary: Cookie` whenever the session was read, which is what tells every
cache (Django's, a proxy's, a CDN's) that the page differs per visitor. Hiding it to "improve
the hit rate" makes personalized pages shareable: the next visitor gets someone else's page.
"""
    bad_example = {
        "core/views.py": """from django.shortcuts import render


def home(request):
    greeting = request.user.get_short_name()
    request.session.accessed = False  # expect: CL110
    return render(request, "core/home.html", {"greeting": greeting})
""",
    }
    good_example = {
        "core/views.py": """from django.shortcuts import render


def home(request):
    response = render(request, "core/home.html")
    response["Vary"] = "Accept-Language"
    return response
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for facts, function in project.functions():
            for span in function.session_accessed_writes:
                yield self.finding(
                    Location(facts.path, span),
                    "assigning `request.session.accessed` hides the session read from "
                    "`SessionMiddleware`, so `Vary: Cookie` is not sent and caches share the page",
                    hint="do not touch `session.accessed`; if the page must be cached, stop "
                    "reading the session in it",
                )
            for write in function.header_writes:
                if write.header != "vary" or write.how not in ("delete", "setitem"):
                    continue
                location = Location(facts.path, write.span)
                if write.how == "delete":
                    yield self.finding(
                        location,
                        "deleting the `Vary` header drops `Vary: Cookie`, so caches share pages "
                        "that depend on the session",
                        hint="leave Vary alone, or patch it with `patch_vary_headers`",
                    )
                    continue
                if not isinstance(write.value, tuple) or "cookie" in write.value or "*" in write.value:
                    continue
                earlier = [a for a in function.accesses if a.span < write.span]
                if earlier:
                    yield self.finding(
                        location,
                        "overwriting `Vary` after reading the session or user drops `Vary: Cookie`: "
                        "caches will share this per-visitor response",
                        hint="use `patch_vary_headers(response, [...])`, which keeps existing values",
                        related=[
                            Evidence(Location(facts.path, earlier[0].span), f"reads `{earlier[0].what}` here")
                        ],
                    )
