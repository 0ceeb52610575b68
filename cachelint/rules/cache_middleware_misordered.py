from __future__ import annotations

from collections.abc import Iterator

from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel, SettingsModule
from cachelint.registry import Rule, register

UPDATE = "django.middleware.cache.UpdateCacheMiddleware"
FETCH = "django.middleware.cache.FetchFromCacheMiddleware"
# Middleware that add Vary headers or cookies to the response (Django's own).
VARYING = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
)


@register
class CacheMiddlewareMisordered(Rule):
    code = "CL107"
    slug = "cache-middleware-misordered"
    severity = Severity.ERROR
    summary = "Per-site cache middleware in the wrong place in `MIDDLEWARE` caches personal pages"
    tags = ("security", "privacy")
    security_severity = 7.5
    cwe = (524,)
    what_it_does = """
Checks `MIDDLEWARE` (or, when a module does not set it, the pre-Django-1.10
`MIDDLEWARE_CLASSES`) in each settings module: `UpdateCacheMiddleware` must come before every
middleware that adds a `Vary` header or a cookie (`SessionMiddleware`, `LocaleMiddleware`,
`GZipMiddleware`, `CsrfViewMiddleware`, `AuthenticationMiddleware`, `MessageMiddleware`), and
`FetchFromCacheMiddleware` after all of them; a settings module with only one of the pair is
flagged too. `CacheMiddleware` alone is fine.
"""
    why_is_this_bad = """
Responses pass through middleware bottom-up. If `UpdateCacheMiddleware` sits below
`SessionMiddleware`, it stores the page before `Vary: Cookie` is added, so one visitor's page is
served to everyone. If `FetchFromCacheMiddleware` runs before those middleware, it looks up the
cache without the headers the entry varies on. Half a pair either never stores or never serves.
"""
    bad_example = {
        "mysite/settings.py": """MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.cache.UpdateCacheMiddleware",  # expect: CL107
    "django.middleware.common.CommonMiddleware",
    "django.middleware.cache.FetchFromCacheMiddleware",  # expect: CL107
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
""",
    }
    good_example = {
        "mysite/settings.py": """MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.cache.UpdateCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.cache.FetchFromCacheMiddleware",
]
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        seen: set[Location] = set()
        for module in project.settings_modules:
            for finding in self._check_module(module):
                if finding.location not in seen:
                    seen.add(finding.location)
                    yield finding

    def _check_module(self, module: SettingsModule) -> Iterator[Finding]:
        middleware = module.middleware()
        if not isinstance(middleware, list | tuple) or not all(isinstance(m, str) for m in middleware):
            return
        fallback = module.location_of(module.middleware_setting) or Location(module.path)

        def where(index: int) -> Location:
            located = getattr(middleware, "location", None)
            return (located(index) if located else None) or fallback

        update = middleware.index(UPDATE) if UPDATE in middleware else None
        fetch = middleware.index(FETCH) if FETCH in middleware else None
        if (update is None) != (fetch is None):
            present, missing = (update, FETCH) if update is not None else (fetch, UPDATE)
            assert present is not None
            yield self.finding(
                where(present),
                f"`{middleware[present].rsplit('.', 1)[-1]}` without `{missing.rsplit('.', 1)[-1]}`: "
                "the per-site cache needs both (or `CacheMiddleware` alone)",
                hint=f"add `{missing}` (Update first in MIDDLEWARE, Fetch last)",
            )
            return
        if update is None or fetch is None:
            return
        varying = [(i, m) for i, m in enumerate(middleware) if m in VARYING]
        above_update = [(i, m) for i, m in varying if i < update]
        if above_update:
            i, name = above_update[0]
            yield self.finding(
                where(update),
                f"`UpdateCacheMiddleware` comes after `{name.rsplit('.', 1)[-1]}`: it stores "
                "responses before that middleware adds its Vary header or cookie",
                hint="put `UpdateCacheMiddleware` first in MIDDLEWARE",
                related=[
                    Evidence(where(i), "adds Vary or a cookie, but runs after the cache stores the page")
                ],
            )
        below_fetch = [(i, m) for i, m in varying if i > fetch]
        if below_fetch:
            i, name = below_fetch[0]
            yield self.finding(
                where(fetch),
                f"`FetchFromCacheMiddleware` comes before `{name.rsplit('.', 1)[-1]}`: it serves "
                "cached pages without the headers the entry varies on",
                hint="put `FetchFromCacheMiddleware` last in MIDDLEWARE",
                related=[Evidence(where(i), "adds Vary or a cookie here")],
            )
