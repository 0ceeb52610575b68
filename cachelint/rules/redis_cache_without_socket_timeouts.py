from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cachelint import django_api as api
from cachelint.config import Config
from cachelint.facts.values import UNKNOWN, Option
from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel, location_in_dict
from cachelint.registry import Rule, register
from cachelint.settings_queries import override_evidence, per_branch

DJANGO_REDIS_KEYS = ("SOCKET_CONNECT_TIMEOUT", "SOCKET_TIMEOUT")
BUILTIN_KEYS = ("socket_connect_timeout", "socket_timeout")


@register
class RedisCacheWithoutSocketTimeouts(Rule):
    code = "CL301"
    slug = "redis-cache-without-socket-timeouts"
    severity = Severity.WARNING
    summary = "Redis cache without socket timeouts: a stalled Redis hangs every worker"
    tags = ("reliability",)
    fixable = True
    what_it_does = """
Flags a `django_redis` cache, or a django-redis-cache one (`redis_cache.RedisCache`,
`redis_cache.ShardedRedisCache`), whose `OPTIONS` lack `SOCKET_CONNECT_TIMEOUT` or
`SOCKET_TIMEOUT`, and Django's built-in `django.core.cache.backends.redis.RedisCache` whose
`OPTIONS` lack `socket_connect_timeout` or `socket_timeout`. Settings are evaluated statically, following
`from .base import *`; a cache whose `OPTIONS` cannot be evaluated is not flagged. A cache that
one branch of an `if` on the environment configures, or that a cache URL's default gives
(`env.cache_url("REDIS_URL", default="redis://...")`), is reported for that case ("when
REDIS_URL is not set").
"""
    why_is_this_bad = """
redis-py waits forever by default. When Redis stalls (failover, a full disk, a network
partition), every request that touches the cache blocks, the worker pool fills up, and the
whole site goes down with the cache instead of degrading.
"""
    bad_example = {
        "mysite/settings.py": """CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",  # expect: CL301
        "LOCATION": "redis://127.0.0.1:6379/1",
    },
    "pages": {
        "BACKEND": "redis_cache.RedisCache",  # expect: CL301
        "LOCATION": "127.0.0.1:6379",
        "OPTIONS": {"DB": 3},
    },
}
""",
    }
    good_example = {
        "mysite/settings.py": """CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 5, "SOCKET_TIMEOUT": 5},
    },
    "sessions": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/2",
        "OPTIONS": {"socket_connect_timeout": 5, "socket_timeout": 5},
    },
}
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        seen: set[Location] = set()
        for module in project.settings_modules:
            if not module.is_leaf:
                continue  # checked as part of the modules that star-import it
            # One value per branch of an ``if`` on the environment, each with its condition.
            options = [o for o in module.options("CACHES") if isinstance(o.value, dict)]
            if not options:
                options = [
                    Option(d.value) for d in module.definitions if d.name == "CACHES" and isinstance(d.value, dict)
                ]
            aliases = dict.fromkeys(alias for option in options for alias in option.value)
            for alias in aliases:
                for location, payload, when in per_branch(options, lambda o, a=alias: self._missing(a, o.value)):
                    if location not in seen:
                        seen.add(location)
                        yield self._report(alias, location, payload, when, override_evidence(module))

    def _missing(self, alias: Any, caches: Any) -> tuple[Location, tuple, Any] | None:
        conf = caches.get(alias)
        if not isinstance(conf, dict):
            return None
        backend = conf.get("BACKEND")
        if not isinstance(backend, str):
            return None
        if backend.startswith(api.DJANGO_REDIS_BACKEND_PREFIX) or backend in api.REDIS_CACHE_BACKENDS:
            required = DJANGO_REDIS_KEYS
        elif backend == api.BUILTIN_REDIS_BACKEND:
            required = BUILTIN_KEYS
        else:
            return None
        options = conf.get("OPTIONS", {})
        if options is UNKNOWN or not isinstance(options, dict):
            return None
        present = set(options)
        # django-redis and django-redis-cache pass these to redis-py's pool.
        pool = options.get(
            "CONNECTION_POOL_CLASS_KWARGS"
            if backend in api.REDIS_CACHE_BACKENDS
            else "CONNECTION_POOL_KWARGS"
        )
        if isinstance(pool, dict):
            present |= {k.upper() for k in pool if isinstance(k, str)}
        missing = [k for k in required if k not in present]
        if not missing:
            return None
        fallback = location_in_dict(caches, alias, Location(getattr(caches, "path", "")))
        location = location_in_dict(conf, "BACKEND", fallback)
        # A cache URL's default names its variable on the backend: "when CACHE_URL is not set".
        return location, (missing, conf), backend if getattr(backend, "var", "") else None

    def _report(
        self, alias: Any, location: Location, payload: tuple, when: str, overrides: list[Evidence]
    ) -> Finding:
        missing, conf = payload
        related = []
        if "OPTIONS" in conf:
            related.append(Evidence(location_in_dict(conf, "OPTIONS", location), "OPTIONS set here"))
        settings = ", ".join(f'"{k}": 5' for k in missing)
        return self.finding(
            location,
            f"Redis cache `{alias}`{f' ({when})' if when else ''} has no "
            f"{' or '.join(f'`{k}`' for k in missing)}: when Redis stalls, every request that "
            "touches the cache hangs",
            hint=f'add {{{settings}}} (seconds) to its "OPTIONS"',
            related=related + overrides,
        )

    def fix(self, text: str, findings: list[Finding], config: Config) -> str:
        """Add the missing timeouts (``socket-timeout`` seconds, 5 by default) to OPTIONS."""
        import libcst as cst

        from cachelint.fixing import FixRefused, append_to_dict, locate_nodes

        module = cst.parse_module(text)
        starts = {(f.location.line, f.location.col) for f in findings}
        keys = set(locate_nodes(module, starts, cst.SimpleString).values())
        if len(keys) != len(starts):
            raise FixRefused("the cache's BACKEND key could not be located")
        seconds = cst.Integer(str(config.socket_timeout))

        def literal(node: cst.BaseExpression) -> object:
            return node.evaluated_value if isinstance(node, cst.SimpleString) else None

        class AddTimeouts(cst.CSTTransformer):
            def leave_Dict(self, original: cst.Dict, updated: cst.Dict) -> cst.Dict:
                elements = [e for e in original.elements if isinstance(e, cst.DictElement)]
                if not any(e.key in keys for e in elements):
                    return updated
                backend = next((literal(e.value) for e in elements if literal(e.key) == "BACKEND"), "")
                required = BUILTIN_KEYS if backend == api.BUILTIN_REDIS_BACKEND else DJANGO_REDIS_KEYS
                index = next((i for i, e in enumerate(elements) if literal(e.key) == "OPTIONS"), None)
                if index is None:
                    options = cst.Dict(
                        [cst.DictElement(cst.SimpleString(f'"{k}"'), seconds) for k in required]
                    )
                    option = cst.DictElement(cst.SimpleString('"OPTIONS"'), options)
                    return append_to_dict(updated, option)
                current = updated.elements[index]
                if not isinstance(current.value, cst.Dict):
                    raise FixRefused("OPTIONS is not a dict literal")
                present = {literal(e.key) for e in current.value.elements if isinstance(e, cst.DictElement)}
                options = current.value
                for key in required:
                    if key not in present:
                        options = append_to_dict(
                            options, cst.DictElement(cst.SimpleString(f'"{key}"'), seconds)
                        )
                elements_out = list(updated.elements)
                elements_out[index] = current.with_changes(value=options)
                return updated.with_changes(elements=elements_out)

        return module.visit(AddTimeouts()).code
