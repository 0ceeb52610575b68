from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cachelint import django_api as api
from cachelint.facts.settings import Definition
from cachelint.finding import Finding, Location, Severity
from cachelint.project import ProjectModel, location_in_dict
from cachelint.registry import Rule, register
from cachelint.settings_queries import assignments, cache_aliases, is_literal, location_items

# django-redis < 4 accepted "host:port:db"; this is the form to suggest instead.
_OLD_REDIS_LOCATION = re.compile(r"^(?P<host>[^:/]+):(?P<port>\d+)(?::(?P<db>\d+))?$")


def _removed(project: ProjectModel, release: tuple[int, int]) -> bool:
    return project.django_version is None or project.django_version >= release


def _version(release: tuple[int, int]) -> str:
    return f"{release[0]}.{release[1]}"


@register
class RemovedCacheBackendOrSetting(Rule):
    code = "CL307"
    slug = "removed-cache-backend-or-setting"
    severity = Severity.ERROR
    summary = "A cache backend or setting that Django (or django-redis) no longer supports"
    tags = ("correctness",)
    what_it_does = """
Flags cache configuration that current releases removed:

- the `django.core.cache.backends.memcached.MemcachedCache` backend (python-memcached), removed
  in Django 4.1, and the older `memcached.CacheClass` (removed in 1.6);
- the `CACHE_BACKEND` setting (replaced by `CACHES`, removed in Django 1.5);
- the `CACHE_MIDDLEWARE_ANONYMOUS_ONLY` setting (removed in Django 1.8);
- a `django_redis` cache whose `LOCATION` has no scheme (`"127.0.0.1:6379:1"`): django-redis 4
  and later only accept URLs (`redis://`, `rediss://`, `unix://`).

The Django removals are checked against the Django version the project declares (lock files,
requirements, `pyproject.toml`, or the `django-version` option); when none is found the latest
release is assumed. Assignments inside a branch cachelint cannot decide (such as a
`django.VERSION` check) and values that only an environment variable's default provides are
not flagged.
"""
    why_is_this_bad = """
Django no longer reads a removed setting, so it silently has no effect: with
`CACHE_MIDDLEWARE_ANONYMOUS_ONLY` gone, the per-site cache also stores pages of logged-in
users. A removed backend fails with an import error the first time the cache is used, and
django-redis rejects a `LOCATION` without a scheme when it first connects.
"""
    bad_example = {
        "mysite/settings.py": """CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.MemcachedCache",  # expect: CL307
        "LOCATION": "127.0.0.1:11211",
    },
    "sessions": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "127.0.0.1:6379:1",  # expect: CL307
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 5, "SOCKET_TIMEOUT": 5},
    },
}
CACHE_MIDDLEWARE_ANONYMOUS_ONLY = True  # expect: CL307
""",
    }
    good_example = {
        "mysite/settings.py": """CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": "127.0.0.1:11211",
    },
    "sessions": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 5, "SOCKET_TIMEOUT": 5},
    },
}
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for definition in assignments(project, [*api.REMOVED_CACHE_SETTINGS, "CACHES"]):
            if definition.name == "CACHES":
                yield from self._check_caches(project, definition)
                continue
            release, instead = api.REMOVED_CACHE_SETTINGS[definition.name]
            if not _removed(project, release):
                continue
            effect = (
                "so the per-site cache also stores the pages of logged-in users"
                if definition.name == "CACHE_MIDDLEWARE_ANONYMOUS_ONLY"
                else "so this cache configuration has no effect"
            )
            yield self.finding(
                Location(definition.path, definition.span),
                f"`{definition.name}` was removed in Django {_version(release)}: Django ignores it, {effect}"
                f" ({project.django_version_note()})",
                hint=f"remove it; use {instead}",
            )

    def _check_caches(self, project: ProjectModel, definition: Definition) -> Iterator[Finding]:
        caches = definition.value
        fallback = Location(definition.path, definition.span)
        for alias, conf in cache_aliases(caches):
            alias_location = location_in_dict(caches, alias, fallback)
            backend = conf.get("BACKEND")
            if not is_literal(backend):
                continue
            if backend in api.REMOVED_CACHE_BACKENDS:
                release, instead = api.REMOVED_CACHE_BACKENDS[backend]
                if _removed(project, release):
                    yield self.finding(
                        location_in_dict(conf, "BACKEND", alias_location),
                        f"cache `{alias}` uses `{backend.rsplit('.', 1)[-1]}`, which Django "
                        f"{_version(release)} removed: the first use of the cache fails with an import error"
                        f" ({project.django_version_note()})",
                        hint=f"use {instead} (and install its client library)",
                    )
            if backend.startswith(api.DJANGO_REDIS_BACKEND_PREFIX):
                yield from self._check_django_redis_location(alias, conf, alias_location)

    def _check_django_redis_location(self, alias: Any, conf: dict, fallback: Location) -> Iterator[Finding]:
        value = conf.get("LOCATION")
        where = location_in_dict(conf, "LOCATION", fallback)
        for item, index in location_items(value):
            if not is_literal(item) or "://" in item or item.startswith("unix:"):
                continue
            located = getattr(value, "location", None)
            location = (located(index) if located and index is not None else None) or where
            old = _OLD_REDIS_LOCATION.match(item)
            suggestion = (
                f"`redis://{old['host']}:{old['port']}/{old['db'] or 0}`" if old else "`redis://host:6379/0`"
            )
            yield self.finding(
                location,
                f"django-redis cache `{alias}` has `LOCATION` `{item}` without a scheme: django-redis "
                "4 and later only accept URLs, so connecting to the cache fails",
                hint=f"write it as a URL: {suggestion}",
            )
