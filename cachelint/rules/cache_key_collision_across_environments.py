from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cachelint import django_api as api
from cachelint.facts.settings import NON_PRODUCTION_NAME
from cachelint.facts.values import FromEnv
from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel, SettingsModule, location_in_dict
from cachelint.registry import Rule, register
from cachelint.settings_queries import cache_aliases, is_literal, location_items, parse_redis_url


@dataclass(frozen=True)
class SharedCache:
    module: SettingsModule
    alias: str
    # (kind, the servers, KEY_PREFIX, VERSION): two caches with the same key share their entries.
    key: tuple[str, frozenset[tuple[Any, ...]], str, int]
    location: Location


def _machine_wide(host: str) -> bool:
    """A host name that names the same machine from every environment: an IP address other
    than loopback, or a dotted name. ``localhost``, a socket and a single-label name such as
    ``redis`` (a Compose or Kubernetes service) resolve to a different server in each one."""
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return "." in host and host not in ("localhost", "localhost.localdomain")


def _memcached_server(text: str) -> tuple[Any, ...] | None:
    text = text.strip()
    if text.startswith(("unix:", "/")):
        return None  # a socket: local to each machine
    host, _, port = text.rpartition(":") if text.count(":") == 1 or text.startswith("[") else (text, "", "")
    if not host:
        host, port = text, ""
    try:
        number = int(port) if port else api.DEFAULT_MEMCACHED_PORT
    except ValueError:
        return None
    host = host.lower()
    return ("memcached", host, number) if _machine_wide(host) else None


def _servers(kind: str, location: Any) -> frozenset[tuple[Any, ...]] | None:
    """The servers a literal ``LOCATION`` names, or None when any of them is not literal or not
    machine-wide (then the two environments may well use different servers)."""
    items = location_items(location)
    if not items or isinstance(location, FromEnv):
        return None
    servers = set()
    for item, _ in items:
        if not is_literal(item):
            return None
        if kind == "redis":
            db = parse_redis_url(item)
            if db is None or db[0] != "tcp" or not _machine_wide(db[1]):
                return None
            servers.add(db)
        else:
            server = _memcached_server(item)
            if server is None:
                return None
            servers.add(server)
    return frozenset(servers)


@register
class CacheKeyCollisionAcrossEnvironments(Rule):
    code = "CL305"
    slug = "cache-key-collision-across-environments"
    severity = Severity.WARNING
    summary = "Two environments share one cache server, database, `KEY_PREFIX` and `VERSION`"
    tags = ("correctness", "privacy")
    what_it_does = """
Compares the caches of the settings modules that are used directly (those no other settings
module star-imports), and flags two modules, such as staging and production, whose caches
resolve to the same Redis or Memcached server (and Redis database) with the same `KEY_PREFIX`
(default `""`) and `VERSION` (default `1`). Each pair is reported once, at the cache of the
module that comes later by name.

Only literal locations are compared: values from environment variables (even their
defaults), sockets, `localhost` and single-label host names such as `redis` (which resolve to
a different server in each environment) are not, and neither are caches with a custom
`KEY_FUNCTION`. Modules named for development or tests (`dev`, `local`, `test`, `ci`) are
skipped.
"""
    why_is_this_bad = """
With the same server, database, prefix and version, both environments read and write the same
keys: staging serves production's cached pages and data (and the other way round), a deploy or
`cache.clear()` in one empties the other's cache, and test data can leak to real users.
"""
    bad_example = {
        "mysite/settings/production.py": """CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": "10.0.0.5:11211",
    },
}
""",
        "mysite/settings/staging.py": """CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": "10.0.0.5:11211",  # expect: CL305
    },
}
""",
    }
    good_example = {
        "mysite/settings/production.py": """CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": "10.0.0.5:11211",
        "KEY_PREFIX": "prod",
    },
}
""",
        "mysite/settings/staging.py": """CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": "10.0.0.5:11211",
        "KEY_PREFIX": "staging",
    },
}
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        modules = [
            m
            for m in project.settings_modules
            if m.is_leaf and not NON_PRODUCTION_NAME.search(m.module.lower())
        ]
        caches = {m.module: list(_shared_caches(m)) for m in modules}
        seen: set[Location] = set()
        for index, later in enumerate(modules):
            for earlier in modules[:index]:
                match = next(
                    ((a, b) for b in caches[later.module] for a in caches[earlier.module] if a.key == b.key),
                    None,
                )
                if match is None or match[1].location in seen:
                    continue
                first, second = match
                seen.add(second.location)
                kind, _, prefix, version = second.key
                where = "the same Redis database" if kind == "redis" else "the same Memcached server"
                yield self.finding(
                    second.location,
                    f"cache `{second.alias}` of `{later.module}` and cache `{first.alias}` of "
                    f'`{earlier.module}` use {where} with the same `KEY_PREFIX` ("{prefix}") and '
                    f"`VERSION` ({version}): the two environments read and overwrite each other's entries",
                    hint="give each environment its own `KEY_PREFIX` (or its own database or server)",
                    related=[Evidence(first.location, f"`{earlier.module}` uses the same cache here")],
                )


_MEMCACHED_WORDS = frozenset({"memcache", "memcached", "pymemcache", "pylibmc", "bmemcached", "elasticache"})


def _words(backend: str) -> set[str]:
    """The words of a backend's dotted path, split at dots, underscores and case changes:
    ``django.core.cache.backends.locmem.LocMemCache`` is ``loc``, ``mem``, ``cache``..., never
    ``memcache``; ``PyMemcacheCache`` is ``py``, ``memcache``, ``cache``."""
    words = set()
    for part in re.split(r"[._]", backend):
        words.add(part.lower())
        words.update(w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", part))
    return words


def _backend_kind(backend: str) -> str | None:
    """``redis`` or ``memcached`` for a backend whose dotted path names one as a word (a module
    ``memcached``/``django_redis``, a class ``RedisCache``/``PyMemcacheCache``), else None:
    ``LocMemCache`` contains the letters of "memcache" but keeps its entries in each process."""
    if backend.startswith(api.MEMCACHED_BACKEND_PREFIX):
        return "memcached"
    words = _words(backend.strip())
    if "redis" in words:
        return "redis"
    if words & _MEMCACHED_WORDS:
        return "memcached"
    return None


def _shared_caches(module: SettingsModule) -> Iterator[SharedCache]:
    caches = module.value("CACHES")
    fallback = module.location_of("CACHES") or Location(module.path)
    for alias, conf in cache_aliases(caches):
        backend = conf.get("BACKEND")
        if not isinstance(backend, str) or "KEY_FUNCTION" in conf:
            continue
        kind = _backend_kind(backend)
        if kind is None:
            continue
        servers = _servers(kind, conf.get("LOCATION"))
        prefix = conf.get("KEY_PREFIX", "")
        version = conf.get("VERSION", 1)
        if (
            servers is None
            or not is_literal(prefix)
            or not isinstance(version, int)
            or isinstance(version, bool)
        ):
            continue
        location = location_in_dict(conf, "LOCATION", location_in_dict(caches, alias, fallback))
        yield SharedCache(module, str(alias), (kind, servers, prefix, version), location)
