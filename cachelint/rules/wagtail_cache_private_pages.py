from __future__ import annotations

from collections.abc import Iterator

from cachelint.facts.values import UNKNOWN
from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register
from cachelint.rules.cms_page_cache_with_csrf import deployed_modules, item_location

WAGTAIL_PAGES = frozenset({"wagtail.models.Page", "wagtail.core.models.Page", "wagtail.wagtailcore.models.Page"})
WAGTAIL_SERVE = frozenset({"wagtail.views.serve", "wagtail.core.views.serve", "wagtail.wagtailcore.views.serve"})
MIXIN = "wagtailcache.cache.WagtailCacheMixin"
MIDDLEWARE = frozenset({"wagtailcache.cache.UpdateCacheMiddleware", "wagtailcache.cache.FetchFromCacheMiddleware"})
CACHE_PAGE = "wagtailcache.cache.cache_page"


def wagtail_cache_enabled(project: ProjectModel) -> Evidence | None:
    """Where wagtail-cache is turned on for Wagtail's pages: its middleware in a deployed
    settings module (unless ``WAGTAIL_CACHE = False`` there), or its ``cache_page`` around
    Wagtail's ``serve`` view in a URLconf."""
    for module in deployed_modules(project):
        if module.value("WAGTAIL_CACHE") is False or module.value("WAGTAIL_CACHE") is UNKNOWN:
            continue
        middleware = module.value("MIDDLEWARE")
        if not isinstance(middleware, list | tuple):
            continue
        for index, item in enumerate(middleware):
            if item in MIDDLEWARE:
                location = item_location(middleware, index, module.location_of("MIDDLEWARE"))
                if location is not None:
                    return Evidence(location, "wagtail-cache's middleware caches every page here")
    for facts in project.python.values():
        for route in facts.views.routes:
            if route.view in WAGTAIL_SERVE and any(w.name == CACHE_PAGE for w in route.wrappers):
                return Evidence(Location(facts.path, route.span), "wagtail-cache's `cache_page` wraps Wagtail's `serve` here")
    return None


@register
class WagtailCachePrivatePages(Rule):
    code = "CL209"
    slug = "wagtail-cache-private-pages"
    severity = Severity.ERROR
    summary = "wagtail-cache is on while a page model does not inherit `WagtailCacheMixin` first"
    tags = ("security",)
    security_severity = 6.5
    what_it_does = """
Flags a Wagtail page model (a project class deriving from Wagtail's `Page`, reported where no
project class derives from it) whose bases do not put wagtail-cache's `WagtailCacheMixin`
before `Page`, when wagtail-cache caches Wagtail's pages: its `UpdateCacheMiddleware` /
`FetchFromCacheMiddleware` in `MIDDLEWARE` of a deployed settings module (not switched off with
`WAGTAIL_CACHE = False`), or its `cache_page` wrapping Wagtail's `serve` view in a URLconf.
The mixin may come from a project base class. A mixin listed after `Page` is flagged too:
`Page.serve` comes first in the MRO and the mixin's `serve` never runs.
"""
    why_is_this_bad = """
wagtail-cache stores a page the first time it is served and then answers every request for
that URL from the cache. Its documentation says pages with privacy restrictions (a password,
login required, a group) must not be cached and that `WagtailCacheMixin` is what handles
them: the mixin marks restricted pages `Cache-Control: private`, which wagtail-cache never
stores. Without it, a password-protected page served once to someone who knew the password
(anonymous, with a session) can be stored and served to the next visitor without asking.
"""
    bad_example = {
        "mysite/settings.py": """INSTALLED_APPS = ["wagtail", "wagtailcache"]
MIDDLEWARE = [
    "wagtailcache.cache.UpdateCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "wagtailcache.cache.FetchFromCacheMiddleware",
]
""",
        "home/models.py": """from wagtail.models import Page


class ReportPage(Page):  # expect: CL209
    pass
""",
    }
    good_example = {
        "mysite/settings.py": """INSTALLED_APPS = ["wagtail", "wagtailcache"]
MIDDLEWARE = [
    "wagtailcache.cache.UpdateCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "wagtailcache.cache.FetchFromCacheMiddleware",
]
""",
        "home/models.py": """from wagtail.models import Page
from wagtailcache.cache import WagtailCacheMixin


class ReportPage(WagtailCacheMixin, Page):
    pass
""",
    }

    def wanted_modules(self, project: ProjectModel) -> set[str]:
        """With wagtail-cache on, the modules that import Wagtail's ``Page`` or a project page
        model: the pre-filter skips model modules."""
        if wagtail_cache_enabled(project) is None:
            return set()
        pages = {*WAGTAIL_PAGES, "wagtail.models", "wagtail.core.models", *self._page_models(project)}
        return {module for module, skipped in project.skipped.items() if skipped.imported() & pages}

    @staticmethod
    def _page_models(project: ProjectModel) -> dict[str, tuple[str, ...]]:
        """Project classes deriving from Wagtail's Page, with their MRO."""
        found = {}
        for facts in project.python.values():
            for cls in facts.views.classes:
                name = f"{facts.module}.{cls.name}"
                mro = project.linearization(name)
                if WAGTAIL_PAGES & set(mro):
                    found[name] = mro
        return found

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        enabled = wagtail_cache_enabled(project)
        if enabled is None:
            return
        pages = self._page_models(project)
        bases = {base for facts in project.python.values() for cls in facts.views.classes for base in cls.bases}
        for name, mro in sorted(pages.items()):
            if name in bases:
                continue  # a base of other page models: those are reported
            page_index = min(mro.index(p) for p in WAGTAIL_PAGES if p in mro)
            if MIXIN in mro[:page_index]:
                continue
            target = project.find_class(name)
            if target is None:
                continue
            facts, cls = target
            if MIXIN in mro:
                message = (
                    f"page model `{cls.name}` lists `WagtailCacheMixin` after `Page`: `Page.serve` "
                    "comes first, so the mixin never marks private or password-protected pages "
                    "uncacheable and wagtail-cache stores them"
                )
            else:
                message = (
                    f"page model `{cls.name}` does not inherit `WagtailCacheMixin` while wagtail-cache "
                    "caches pages: a private or password-protected page of this type is cached and "
                    "served to visitors who are not allowed to see it"
                )
            yield self.finding(
                Location(facts.path, cls.span),
                message,
                hint="put `WagtailCacheMixin` first in the bases: `class MyPage(WagtailCacheMixin, Page)`",
                related=[enabled],
            )
