from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cachelint import django_api as api
from cachelint.cache_users import CACHE_USERS, DRF_THROTTLE_DECORATOR, DRF_THROTTLING, PRESENT, CacheUser
from cachelint.facts.settings import TEST_NAME
from cachelint.facts.values import UNKNOWN, Option
from cachelint.finding import Evidence, Finding, Location, Severity, Span
from cachelint.project import CACHE_PAGE, ProjectModel, SettingsModule, location_in_dict
from cachelint.registry import Rule, register
from cachelint.settings_queries import (
    deployable_production,
    override_evidence,
    per_branch,
    production_evidence,
)


@register
class ProcessLocalCacheInProduction(Rule):
    code = "CL302"
    slug = "process-local-cache-in-production"
    severity = Severity.WARNING
    summary = "Production uses a per-process (or no) cache, so workers do not share cached data"
    tags = ("reliability", "correctness")
    # DRF views that throttle must be parsed even when nothing cache-related points at them.
    file_tokens = (b"throttle_classes",)
    what_it_does = """
Flags a production settings module whose `default` cache is `LocMemCache`, `FileBasedCache` or
`DummyCache` (reported where that backend is written, also when it comes from a base module
that the production module star-imports without overriding `CACHES`), and a production
settings module with no `CACHES` at all, where Django falls back to a per-process
`LocMemCache`, while the project uses the cache: `cache_page`, the per-site cache middleware,
the low-level cache API (outside tests), DRF throttling (`DEFAULT_THROTTLE_CLASSES` in the
`REST_FRAMEWORK` that the module ends up with, star-imported bases and later
`REST_FRAMEWORK[...] = ...` changes included, or `throttle_classes` on a view), cache-backed
sessions (`SESSION_ENGINE` `cache` or `cached_db`), or an installed app that keeps its state in
the cache: django-ratelimit (unless `RATELIMIT_ENABLE = False`), django-ratelimit-backend,
django-axes with its cache handler (`AXES_HANDLER`), django-allauth's login attempt counting
and rate limits (unless `ACCOUNT_RATE_LIMITS = False`), django-cachalot, django-constance's
database backend with `CONSTANCE_DATABASE_CACHE_BACKEND`, django-q with the `django_redis`
broker, and django-rq queues with `USE_REDIS_CACHE`. The evidence names the package and what it
keeps in the cache. django-cacheops, huey and Celery are not on that list: they talk to Redis
themselves, not through `CACHES`.

Without deployment evidence (below), a module is production when its name says so (`prod`,
`production`, `live`, `deploy`) or it sets `DEBUG = False`; modules whose dotted name says development, tests or CI anywhere (`dev`,
`local`, `test`, `tests.settings`, `testsettings`, `pytest`, `unittests`, `ci`, `travis`,
`circleci`, `github`, `gitlab`, `jenkins`) are skipped. A backend that an `if` on the
environment selects, or that an environment variable's default names (`env.cache_url(
"CACHE_URL", default="locmem://")`), is reported for that case, worded "when CACHE_URL is not
set"; the branch a true `DEBUG` selects is not production's. With django-configurations, the
classes named `Production`, `Prod`, `Live` or `Staging` are production.
A missing `CACHES` is only reported when cachelint read the whole module: it defines
`INSTALLED_APPS` and every module it star-imports is part of the scan (not the case with
django-split-settings' `include()` or a star import of a file outside the project).
Which settings run in production is read from the project's own files first: a module that a
deployment file names (`DJANGO_SETTINGS_MODULE` in a Dockerfile, Procfile, compose or
Kubernetes/Helm file, `.env` file or start script) is production whatever its name, and then
the others are not; the default of `wsgi.py`/`asgi.py`/`celery.py` counts next; a module that
only pytest, tox or CI configuration (or a file named for development) names is not
production, nor is the example or test project of a packaged reusable app (`testproject/`,
`example*/`, `sandbox/`, `demo*/`). `cachelint check --show-settings` shows each verdict and
the file line behind it.
"""
    why_is_this_bad = """
Production runs several worker processes, often on several hosts. With a process-local cache
each one has its own copy: `cache.delete()` in one worker leaves stale entries in the others,
throttling and rate limits count per process (so the real limit is N times higher), cached
sessions vanish when a request lands on another worker, and every worker fills its own cache.
`DummyCache` stores nothing, so all of these silently do nothing at all.
"""
    bad_example = {
        "mysite/settings/production.py": """DEBUG = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},  # expect: CL302
}
""",
    }
    good_example = {
        "mysite/settings/production.py": """DEBUG = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": "cache.internal.example.com:11211",
        "KEY_PREFIX": "mysite",
    },
}
""",
        "mysite/settings/dev.py": """DEBUG = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        seen: set[Location] = set()
        usage: list[Evidence] | None = None
        for module in project.settings_modules:
            if not deployable_production(module):
                continue
            if "CACHES" in module.namespace:
                found = list(self._check_backend(module))
            else:
                if usage is None:
                    usage = _project_cache_usage(project)
                found = [self._check_missing(project, module, usage)]
            for finding in found:
                if finding is not None and finding.location not in seen:
                    seen.add(finding.location)
                    yield finding

    def _check_backend(self, module: SettingsModule) -> Iterator[Finding]:
        # One check per value CACHES can have: an ``if`` on the environment gives one per branch.
        for location, backend, when in per_branch(module.options("CACHES"), lambda o: self._backend(module, o)):
            yield self._report(module, location, backend, when)

    def _backend(self, module: SettingsModule, option: Option) -> tuple[Location, str, str] | None:
        caches = option.value
        if not isinstance(caches, dict):
            return None
        conf = caches.get(api.DEFAULT_CACHE_ALIAS)
        if not isinstance(conf, dict):
            return None
        backend = conf.get("BACKEND")
        if not isinstance(backend, str) or backend not in api.PROCESS_LOCAL_CACHE_BACKENDS:
            return None
        fallback = location_in_dict(
            caches, api.DEFAULT_CACHE_ALIAS, module.location_of("CACHES") or Location(module.path)
        )
        return location_in_dict(conf, "BACKEND", fallback), backend, backend

    def _report(self, module: SettingsModule, location: Location, backend: str, when: str) -> Finding:
        effect = api.PROCESS_LOCAL_CACHE_BACKENDS[backend]
        related = [production_evidence(module)]
        if location.path != module.path:
            related.append(Evidence(Location(module.path), f"`{module.module}` star-imports it and keeps it"))
        related.extend(override_evidence(module))
        short = backend.rsplit(".", 1)[-1]
        consequence = {
            "DummyCache": "cached views, throttling and rate limits silently do nothing",
            "FileBasedCache": "invalidation, throttling and rate limits do not hold across servers",
        }.get(short, "invalidation, throttling and rate limits do not hold across workers")
        return self.finding(
            location,
            f"the default cache of production settings `{module.module}` is `{short}`"
            f"{' ' + when if when else ''}, which {effect}: {consequence}",
            hint="use a shared cache server in production (Redis or Memcached)",
            related=related,
        )

    def _check_missing(
        self, project: ProjectModel, module: SettingsModule, project_usage: list[Evidence]
    ) -> Finding | None:
        if not _fully_read(project, module):
            return None  # CACHES may hide in what cachelint could not read
        evidence = _module_cache_usage(module) + project_usage
        if not evidence:
            return None
        debug = module.namespace.get("DEBUG")
        if debug is not None and debug.path == module.path and debug.value is False:
            location = Location(module.path, debug.span)
        else:
            location = Location(module.path, Span(1))
        return self.finding(
            location,
            f"production settings `{module.module}` define no `CACHES`, so Django uses a "
            "per-process `LocMemCache` while the project relies on the cache: every worker keeps "
            "its own copy, so invalidation, throttling and per-site caching misbehave",
            hint='define CACHES["default"] with a shared cache server (Redis or Memcached)',
            related=evidence[:3],
        )


def _fully_read(project: ProjectModel, module: SettingsModule) -> bool:
    """Whether the absence of a setting in ``module`` means something: every module it
    star-imports (transitively) is in the project, and it defines ``INSTALLED_APPS``, which a
    complete settings module always does (django-split-settings' ``include()``, ``exec()`` of
    another file, or a star import of a file outside the scan bind names cachelint cannot see)."""
    if "INSTALLED_APPS" not in module.namespace:
        return False
    # A django-configurations class (``settings.Prod``) is read when its file is.
    start = module.module.rpartition(".")[0] if module.configuration else module.module
    pending, seen = [start], set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        facts = project.modules.get(name)
        if facts is None or facts.settings is None:
            return False
        pending.extend(project.star_imports_of(facts))
    return True


def _module_cache_usage(module: SettingsModule) -> list[Evidence]:
    """Settings of ``module`` that make Django or a package use the default cache."""
    found: list[Evidence] = []
    middleware = module.middleware()
    if isinstance(middleware, list | tuple):
        for index, name in enumerate(middleware):
            if isinstance(name, str) and name in api.SITE_CACHE_MIDDLEWARE:
                located = getattr(middleware, "location", None)
                where = (located(index) if located else None) or module.location_of(module.middleware_setting)
                assert where is not None
                found.append(Evidence(where, f"per-site caching with `{name.rsplit('.', 1)[-1]}` here"))
                break
    framework = module.value("REST_FRAMEWORK")
    if isinstance(framework, dict):
        throttles = framework.get("DEFAULT_THROTTLE_CLASSES")
        if isinstance(throttles, list | tuple) and any(isinstance(t, str) for t in throttles):
            where = location_in_dict(
                framework, "DEFAULT_THROTTLE_CLASSES", module.location_of("REST_FRAMEWORK")
            )  # type: ignore[arg-type]
            found.append(Evidence(where, f"{DRF_THROTTLING} here"))
    for user in CACHE_USERS:
        evidence = _cache_user(module, user)
        if evidence is not None:
            found.append(evidence)
    if not any("django-ratelimit " in e.label for e in found) and module.value("RATELIMIT_ENABLE") is not False:
        for name in sorted(module.namespace):
            if name.startswith("RATELIMIT_"):
                where = module.location_of(name)
                assert where is not None
                found.append(Evidence(where, "django-ratelimit counts requests in the cache (configured here)"))
                break
    return found


def _setting(module: SettingsModule, path: str) -> list[Any]:
    """The values at a setting path (``RQ_QUEUES.*.USE_REDIS_CACHE``); [] when absent or unknown."""
    name, *keys = path.split(".")
    values = [module.value(name)] if name in module.namespace else []
    for key in keys:
        step: list[Any] = []
        for value in values:
            if isinstance(value, dict):
                step.extend(value.values() if key == "*" else [value[key]] if key in value else [])
        values = step
    return [v for v in values if v is not None and v is not UNKNOWN]


def _cache_user(module: SettingsModule, user: CacheUser) -> Evidence | None:
    """Where ``module`` installs or configures ``user``, when all its conditions hold."""
    for path, accepted in user.when:
        values = _setting(module, path)
        if not values or (accepted != PRESENT and not any(_is_one_of(v, accepted) for v in values)):
            return None
    for path, off in user.unless:
        if any(_is_one_of(v, off) for v in _setting(module, path)):
            return None
    if not user.apps:
        where = module.location_of(user.setting)
        return Evidence(where, f"{user.reason} here") if where is not None else None
    apps = module.value("INSTALLED_APPS")
    if not isinstance(apps, list | tuple):
        return None
    for index, app in enumerate(apps):
        if isinstance(app, str) and app in user.apps:
            located = getattr(apps, "location", None)
            where = (located(index) if located else None) or module.location_of("INSTALLED_APPS")
            assert where is not None
            return Evidence(where, f"{user.reason} here")
    return None


def _is_one_of(value: Any, accepted: tuple[object, ...] | str) -> bool:
    """``value`` equals one of ``accepted`` (``False`` is not ``0``)."""
    if accepted == PRESENT:
        return False
    return any(value == a and isinstance(value, bool) == isinstance(a, bool) for a in accepted)


def _project_cache_usage(project: ProjectModel) -> list[Evidence]:
    """The first ``cache_page``, the first low-level cache call and the first DRF view with
    ``throttle_classes`` outside tests, if any (test modules are matched on dotted module names,
    which are relative to the project, unlike display paths)."""
    found: list[Evidence] = []
    for view in project.views:
        wrappers = view.wrappers(CACHE_PAGE)
        if wrappers and not TEST_NAME.search(view.name.rpartition(".")[0]):
            found.append(Evidence(wrappers[0].location, "`cache_page` caches a view here"))
            break
    for facts, function in project.functions():
        if function.cache_calls and not TEST_NAME.search(facts.module):
            call = function.cache_calls[0]
            found.append(Evidence(Location(facts.path, call.span), f"`cache.{call.method}()` is called here"))
            break
    throttled = _throttled_view(project)
    if throttled is not None:
        found.append(throttled)
    return found


def _throttled_view(project: ProjectModel) -> Evidence | None:
    """A view that sets DRF throttles itself: ``throttle_classes = [...]`` on a class (not an
    empty list) or ``@throttle_classes([...])`` on an ``@api_view`` function."""
    for facts in sorted(project.python.values(), key=lambda f: f.path):
        if TEST_NAME.search(facts.module):
            continue
        for cls in facts.views.classes:
            attr = cls.attribute("throttle_classes")
            if attr is not None and attr.names:
                return Evidence(
                    Location(facts.path, attr.span), f"{DRF_THROTTLING} for `{cls.name}` here"
                )
        for function in facts.views.functions:
            call = next((c for c in function.decorators if c.name in DRF_THROTTLE_DECORATOR), None)
            if call is not None and call.names:
                return Evidence(
                    Location(facts.path, call.span), f"{DRF_THROTTLING} for `{function.name}` here"
                )
    return None
