from __future__ import annotations

from collections.abc import Iterator

from cachelint.cache_calls import KEY_METHODS, app_calls, receiver
from cachelint.facts.python import PythonFacts
from cachelint.facts.views import CacheCall
from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register
from cachelint.settings_queries import cache_aliases

# Backends that take any key without a check: text in a key only costs memory there.
NON_VALIDATING_PREFIXES = ("django_redis.", "redis_cache.", "django_valkey.", "django_redis_cache.")
MEMCACHED_HINTS = ("memcached", "pylibmc")


def _backends(project: ProjectModel, alias: str | None) -> set[str] | None:
    """The literal backends the alias has in the settings modules that define it (None: unknown)."""
    found: set[str] = set()
    for module in project.settings_modules:
        if not module.is_leaf:
            continue
        for name, conf in cache_aliases(module.value("CACHES")):
            if alias is None or name == alias:
                backend = conf.get("BACKEND")
                if not isinstance(backend, str):
                    return None
                found.add(backend)
    return found or None


def _is_model_class(project: ProjectModel, location: Location) -> bool:
    """Whether ``location`` (a ``self.`` read) lies in a class that looks like a model (a base
    named ``...Model`` or ``...Page``): ``self.name`` there is data, not a name written in code."""
    target = project.python.get(location.path)
    if target is None:
        return False
    classes = [c for c in target.views.classes if c.span.line <= location.line]
    if not classes:
        return False
    cls = max(classes, key=lambda c: c.span.line)
    bases = project.class_bases(f"{target.module}.{cls.name}") or list(cls.bases)
    return any(base.rsplit(".", 1)[-1].endswith(("Model", "Page")) for base in bases)


@register
class CacheKeyFromFreeText(Rule):
    code = "CL608"
    slug = "cache-key-from-free-text"
    severity = Severity.WARNING
    summary = "Cache key built from human-readable text (names, titles, `str(obj)`) or a lossy username"
    tags = ("reliability",)
    what_it_does = """
Flags a low-level cache call whose key is built from human-readable text without digesting it:
an object's `.name`, `.title`, `.first_name`/`.last_name`, `.get_full_name()`, `.description`,
`str(obj)` or `obj.__str__()`, directly or through locals, f-strings and the project's
key-building helpers. Keys made safe first are fine: `hashlib.*`/`md5`/`sha*`, `slugify`,
`make_template_fragment_key`, `quote`/`urlencode`; so are ids, pks and `.slug`. `self.name`
counts only in a method of a model-like class (a base named `...Model` or `...Page`).
Backends that accept any key (django-redis) are skipped. Also flags a key built from a
username passed through a lossy normaliser (`slugify(user.username)`,
`user.username.lower()`), on any backend.
"""
    why_is_this_bad = """
Names and titles hold spaces, can be longer than 250 characters and may contain control
characters. Memcached rejects such keys: Django's memcached backends raise `InvalidCacheKey`,
so every request that builds the key fails with a 500 as soon as one product is named
"Blue shirt". Django's other backends accept the key but warn (`CacheKeyWarning`) on every
call, and the code breaks the day the project moves to memcached. A username normalised with
`slugify()` or `.lower()` is no longer unique (`"John.Doe"` and `"johndoe"` give one key), so
two users read each other's cached data.
"""
    bad_example = {
        "mysite/settings.py": """CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": "127.0.0.1:11211",
    }
}
""",
        "catalog/views.py": """from django.core.cache import cache
from django.shortcuts import render
from django.utils.text import slugify


def product_detail(request, product):
    reviews = cache.get(f"reviews:{product.name}")  # expect: CL608
    return render(request, "catalog/product.html", {"reviews": reviews})


def dashboard(request):
    key = "dashboard:" + slugify(request.user.username)
    stats = cache.get(key)  # expect: CL608
    return render(request, "catalog/dashboard.html", {"stats": stats})
""",
    }
    good_example = {
        "mysite/settings.py": """CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": "127.0.0.1:11211",
    }
}
""",
        "catalog/views.py": """from django.core.cache import cache
from django.shortcuts import render
from django.utils.text import slugify


def product_detail(request, product):
    reviews = cache.get(f"reviews:{product.pk}:{slugify(product.name)}")
    return render(request, "catalog/product.html", {"reviews": reviews})


def dashboard(request):
    key = f"dashboard:{request.user.pk}"
    stats = cache.get(key)
    return render(request, "catalog/dashboard.html", {"stats": stats})
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        backends_by_alias: dict[str | None, set[str] | None] = {}
        for facts, function in project.functions():
            if project.is_test_code(facts):
                continue
            owner = None
            for call in app_calls(function):
                if call.method not in KEY_METHODS or not call.key_labels:
                    continue
                if owner is None:
                    owner = project.owner_of(facts, function)
                sources = project.sources(facts, function, call.key_labels, owner)
                finding = self._lossy(facts, call, sources) or self._free_text(
                    project, facts, call, sources, backends_by_alias
                )
                if finding is not None:
                    yield finding

    def _lossy(self, facts: PythonFacts, call: CacheCall, sources: dict) -> Finding | None:
        chain = sources.get("lossy:username")
        if chain is None:
            return None
        return self.finding(
            Location(facts.path, call.span),
            f"the key of `{receiver(call)}.{call.method}` is built from a username passed through a "
            "lossy normaliser (`slugify`, `.lower()`): distinct users get the same key and read "
            "each other's cached data",
            hint="build per-user keys from `user.pk` (or hash the exact username)",
            related=[*chain[:-1], Evidence(chain[-1].location, "normalises the username here")],
        )

    def _free_text(
        self,
        project: ProjectModel,
        facts: PythonFacts,
        call: CacheCall,
        sources: dict,
        backends_by_alias: dict[str | None, set[str] | None],
    ) -> Finding | None:
        label = None
        for candidate in sorted(sources):
            if not candidate.startswith("text:"):
                continue
            if candidate.startswith("text:self.") and not _is_model_class(
                project, sources[candidate][-1].location
            ):
                continue
            label = candidate
            break
        if label is None:
            return None
        alias = call.alias
        if alias not in backends_by_alias:
            backends_by_alias[alias] = _backends(project, alias)
        backends = backends_by_alias[alias]
        if backends and all(b.startswith(NON_VALIDATING_PREFIXES) for b in backends):
            return None
        what = label.partition(":")[2].replace("self.", "")
        what = "str(obj)" if what == "str" else f".{what}"
        memcached = bool(backends) and any(h in b.lower() for b in backends for h in MEMCACHED_HINTS)
        consequence = (
            "memcached rejects keys with spaces or over 250 characters (`InvalidCacheKey`), so the "
            "request fails"
            if memcached
            else "Django warns (`CacheKeyWarning`) on keys with spaces or over 250 characters and "
            "memcached rejects them, failing the request"
        )
        chain = sources[label]
        return self.finding(
            Location(facts.path, call.span),
            f"the key of `{receiver(call)}.{call.method}` is built from free text (`{what}`): "
            f"{consequence}",
            hint="key on the object's `pk` (or `slug`), or hash the text: "
            "`hashlib.md5(text.encode()).hexdigest()`",
            related=[*chain[:-1], Evidence(chain[-1].location, f"reads `{what}` here")],
        )
