from __future__ import annotations

import re
from collections.abc import Iterator

from cachelint.cache_calls import (
    KEY_METHODS,
    app_calls,
    enclosing_callees,
    mask_strings,
    receiver,
)
from cachelint.facts.labels import SANITIZERS, is_input
from cachelint.finding import Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.project.flow import describe
from cachelint.registry import Rule, register

# ``request.GET``, ``self.request.headers``, ``request.get_full_path()``...
RAW_INPUT = re.compile(
    r"(?<![\w.])(?:self\s*\.\s*)?(?:request|req)\s*\.\s*"
    r"(GET|POST|headers|META|COOKIES|path_info|path|get_full_path_info|get_full_path|build_absolute_uri)\b"
)
# Calls that bound or digest what they are given: the flow's sanitizers.
SAFE_CALLEES = SANITIZERS
_CONSTANT_LOOKUP = re.compile(r"^(?:[\w.]+\.)?[A-Z][A-Z0-9_]*\.get$")  # ALLOWED_SORTS.get(value, "new")
_METHODS = frozenset({"get_full_path", "get_full_path_info", "build_absolute_uri"})
# META values the server sets, not the client.
_SERVER_META = re.compile(
    r"""^\s*(?:\[\s*|\.\s*get\s*\(\s*)(["'])(REMOTE_ADDR|SERVER_NAME|SERVER_PORT|REQUEST_METHOD)\1"""
)


def _safe(callee: str) -> bool:
    last = callee.rsplit(".", 1)[-1]
    return last in SAFE_CALLEES or callee.startswith("hashlib.") or bool(_CONSTANT_LOOKUP.match(callee))


def raw_request_input(key_text: str) -> str | None:
    """The first request input used unhashed in a key expression (``request.GET``), or None."""
    masked = mask_strings(key_text)
    for match in RAW_INPUT.finditer(masked):
        if match.group(1) == "META" and _SERVER_META.match(key_text[match.end() :]):
            continue  # request.META["REMOTE_ADDR"]: set by the server, the usual rate-limit key
        if any(_safe(callee) for callee in enclosing_callees(masked, match.start())):
            continue
        attribute = match.group(1)
        return f"request.{attribute}()" if attribute in _METHODS else f"request.{attribute}"
    return None


@register
class CacheKeyFromRawRequestInput(Rule):
    code = "CL604"
    slug = "cache-key-from-raw-request-input"
    severity = Severity.WARNING
    summary = "Cache key built from raw request input: unbounded keys, Memcached errors, poisoning"
    tags = ("security", "performance")
    security_severity = 5.3
    what_it_does = """
Flags a low-level cache call whose key expression uses `request.GET`, `request.POST`,
`request.headers`, `request.META`, `request.COOKIES`, `request.path`/`path_info` or
`request.get_full_path()` directly. Input that is digested or bounded first is fine:
`hashlib.*`, `md5`/`sha*`, `make_template_fragment_key`, `slugify`, `int()`, or a lookup in a
constant mapping (`SORTS.get(request.GET.get("sort"), "new")`). `request.META["REMOTE_ADDR"]`
and other values set by the server are not flagged. The input is followed through locals
(`q = request.GET.get("q")` / `key = "search:" + q`), DRF's `request.query_params` and
`request.data`, and the project's own key-building helpers, with the evidence chain.
"""
    why_is_this_bad = """
Every distinct value the client sends becomes a new cache entry: anyone can fill the cache (and
evict the useful entries) by requesting `?q=1`, `?q=2`, ... Raw input also makes invalid keys:
Memcached rejects keys longer than 250 bytes or containing spaces and control characters, so a
long query string turns into errors or warnings on every request. And when the key does not
capture everything the cached value depends on, a crafted request can store a poisoned value
that other visitors are served.
"""
    bad_example = {
        "catalog/views.py": """from django.core.cache import cache
from django.shortcuts import render

from .models import Product


def search(request):
    query = request.GET.get("q", "")
    results = cache.get_or_set(  # expect: CL604
        f"catalog:search:v1:{request.GET.get('q', '')}",
        lambda: list(Product.objects.filter(name__icontains=query)[:20]),
        60,
    )
    return render(request, "catalog/search.html", {"results": results})


def suggest(request):
    prefix = request.GET.get("prefix", "")
    key = "catalog:suggest:v1:" + prefix
    names = cache.get(key)  # expect: CL604
    return render(request, "catalog/suggest.html", {"names": names})
""",
    }
    good_example = {
        "catalog/views.py": """import hashlib

from django.core.cache import cache
from django.shortcuts import render

from .models import Product


def search(request):
    query = request.GET.get("q", "")[:100]
    digest = hashlib.sha256(query.encode()).hexdigest()
    results = cache.get_or_set(
        f"catalog:search:v1:{digest}",
        lambda: list(Product.objects.filter(name__icontains=query)[:20]),
        60,
    )
    return render(request, "catalog/search.html", {"results": results})


def suggest(request):
    prefix = request.GET.get("prefix", "")[:20]
    key = "catalog:suggest:v1:" + hashlib.sha256(prefix.encode()).hexdigest()
    names = cache.get(key)
    return render(request, "catalog/suggest.html", {"names": names})
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for facts, function in project.functions():
            if project.is_test_code(facts):
                continue
            owner = project.owner_of(facts, function)
            for call in app_calls(function):
                if call.method not in KEY_METHODS or call.key_text is None:
                    continue
                raw, related = raw_request_input(call.key_text), []
                if raw is None:
                    # ``q = request.GET.get("q")`` ... ``key = "search:" + q``: followed locals
                    # and helpers (hashing or ``int()`` on the way makes it safe).
                    sources = project.sources(facts, function, call.key_labels, owner)
                    label = next((label for label in sorted(sources) if is_input(label)), None)
                    if label is None:
                        continue
                    raw, related = describe(label), list(sources[label])
                    if raw.endswith(("get_full_path", "get_full_path_info", "build_absolute_uri")):
                        raw += "()"
                yield self.finding(
                    Location(facts.path, call.span),
                    f"the key of `{receiver(call)}.{call.method}` is built from raw `{raw}`: every "
                    "value a client sends makes a new entry (unbounded key space, Memcached key "
                    "errors, cache poisoning)",
                    hint="validate the value against the allowed ones (or convert it with `int()`), "
                    "or hash it: `hashlib.sha256(value.encode()).hexdigest()`",
                    related=related,
                )
