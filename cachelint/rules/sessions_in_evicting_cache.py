from __future__ import annotations

from collections.abc import Iterator

from cachelint import django_api as api
from cachelint.facts.settings import NON_PRODUCTION_NAME
from cachelint.facts.values import Option
from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register
from cachelint.settings_queries import override_evidence, per_branch


@register
class SessionsInEvictingCache(Rule):
    code = "CL306"
    slug = "sessions-in-evicting-cache"
    severity = Severity.WARNING
    summary = "Sessions stored only in the cache: eviction or a cache flush logs users out"
    tags = ("reliability",)
    what_it_does = """
Flags `SESSION_ENGINE = "django.contrib.sessions.backends.cache"` (the cache-only engine; the
write-through `cached_db` engine is fine). Only values that reach a settings module actually
used are checked (a base module's value counts when a module that star-imports it keeps it);
modules named for development or tests (`dev`, `local`, `test`, `ci`) are skipped. A value
that one branch of an `if` on the environment, or an environment variable's default, provides
is reported for that case ("when SESSION_ENGINE is not set").
"""
    why_is_this_bad = """
A cache may drop any entry at any time: Memcached and Redis evict keys under memory pressure,
a restart of a non-persistent cache loses everything, and `cache.clear()` (in a deploy script,
a management command, an admin action) flushes the whole database. With sessions stored only
there, each of these logs users out and loses carts and other session data.
"""
    bad_example = {
        "mysite/settings.py": """SESSION_ENGINE = "django.contrib.sessions.backends.cache"  # expect: CL306
""",
    }
    good_example = {
        "mysite/settings.py": """SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        seen: set[Location] = set()
        for module in project.settings_modules:
            if not module.is_leaf or NON_PRODUCTION_NAME.search(module.module.lower()):
                continue  # bases are checked through the modules that use them
            for location, _, when in per_branch(module.options("SESSION_ENGINE"), self._engine):
                if location in seen:
                    continue
                seen.add(location)
                yield self._report(location, when, override_evidence(module))

    @staticmethod
    def _engine(option: Option) -> tuple[Location, str, str] | None:
        if option.value != api.SESSION_CACHE_ENGINE or option.span is None:
            return None
        return Location(option.path, option.span), option.value, option.value

    def _report(self, location: Location, when: str, related: list[Evidence]) -> Finding:
        return self.finding(
            location,
            f"sessions are stored only in the cache{' ' + when if when else ''}: an eviction, a "
            "restart of the cache server or a `cache.clear()` logs users out",
            hint='use "django.contrib.sessions.backends.cached_db": reads still come from the '
            "cache, and the database keeps every session",
            related=related,
        )
