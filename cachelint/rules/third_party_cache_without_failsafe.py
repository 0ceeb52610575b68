from __future__ import annotations

from collections.abc import Iterator

from cachelint.facts.settings import NON_PRODUCTION_NAME
from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel, SettingsModule, location_in_dict
from cachelint.registry import Rule, register
from cachelint.settings_queries import (
    CACHEOPS_APPS,
    installed,
    missing_redis_cache_timeouts,
    redis_users,
)

CACHALOT_APPS = ("cachalot",)

# What stops working, per package, when its Redis stalls.
_STALLS = {
    "django-constance": "every request that reads a live setting (`config.X`) hangs",
    "django-rq": "every request that enqueues a job hangs",
    "huey": "every request that enqueues a task hangs",
}


@register
class ThirdPartyCacheWithoutFailsafe(Rule):
    code = "CL309"
    slug = "third-party-cache-without-failsafe"
    severity = Severity.WARNING
    summary = (
        "A third-party package talks to Redis without its fail-safe (degrade on failure, socket timeouts)"
    )
    tags = ("reliability",)
    what_it_does = """
Flags the packages that talk to Redis on the request path without the setting that keeps a
Redis outage from taking the site down with it:

- django-cacheops (`cacheops` in `INSTALLED_APPS`, or `CACHEOPS_REDIS` when `INSTALLED_APPS`
  cannot be read) without `CACHEOPS_DEGRADE_ON_FAILURE = True`, unless `CACHEOPS_ENABLED =
  False`; reported at `CACHEOPS_REDIS`;
- django-cachalot whose cache (`CACHALOT_CACHE`, default `"default"`) is a Redis cache without
  socket timeouts in `OPTIONS` (as CL301 reads them); reported at the `cachalot` app, with
  the cache as evidence (CL301 reports the cache itself: adding the timeouts fixes both);
- django-constance's Redis backend (its default) whose `CONSTANCE_REDIS_CONNECTION` (a URL or
  redis-py keyword arguments; unset is `localhost`) has no `socket_timeout`;
- django-rq queues in `RQ_QUEUES` whose `URL` has no `socket_timeout` query option and whose
  `REDIS_CLIENT_KWARGS` have no `socket_timeout` (one finding per `RQ_QUEUES`, naming the
  queues); queues that borrow a cache's connection (`USE_REDIS_CACHE`) are the cache's
  business (CL301), Sentinel and Unix-socket queues are skipped;
- huey (`HUEY` as a dict for `huey.contrib.djhuey`) with a Redis `huey_class` (the default),
  not in immediate mode, whose `connection` has no `socket_timeout`.

redis-py uses `socket_timeout` for connecting too when `socket_connect_timeout` is not given,
so `socket_timeout` alone is enough here. Values cachelint cannot evaluate (a custom
`connection_pool`, a `CONSTANCE_REDIS_CONNECTION_CLASS`, a `HUEY = RedisHuey(...)` instance)
are not flagged. Like CL304, only settings modules that are used directly and are not named
for development, tests or CI are checked.
"""
    why_is_this_bad = """
These packages sit on the request path. django-cacheops and django-cachalot answer ORM
queries from Redis, so without `CACHEOPS_DEGRADE_ON_FAILURE` (or, for cachalot, without
timeouts) a Redis that is down makes every cached query raise, and a Redis that stalls makes
every query hang: the database is fine, but the site is down. Constance reads its live
settings from Redis on every access, and enqueuing an RQ job or a huey task writes to Redis
from the view. redis-py waits forever by default, so one stalled Redis fills every worker.
"""
    bad_example = {
        "mysite/settings.py": """INSTALLED_APPS = ["cacheops", "django_rq"]
CACHEOPS_REDIS = "redis://cache.internal:6379/1"  # expect: CL309
RQ_QUEUES = {
    "default": {"URL": "redis://cache.internal:6379/2"},  # expect: CL309
}
""",
    }
    good_example = {
        "mysite/settings.py": """INSTALLED_APPS = ["cacheops", "django_rq"]
CACHEOPS_REDIS = "redis://cache.internal:6379/1?socket_timeout=2"
CACHEOPS_DEGRADE_ON_FAILURE = True
RQ_QUEUES = {
    "default": {
        "URL": "redis://cache.internal:6379/2",
        "REDIS_CLIENT_KWARGS": {"socket_timeout": 5},
    },
}
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        seen: set[Location] = set()
        for module in project.settings_modules:
            if not module.is_leaf or NON_PRODUCTION_NAME.search(module.module.lower()):
                continue  # a base is checked through the modules that star-import it
            for finding in [*self._packages(module), *self._cachalot(module)]:
                if finding.location not in seen:
                    seen.add(finding.location)
                    yield finding

    def _packages(self, module: SettingsModule) -> Iterator[Finding]:
        queues: list[str] = []
        queue_location: Location | None = None
        for user in redis_users(module):
            if user.package == "django-cacheops":
                degrade = module.value("CACHEOPS_DEGRADE_ON_FAILURE")
                if "CACHEOPS_DEGRADE_ON_FAILURE" in module.namespace and degrade not in (False, 0, None):
                    continue  # on, or not known to be off
                yield self.finding(
                    user.location,
                    "django-cacheops without `CACHEOPS_DEGRADE_ON_FAILURE = True`: when its Redis "
                    "is down or stalls, every cached queryset raises or hangs instead of falling "
                    "back to the database",
                    hint="set `CACHEOPS_DEGRADE_ON_FAILURE = True` (and a `socket_timeout` in "
                    "`CACHEOPS_REDIS`)",
                    related=_app_evidence(module, CACHEOPS_APPS, user.location),
                )
            elif user.socket_timeout is False:
                if user.package == "django-rq":
                    queues.append(user.name.partition("[")[2].strip('"]'))
                    queue_location = queue_location or user.location
                    continue
                yield self.finding(
                    user.location,
                    f"{user.package} connects to Redis without a `socket_timeout` (`{user.name}`): "
                    f"when Redis stalls, {_STALLS[user.package]}",
                    hint='add "socket_timeout": 5 to its connection settings (or `?socket_timeout=5` to its URL)',
                )
        if queues and queue_location is not None:
            names = ", ".join(f"`{q}`" for q in queues)
            yield self.finding(
                queue_location,
                f"django-rq {'queue' if len(queues) == 1 else 'queues'} {names} "
                f"{'connects' if len(queues) == 1 else 'connect'} to Redis without a `socket_timeout`: "
                f"when Redis stalls, {_STALLS['django-rq']}",
                hint='add "REDIS_CLIENT_KWARGS": {"socket_timeout": 5} to each queue (or '
                "`?socket_timeout=5` to its URL)",
            )

    def _cachalot(self, module: SettingsModule) -> Iterator[Finding]:
        where = installed(module, CACHALOT_APPS)
        if not isinstance(where, Location) or module.value("CACHALOT_ENABLED") is False:
            return
        alias = module.value("CACHALOT_CACHE") if "CACHALOT_CACHE" in module.namespace else "default"
        caches = module.value("CACHES")
        conf = caches.get(alias) if isinstance(caches, dict) and isinstance(alias, str) else None
        missing = missing_redis_cache_timeouts(conf)
        if not missing:
            return
        fallback = module.location_of("CACHES") or Location(module.path)
        cache_at = location_in_dict(conf, "BACKEND", location_in_dict(caches, alias, fallback))
        yield self.finding(
            where,
            f"django-cachalot caches every ORM query in cache `{alias}`, a Redis cache without "
            f"{' or '.join(f'`{k}`' for k in missing)}: when Redis stalls, every database query "
            "hangs, not only cached pages",
            hint=f'add {", ".join(f"{k!r}: 5" for k in missing)} to the "OPTIONS" of cache `{alias}`'.replace(
                "'", '"'
            ),
            related=[Evidence(cache_at, f"cache `{alias}` is defined here")],
        )


def _app_evidence(module: SettingsModule, apps: tuple[str, ...], location: Location) -> list[Evidence]:
    where = installed(module, apps)
    if isinstance(where, Location) and where != location:
        return [Evidence(where, "installed here")]
    return []
