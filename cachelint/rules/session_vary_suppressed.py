from __future__ import annotations

from collections.abc import Iterator

from cachelint.facts.python import PythonFacts
from cachelint.facts.values import LocList
from cachelint.facts.views import FunctionFacts
from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register

SESSION_MIDDLEWARE = "django.contrib.sessions.middleware.SessionMiddleware"
# Methods through which a middleware class sees the response.
RESPONSE_HOOKS = frozenset({"__call__", "process_response"})


@register
class SessionVarySuppressed(Rule):
    code = "CL110"
    slug = "session-vary-suppressed"
    severity = Severity.ERROR
    summary = "Code hides `Vary: Cookie`, so caches share pages that depend on the session"
    tags = ("security", "privacy")
    security_severity = 7.5
    cwe = (524,)
    what_it_does = """
Flags assignments to `request.session.accessed` (which stop `SessionMiddleware` from adding
`Vary: Cookie`), `del response["Vary"]`, and a literal `response["Vary"] = ...` without `Cookie`
in a function that has read `request.user` or `request.session` before it.

In a middleware class (its `__call__` or `process_response`), the `Vary` header is only flagged
when the class is listed in `MIDDLEWARE` before `SessionMiddleware`: its response phase then runs
after `SessionMiddleware` added `Vary: Cookie`. Listed after it, `SessionMiddleware` adds the
header again later; not listed at all, the class does not run.
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
        outside = _outside_session_middleware(project)
        for facts, function, owner in _functions(project):
            for span in function.session_accessed_writes:
                yield self.finding(
                    Location(facts.path, span),
                    "assigning `request.session.accessed` hides the session read from "
                    "`SessionMiddleware`, so `Vary: Cookie` is not sent and caches share the page",
                    hint="do not touch `session.accessed`; if the page must be cached, stop "
                    "reading the session in it",
                )
            listed: list[Evidence] = []
            if owner is not None and function.name in RESPONSE_HOOKS:
                where = outside.get(f"{facts.module}.{owner}")
                if where is None:
                    continue  # not run, or run inside SessionMiddleware, which re-adds Vary: Cookie
                listed.append(Evidence(where, "listed in MIDDLEWARE before `SessionMiddleware` here"))
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
                        related=listed,
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
                            Evidence(
                                Location(facts.path, earlier[0].span), f"reads `{earlier[0].what}` here"
                            ),
                            *listed,
                        ],
                    )


def _functions(project: ProjectModel) -> Iterator[tuple[PythonFacts, FunctionFacts, str | None]]:
    """Every module-level function and method, with the name of the method's class."""
    for facts in project.python.values():
        yield from ((facts, f, None) for f in facts.views.functions)
        yield from ((facts, m, cls.name) for cls in facts.views.classes for m in cls.methods)


def _outside_session_middleware(project: ProjectModel) -> dict[str, Location]:
    """Middleware listed before ``SessionMiddleware`` in some ``MIDDLEWARE``, and where."""
    found: dict[str, Location] = {}
    for module in project.settings_modules:
        middleware = module.middleware()
        if not isinstance(middleware, list | tuple) or SESSION_MIDDLEWARE not in middleware:
            continue
        fallback = module.location_of(module.middleware_setting) or Location(module.path)
        for index, name in enumerate(middleware[: middleware.index(SESSION_MIDDLEWARE)]):
            if isinstance(name, str):
                located = middleware.location(index) if isinstance(middleware, LocList) else None
                found.setdefault(name, located or fallback)
    return found
