"""Packages and settings that make a project depend on Django's cache being shared.

One list, read by CL302 (process-local-cache-in-production): with Django's per-process
``LocMemCache`` (what a production settings module without ``CACHES`` gets), each of these
keeps its state per worker process. Each entry says why, in the words the finding uses.

Data only: the matching is in the rule. An entry matches a settings module when one of its
``apps`` is in ``INSTALLED_APPS`` (or, for entries without apps, when its ``setting`` is set),
every ``when`` holds, and no ``unless`` does. A setting path is a setting name, optionally
followed by a key (``Q_CLUSTER.django_redis``); ``*`` stands for any key of a dict
(``RQ_QUEUES.*.USE_REDIS_CACHE``).

Not here, on purpose: django-cacheops, huey, django-defender and Celery talk to Redis
themselves and never go through ``CACHES``, so a ``LocMemCache`` does not affect them.
"""

from __future__ import annotations

from dataclasses import dataclass

# Values a ``when`` accepts: a tuple of accepted values, or ``PRESENT`` (set to anything but None).
PRESENT = "<present>"


@dataclass(frozen=True)
class CacheUser:
    package: str  # as users know it: "django-axes"
    reason: str  # the evidence label, without its final "here"
    apps: tuple[str, ...] = ()  # INSTALLED_APPS entries that install it (any of them)
    setting: str = ""  # without ``apps``: the setting path whose presence is the evidence
    # setting path -> accepted values (or PRESENT); all must hold.
    when: tuple[tuple[str, tuple[object, ...] | str], ...] = ()
    # setting path -> values that switch it off (``RATELIMIT_ENABLE = False``).
    unless: tuple[tuple[str, tuple[object, ...]], ...] = ()


SESSION_CACHE_ENGINES = (
    "django.contrib.sessions.backends.cache",
    "django.contrib.sessions.backends.cached_db",
)

CACHE_USERS: tuple[CacheUser, ...] = (
    CacheUser(
        "cache-backed sessions",
        "sessions are stored in the cache",
        setting="SESSION_ENGINE",
        when=(("SESSION_ENGINE", SESSION_CACHE_ENGINES),),
    ),
    CacheUser(
        "django-ratelimit",
        "django-ratelimit counts requests in the cache",
        apps=("django_ratelimit", "ratelimit"),
        unless=(("RATELIMIT_ENABLE", (False,)),),
    ),
    CacheUser(
        "django-ratelimit-backend",
        "django-ratelimit-backend counts login attempts in the cache",
        apps=("ratelimitbackend",),
    ),
    CacheUser(
        "django-axes",
        "django-axes' cache handler counts failed logins in the cache",
        apps=("axes", "axes.apps.AppConfig"),
        when=(("AXES_HANDLER", ("axes.handlers.cache.AxesCacheHandler",)),),
        unless=(("AXES_ENABLED", (False,)),),
    ),
    CacheUser(
        "django-allauth",
        "django-allauth counts login attempts and rate limits in the cache",
        apps=("allauth.account", "allauth.account.apps.AccountConfig"),
        unless=(("ACCOUNT_RATE_LIMITS", (False,)),),
    ),
    CacheUser(
        "django-cachalot",
        "django-cachalot caches ORM query results in the cache and invalidates them there",
        apps=("cachalot", "cachalot.apps.CachalotConfig"),
        unless=(("CACHALOT_ENABLED", (False,)),),
    ),
    CacheUser(
        "django-constance",
        "django-constance caches its live settings in the cache",
        apps=("constance", "constance.apps.ConstanceConfig"),
        when=(
            ("CONSTANCE_BACKEND", ("constance.backends.database.DatabaseBackend",)),
            ("CONSTANCE_DATABASE_CACHE_BACKEND", PRESENT),
        ),
    ),
    CacheUser(
        "django-q",
        "django-q uses the cache as its task broker",
        apps=("django_q",),
        when=(("Q_CLUSTER.django_redis", PRESENT),),
    ),
    CacheUser(
        "django-rq",
        "django-rq queues jobs through a cache's Redis connection",
        apps=("django_rq",),
        when=(("RQ_QUEUES.*.USE_REDIS_CACHE", PRESENT),),
    ),
)

# DRF: throttles (``SimpleRateThrottle`` and its subclasses) count requests in the default cache.
DRF_THROTTLING = "DRF throttling counts requests in the cache"
DRF_THROTTLE_DECORATOR = frozenset({"rest_framework.decorators.throttle_classes"})
