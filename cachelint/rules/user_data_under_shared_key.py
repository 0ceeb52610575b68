from __future__ import annotations

import re
from collections.abc import Iterator

from cachelint.cache_calls import (
    OPAQUE_PARTS,
    STORE_METHODS,
    app_calls,
    dotted_names,
    has_string_literal,
    mask_strings,
    receiver,
    request_path,
)
from cachelint.facts.labels import IDENTIFYING, VISITOR_LABELS
from cachelint.facts.views import CacheCall, FunctionFacts
from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.project.flow import describe
from cachelint.registry import Rule, register

# Name parts that make a key per user: ``user.pk``, ``user_id``, ``uid``, ``session_key``.
IDENTIFYING_PARTS = frozenset({"user", "pk", "id", "username", "uid", "uuid", "email", "userid"})
# Request attributes that carry no identity of the visitor.
ANONYMOUS_REQUEST_ATTRIBUTES = frozenset(
    {
        "GET",
        "POST",
        "path",
        "path_info",
        "get_full_path",
        "get_full_path_info",
        "build_absolute_uri",
        "get_host",
        "method",
        "scheme",
        "LANGUAGE_CODE",
        "resolver_match",
    }
)
# Reading only these of the user records who did something (a lock owner, the last editor),
# it does not put the user's data in front of others.
IDENTITY_ATTRIBUTES = frozenset({"pk", "id", "username", "get_username", "session_key", "uuid"})
_CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*$")


def key_is_shared(call: CacheCall) -> bool:
    """True when the key visibly does not identify the visitor: a literal, or a string built
    only from constants, the URL or query and values not named like an id. A key built
    elsewhere (a variable, ``make_key(request)``) is not judged."""
    if isinstance(call.key, str):
        return True
    if call.key_text is None:
        return False
    masked = mask_strings(call.key_text)
    chains = [c.split(".") for c in dotted_names(masked)]
    if not has_string_literal(masked) and not all(_CONSTANT.match(c[-1]) for c in chains):
        return False  # ``key``, ``self.cache_key``, ``build_key(request)``: not visible here
    for segments in chains:
        if _CONSTANT.match(segments[-1]):
            continue
        attributes = request_path(segments)
        if attributes is not None:
            if not attributes or attributes[0] not in ANONYMOUS_REQUEST_ATTRIBUTES:
                return False  # ``request.user.pk``, ``request.COOKIES[...]``, ``helper(request)``
            continue
        for segment in segments:
            parts = set(segment.lower().split("_"))
            if parts & (IDENTIFYING_PARTS | OPAQUE_PARTS) or segment == "session_key":
                return False
    return True


def user_dependency(call: CacheCall, function: FunctionFacts) -> tuple[str, str] | None:
    """How the stored value depends on the visitor: (the expression, "request.user" or
    "request.session"), or None."""
    if call.value_text is None:
        return None
    reads_user = any(a.what == "request.user" for a in function.accesses)
    for chain in dotted_names(mask_strings(call.value_text)):
        segments = chain.split(".")
        attributes = request_path(segments)
        if attributes and attributes[0] in ("user", "session"):
            if attributes[1:2] and attributes[1] in IDENTITY_ATTRIBUTES:
                continue
            return ".".join(segments[: len(segments) - len(attributes) + 2]), f"request.{attributes[0]}"
        if segments[0] == "user" and ("user" in function.params or reads_user):
            if segments[1:2] and segments[1] in IDENTITY_ATTRIBUTES:
                continue
            return ".".join(segments[:2]), "request.user"
    return None


@register
class UserDataUnderSharedKey(Rule):
    code = "CL603"
    slug = "user-data-under-shared-key"
    severity = Severity.ERROR
    summary = "Data that depends on the visitor is cached under a key shared by every visitor"
    tags = ("security", "privacy")
    security_severity = 7.5
    cwe = (524,)
    what_it_does = """
Flags `cache.set`, `cache.add` and `cache.get_or_set` (on `django.core.cache.cache` or
`caches["alias"]`) whose value is computed from the visitor (`request.user.*`,
`request.session.*`, or a `user` argument of the function) while the key visibly does not
identify the visitor: a literal such as `"dashboard_stats"`, or a string built only from
constants and values not named like an id (`user`, `pk`, `id`, `username`, `uid`,
`session_key`). Values are followed as Python runs them: through locals (the cache-aside idiom
`data = cache.get(k)` / `if data is None: data = {...request.user...}` / `cache.set(k, data)`),
`if`/`else` branches, `ctx["orders"] = ...`, and the project's own helpers
(`build_summary(request.user)`), with the evidence chain. A key held in a local that is only
ever assigned a literal counts as literal. A key built where it cannot be seen
(`self.get_cache_key()`, `make_key(request)`) is not judged, nor is a value that only records
who the visitor is (`request.user.pk`, a helper returning `user.pk`).
"""
    why_is_this_bad = """
The cache is shared by every visitor and every worker. The first visitor computes the value and
stores it under a key that does not say whose data it is; every later visitor reads it back and
sees the first visitor's orders, cart or profile until the entry expires. This is the
low-level-API version of caching a personal page for everyone.
"""
    bad_example = {
        "shop/views.py": """from django.core.cache import cache
from django.shortcuts import render


def dashboard(request):
    stats = cache.get_or_set(  # expect: CL603
        "dashboard:stats:v1",
        lambda: {"orders": request.user.orders.count()},
        300,
    )
    return render(request, "shop/dashboard.html", {"stats": stats})


def orders_panel(request):
    panel = cache.get("dashboard:orders:v1")
    if panel is None:
        panel = {"recent": list(request.user.orders.all()[:5])}
        cache.set("dashboard:orders:v1", panel, 300)  # expect: CL603
    return render(request, "shop/panel.html", {"panel": panel})
""",
    }
    good_example = {
        "shop/views.py": """from django.core.cache import cache
from django.shortcuts import render


def dashboard(request):
    stats = cache.get_or_set(
        f"dashboard:stats:v1:{request.user.pk}",
        lambda: {"orders": request.user.orders.count()},
        300,
    )
    return render(request, "shop/dashboard.html", {"stats": stats})


def orders_panel(request):
    key = f"dashboard:orders:v1:{request.user.pk}"
    panel = cache.get(key)
    if panel is None:
        panel = {"recent": list(request.user.orders.all()[:5])}
        cache.set(key, panel, 300)
    return render(request, "shop/panel.html", {"panel": panel})
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for facts, function in project.functions():
            if project.is_test_code(facts):
                continue
            owner = project.owner_of(facts, function)
            for call in app_calls(function):
                if call.method not in STORE_METHODS:
                    continue
                if not (key_is_shared(call) or _literal_local_key(call, function)):
                    continue
                if project.sources(facts, function, call.key_labels, owner).keys() & IDENTIFYING:
                    continue  # the key names the visitor after all, through a local or a helper
                # Where the value comes from, locals and helpers followed: ``data = cache.get(k)``
                # / ``if data is None: data = {...request.user...}``; ``owner_id(request.user)``
                # returning only ``user.pk`` is who, not what.
                sources = project.sources(facts, function, call.value_labels, owner)
                kind = next((label for label in ("user", "session") if label in sources), None)
                if kind is not None:
                    written = user_dependency(call, function)  # the expression, when it is inline
                    expression = written[0] if written and written[1] == describe(kind) else describe(kind)
                    related = list(sources[kind])  # a helper on the way is the better evidence
                    if written and len(related) == 1:
                        related = _evidence(facts.path, function, call, describe(kind))
                elif sources.keys() & VISITOR_LABELS:
                    continue
                else:  # what the flow cannot see: the text of the value, read lexically
                    dependency = user_dependency(call, function)
                    if dependency is None:
                        continue
                    expression, kind = dependency
                    related = _evidence(facts.path, function, call, kind)
                key = call.key_text or ""
                literal = function.flow.literal(key)
                if literal is not None and len(literal) == 1:
                    key = f'"{literal[0]}"'  # ``key = "profile:v1"`` ... ``cache.set(key, ...)``
                key = f"the key `{key}`" if len(key) <= 60 and "\n" not in key else "a key"
                yield self.finding(
                    Location(facts.path, call.span),
                    f"`{receiver(call)}.{call.method}` stores a value computed from `{expression}` "
                    f"under {key}, which does not identify the visitor: every "
                    "visitor reads the first one's data",
                    hint='put the visitor in the key, e.g. `f"...:{request.user.pk}"` (or '
                    "`request.session.session_key` for anonymous sessions)",
                    related=related,
                )


def _literal_local_key(call: CacheCall, function: FunctionFacts) -> bool:
    """``key = "dashboard:stats"`` ... ``cache.set(key, ...)``: a local only ever given literals."""
    return function.flow.literal(call.key_text) is not None


def _evidence(path: str, function: FunctionFacts, call: CacheCall, kind: str) -> list[Evidence]:
    """Where the function reads the visitor: inside the call if it does, else its first read."""
    accesses = [a for a in function.accesses if a.what == kind] or [
        a for a in function.accesses if a.what in ("request.user", "request.session")
    ]
    start, end = (call.span.line, call.span.col), (call.span.end_line, call.span.end_col)
    inside = [
        a for a in accesses if start <= (a.span.line, a.span.col) and (a.span.end_line, a.span.end_col) <= end
    ]
    if inside or accesses:
        access = min(inside or accesses, key=lambda a: a.span)
        return [Evidence(Location(path, access.span), f"reads `{access.what}` here")]
    return [Evidence(Location(path, function.span), f"`{function.name}` takes the `user` argument here")]
