from __future__ import annotations

from collections.abc import Iterator

from cachelint.cache_calls import app_calls, receiver
from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel, location_in_dict
from cachelint.registry import Rule, register

CLEAR_METHODS = frozenset({"clear", "aclear"})
# Backends whose clear() empties one process's memory (or nothing), not a shared store.
PROCESS_LOCAL_BACKENDS = frozenset(
    {
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
    }
)


def is_command_or_migration(path: str) -> bool:
    padded = f"/{path}"
    return "/management/commands/" in padded or "/migrations/" in padded


@register
class CacheClearInAppCode(Rule):
    code = "CL605"
    slug = "cache-clear-in-app-code"
    severity = Severity.WARNING
    summary = "`cache.clear()` in application code flushes the whole shared cache"
    tags = ("correctness", "performance")
    what_it_does = """
Flags `clear()` (and `aclear()`) on `django.core.cache.cache` or `caches["alias"]` (also bound
to a name first: `store = caches["alias"]`) outside tests, management commands (`management/commands/`) and migrations. Test code is `tests/`,
`testing/` and `test_utils/` packages, `tests.py`, `test_*.py`, `conftest.py`, and, in any
module, the body of a class deriving from a `*TestCase` (`TestCase`, `APITestCase`, a project's
`BaseTestCase`) and set-up/tear-down hooks (`setUp`, `tearDown`, `setUpClass`, `setUpTestData`,
`setUpModule`, pytest's `setup_method`...). A `clear()` on an alias that every settings module
defines as `LocMemCache` or `DummyCache` is not flagged, nor one inside an
`if settings.DEBUG:` branch, or under a project's `settings.TESTS`/`settings.TESTING` flag (it
never runs in production).
"""
    why_is_this_bad = """
`clear()` does not delete "this app's keys": on Redis it runs `FLUSHDB`, on Memcached
`flush_all`, wiping everything in the database: other apps' entries, cached sessions (every user
is logged out), throttling counters, Celery results when they share the database. All the pages
are then recomputed at once on the next requests (a stampede). Delete the keys you own instead,
or bump a version in them.
"""
    bad_example = {
        "blog/signals.py": """from django.core.cache import cache
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Post


@receiver(post_save, sender=Post)
def refresh_post_cache(sender, instance, **kwargs):
    cache.clear()  # expect: CL605
""",
        "blog/maintenance.py": """from django.core.cache import cache


class CacheTools:
    def setup_cache(self):
        # Not a test hook: this runs wherever the app calls it.
        cache.clear()  # expect: CL605
""",
    }
    good_example = {
        "blog/signals.py": """from django.core.cache import cache
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Post


@receiver(post_save, sender=Post)
def refresh_post_cache(sender, instance, **kwargs):
    cache.delete_many(["blog:top_tags:v1", f"blog:post:v1:{instance.pk}"])
""",
        "blog/tests/test_signals.py": """from django.core.cache import cache


def setup_function():
    cache.clear()
""",
        "blog/utils.py": """from django.core.cache import cache
from django.test import TestCase


class CacheResetTestCase(TestCase):
    # A test base class shipped with the app: never runs in a request.
    def reset(self):
        cache.clear()


def tearDownModule():
    cache.clear()
""",
        "blog/testing/factories.py": """from django.core.cache import cache


def fresh_cache():
    cache.clear()
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for facts, function in project.functions():
            if project.is_test_code(facts) or is_command_or_migration(facts.path):
                continue
            for call in app_calls(function):
                if call.method not in CLEAR_METHODS or call.debug_only:
                    continue
                definitions = _definitions(project, call.alias)
                if definitions and all(backend in PROCESS_LOCAL_BACKENDS for backend, _ in definitions):
                    continue
                shared = [(b, where) for b, where in definitions if b and b not in PROCESS_LOCAL_BACKENDS]
                related = [
                    Evidence(location, f"the `{call.alias}` cache is `{backend.rsplit('.', 1)[-1]}` here")
                    for backend, location in shared[:1]
                ]
                yield self.finding(
                    Location(facts.path, call.span),
                    f"`{receiver(call)}.{call.method}()` flushes the whole cache database: other apps' "
                    "keys, cached sessions and counters go too, and every page is recomputed at once",
                    hint="delete the keys this code owns (`cache.delete_many([...])`), or put a version "
                    "in them and bump it",
                    related=related,
                )


def _definitions(project: ProjectModel, alias: str | None) -> list[tuple[str, Location]]:
    """(backend, where) of ``alias`` in every settings module that defines ``CACHES``; an empty
    backend when it is not a literal. Empty when no module defines it or the alias is unknown."""
    if alias is None:
        return []
    found: list[tuple[str, Location]] = []
    for module in project.settings_modules:
        caches = module.value("CACHES")
        fallback = module.location_of("CACHES")
        if fallback is None:
            continue
        if not isinstance(caches, dict):
            return []  # not evaluated: unknown
        entry = caches.get(alias)
        backend = entry.get("BACKEND") if isinstance(entry, dict) else None
        location = location_in_dict(caches, alias, fallback)
        if location not in [where for _, where in found]:
            found.append((backend if isinstance(backend, str) else "", location))
    return found
