from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cachelint import django_api as api
from cachelint.facts.settings import NON_PRODUCTION_NAME
from cachelint.facts.values import FromEnv
from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel, SettingsModule, location_in_dict
from cachelint.registry import Rule, register
from cachelint.settings_queries import (
    LOOPBACK,
    RedisDb,
    cache_aliases,
    describe,
    location_items,
    parse_redis_url,
    redis_users,
)


@dataclass(frozen=True)
class RedisUse:
    role: str  # "cache", "celery", "channels", a package ("django-rq") or "client"
    name: str  # the cache alias, the setting, or the channel layer alias
    db: RedisDb
    location: Location
    from_env: bool  # the URL is an environment variable's default


_WIPES = {
    "CELERY_BROKER_URL": "queued Celery tasks",
    "BROKER_URL": "queued Celery tasks",
    "CELERY_RESULT_BACKEND": "stored Celery task results",
    # third-party packages with their own Redis connection (see settings_queries.redis_users)
    "django-cacheops": "django-cacheops' cached querysets and the invalidation sets that keep them fresh",
    "django-constance": "django-constance's live settings (they fall back to their defaults)",
    "django-rq": "queued RQ jobs",
    "huey": "queued huey tasks",
    "client": "the keys project code keeps there with its own Redis client",
}


@register
class RedisSharedAcrossRoles(Rule):
    code = "CL304"
    slug = "redis-shared-across-roles"
    severity = Severity.WARNING
    summary = "A cache shares its Redis database with Celery, Channels or another cache"
    tags = ("reliability",)
    # Project code that opens its own Redis client: ``redis.from_url(settings.REDIS_URL)``.
    file_tokens = (b"from_url",)
    what_it_does = """
Within one settings module (after following `from .base import *`), flags a Redis server and
database number used both by a cache in `CACHES` and by Celery (`CELERY_BROKER_URL`,
`CELERY_RESULT_BACKEND`, `BROKER_URL`), by Django Channels (`CHANNEL_LAYERS[...]["CONFIG"]
["hosts"]`, as URLs or `(host, port)` pairs), by another cache alias, by a third-party package
with its own Redis connection (django-cacheops' `CACHEOPS_REDIS`, django-constance's
`CONSTANCE_REDIS_CONNECTION`, each django-rq queue in `RQ_QUEUES`, huey's `HUEY["connection"]`:
URLs or redis-py keyword arguments, `localhost:6379/0` when unset; a django-rq queue with
`USE_REDIS_CACHE` borrows the cache's own connection), or by project code that opens its own
client on a setting's URL (`redis.from_url(settings.REDIS_URL)`, `redis.Redis.from_url(...)`,
reported at the call). URLs are read the way
redis-py reads them: port 6379 unless given, the database from `?db=` or the path, else 0.
The finding is reported at the second use, with the cache as evidence. A base module's values
are checked through the modules that star-import it.

Values that cannot be evaluated are ignored. Environment-variable defaults
(`env("CELERY_BROKER_URL", default="redis://localhost:6379/0")`) are compared: within one module
they describe one deployment, the one that runs when the variables are not set. Modules named
for development or tests (`dev`, `local`, `test`, `ci`) are skipped.
"""
    why_is_this_bad = """
Caches are meant to be disposable: `cache.clear()` runs `FLUSHDB`, and a Redis configured to
evict (`allkeys-lru`) drops any key under memory pressure. When the Celery broker or the
Channels layer lives in the same database, a cache flush or eviction also deletes queued
tasks, task results or channel groups, and the cache's load (large values, scans) slows the
queue down. Two cache aliases in one database flush each other.
"""
    bad_example = {
        "mysite/settings.py": """CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://redis:6379/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 5, "SOCKET_TIMEOUT": 5},
    },
}
CELERY_BROKER_URL = "redis://redis:6379"  # expect: CL304
""",
    }
    good_example = {
        "mysite/settings.py": """CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://redis:6379/1",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 5, "SOCKET_TIMEOUT": 5},
    },
}
CELERY_BROKER_URL = "redis://redis:6379/0"
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
        caches = list(_cache_uses(module))
        for index, use in enumerate(caches):
            first = next((c for c in caches[:index] if c.db == use.db and c.name != use.name), None)
            if first is not None:
                yield self._finding(
                    use,
                    first,
                    f"cache `{use.name}` uses {describe(use.db)}, like cache `{first.name}`: clearing "
                    "either one flushes both, and their keys compete for the same memory",
                )
        for use in [
            *_celery_uses(module),
            *_channels_uses(module),
            *_package_uses(module),
            *_client_uses(project, module),
        ]:
            first = next((c for c in caches if c.db == use.db), None)
            if first is None:
                continue
            if use.role == "celery":
                what = f"`{use.name}` uses {describe(use.db)}, like cache `{first.name}`"
                wiped = _WIPES[use.name]
            elif use.role == "client":
                what = f"project code opens its own Redis client on `settings.{use.name}`, {describe(use.db)}, like cache `{first.name}`"
                wiped = _WIPES["client"]
            elif use.role in _WIPES:
                what = f"{use.role} (`{use.name}`) uses {describe(use.db)}, like cache `{first.name}`"
                wiped = _WIPES[use.role]
            else:
                what = f"channel layer `{use.name}` uses {describe(use.db)}, like cache `{first.name}`"
                wiped = "channel groups and messages"
            yield self._finding(use, first, f"{what}: a cache flush or eviction also deletes {wiped}")
        for user in redis_users(module):
            borrowed = next((c for c in caches if c.name == user.uses_cache), None)
            if user.uses_cache is not None and borrowed is not None:
                yield self._finding(
                    RedisUse(user.package, user.name, borrowed.db, user.location, borrowed.from_env),
                    borrowed,
                    f"django-rq (`{user.name}`) queues its jobs through the connection of cache "
                    f"`{borrowed.name}` (`USE_REDIS_CACHE`), {describe(borrowed.db)}: a cache flush or "
                    f"eviction also deletes {_WIPES['django-rq']}",
                )

    def _finding(self, use: RedisUse, first: RedisUse, message: str) -> Finding:
        if use.from_env or first.from_env:
            message += " (as the environment-variable defaults configure it)"
        return self.finding(
            use.location,
            message,
            hint="give each role its own database number (for example `/1` for the cache and `/0` for "
            "Celery) or its own Redis server",
            related=[Evidence(first.location, f"cache `{first.name}` uses the same database here")],
        )


def _cache_uses(module: SettingsModule) -> Iterator[RedisUse]:
    caches = module.value("CACHES")
    fallback = module.location_of("CACHES") or Location(module.path)
    for alias, conf in cache_aliases(caches):
        backend = conf.get("BACKEND")
        if not isinstance(backend, str) or "redis" not in backend.lower():
            continue
        alias_location = location_in_dict(caches, alias, fallback)
        yield from _uses(
            "cache", str(alias), conf.get("LOCATION"), location_in_dict(conf, "LOCATION", alias_location)
        )


def _celery_uses(module: SettingsModule) -> Iterator[RedisUse]:
    for name in api.CELERY_REDIS_SETTINGS:
        value = module.value(name)
        location = module.location_of(name)
        if isinstance(value, str) and location is not None:
            yield from _uses("celery", name, value, location)


def _package_uses(module: SettingsModule) -> Iterator[RedisUse]:
    for user in redis_users(module):
        if user.db is not None:
            yield RedisUse(user.package, user.name, user.db, user.location, user.from_env)


def _client_uses(project: ProjectModel, module: SettingsModule) -> Iterator[RedisUse]:
    """``redis.from_url(settings.X)`` anywhere in project code, on the URL ``X`` has here."""
    for facts in project.python.values():
        for client in facts.redis_clients:
            value = module.value(client.setting)
            db = parse_redis_url(value) if isinstance(value, str) else None
            if db is not None:
                yield RedisUse(
                    "client",
                    client.setting,
                    db,
                    Location(facts.path, client.span),
                    isinstance(value, FromEnv),
                )


def _channels_uses(module: SettingsModule) -> Iterator[RedisUse]:
    layers = module.value("CHANNEL_LAYERS")
    fallback = module.location_of("CHANNEL_LAYERS") or Location(module.path)
    if not isinstance(layers, dict):
        return
    for alias, conf in layers.items():
        config = conf.get("CONFIG") if isinstance(conf, dict) else None
        hosts = config.get("hosts") if isinstance(config, dict) else None
        if not isinstance(hosts, list | tuple):
            continue
        where = location_in_dict(config, "hosts", location_in_dict(layers, alias, fallback))
        for index, host in enumerate(hosts):
            located = getattr(hosts, "location", None)
            location = (located(index) if located else None) or where
            if isinstance(host, dict):  # {"address": "redis://...", "password": ...}
                host = host.get("address")
            if isinstance(host, str):
                yield from _uses("channels", str(alias), host, location)
            elif (
                isinstance(host, list | tuple)
                and len(host) == 2
                and isinstance(host[0], str)
                and isinstance(host[1], int)
                and not isinstance(host[1], bool)
            ):
                name = host[0].lower()
                db: RedisDb = ("tcp", "localhost" if name in LOOPBACK else name, host[1], 0)
                yield RedisUse("channels", str(alias), db, location, isinstance(host[0], FromEnv))


def _uses(role: str, name: str, value: Any, where: Location) -> Iterator[RedisUse]:
    """One use per Redis URL in ``value`` (a string, a comma/semicolon list, or a list)."""
    items = location_items(value) if role != "celery" else [(part, None) for part in value.split(";")]
    for item, index in items:
        if not isinstance(item, str):
            continue
        db = parse_redis_url(item)
        if db is None:
            continue
        located = getattr(value, "location", None)
        location = (located(index) if located and index is not None else None) or where
        yield RedisUse(role, name, db, location, isinstance(item, FromEnv) or isinstance(value, FromEnv))
