from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cachelint import django_api as api
from cachelint.facts.settings import NON_PRODUCTION_NAME
from cachelint.finding import Finding, Location, Severity
from cachelint.project import ProjectModel, SettingsModule, location_in_dict
from cachelint.registry import Rule, register
from cachelint.settings_queries import assignments, cache_aliases

DUMMY_CACHE = "django.core.cache.backends.dummy.DummyCache"


@register
class CacheTimeoutNeverExpires(Rule):
    code = "CL303"
    slug = "cache-timeout-never-expires"
    severity = Severity.WARNING
    summary = '`"TIMEOUT": None` on a cache: entries stored without a timeout never expire'
    tags = ("reliability",)
    what_it_does = """
Flags `"TIMEOUT": None` in a cache of `CACHES`. That setting is the default timeout of every
`cache.set()`, `cache_page` and `{% cache %}` that does not pass its own. Only caches that
reach a settings module actually used are checked: a base module's cache counts when a
settings module that star-imports it keeps it, and modules named for development or tests
(`dev`, `local`, `test`, `ci`) are skipped. `DummyCache`, which stores nothing, is not flagged.
"""
    why_is_this_bad = """
An entry without an expiry stays until something deletes it or the server evicts it under
memory pressure. Any invalidation that is missed (a signal not connected, a key renamed, a
write that bypasses the model) leaves stale data forever, the cache grows until eviction
starts throwing out useful keys, and on a Redis with `maxmemory-policy noeviction` writes
start failing.
"""
    bad_example = {
        "mysite/settings.py": """CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": "127.0.0.1:11211",
        "TIMEOUT": None,  # expect: CL303
    },
}
""",
    }
    good_example = {
        "mysite/settings.py": """CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": "127.0.0.1:11211",
        "TIMEOUT": 60 * 60 * 24,
    },
}
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        seen: set[Location] = set()
        for module in project.settings_modules:
            if not module.is_leaf or NON_PRODUCTION_NAME.search(module.module.lower()):
                continue  # bases are checked through the modules that use them
            for finding in self._check_module(project, module):
                if finding.location not in seen:
                    seen.add(finding.location)
                    yield finding

    def _check_module(self, project: ProjectModel, module: SettingsModule) -> Iterator[Finding]:
        final = module.value("CACHES")
        if isinstance(final, dict):
            candidates: list[tuple[Any, Location]] = [
                (final, module.location_of("CACHES") or Location(module.path))
            ]
        else:  # not evaluable as a whole (a later unknown change): look at what was written
            names = {(d.path, d.span) for d in module.definitions if d.name == "CACHES"}
            candidates = [
                (d.value, Location(d.path, d.span))
                for d in assignments(project, ["CACHES"])
                if (d.path, d.span) in names and isinstance(d.value, dict)
            ]
        for caches, fallback in candidates:
            for alias, conf in cache_aliases(caches):
                if "TIMEOUT" not in conf or conf["TIMEOUT"] is not None or conf.get("BACKEND") == DUMMY_CACHE:
                    continue
                yield self.finding(
                    location_in_dict(conf, "TIMEOUT", location_in_dict(caches, alias, fallback)),
                    f'cache `{alias}` has `"TIMEOUT": None`: every entry stored without its own '
                    "timeout never expires, so missed invalidations stay stale forever",
                    hint=f'set a finite default such as `"TIMEOUT": {api.ONE_DAY}` (a day) and pass '
                    "`timeout=None` only where an entry must be kept",
                )
