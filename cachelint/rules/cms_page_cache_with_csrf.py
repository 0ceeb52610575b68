from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cachelint.facts.settings import NON_PRODUCTION_NAME
from cachelint.facts.values import UNKNOWN
from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel, SettingsModule
from cachelint.registry import Rule, register


def item_location(value: Any, index: int, fallback: Location | None) -> Location | None:
    """Where item ``index`` of an evaluated settings list was written, else ``fallback``."""
    locate = getattr(value, "location", None)
    found = locate(index) if callable(locate) else None
    return found or fallback


def installed(module: SettingsModule, app: str) -> Evidence | None:
    """Where ``app`` is listed in the module's ``INSTALLED_APPS`` (None: not, or unknown)."""
    apps = module.value("INSTALLED_APPS")
    if not isinstance(apps, list | tuple):
        return None
    for index, item in enumerate(apps):
        if item == app or (isinstance(item, str) and item.startswith(f"{app}.apps.")):
            location = item_location(apps, index, module.location_of("INSTALLED_APPS"))
            return Evidence(location, f"`{app}` is installed here") if location else None
    return None


def deployed_modules(project: ProjectModel) -> Iterator[SettingsModule]:
    """Settings modules that are run as they are: leaves not named for development or tests."""
    for module in project.settings_modules:
        if module.is_leaf and not NON_PRODUCTION_NAME.search(module.module.lower()):
            yield module


@register
class CmsPageCacheWithCsrf(Rule):
    code = "CL208"
    slug = "cms-page-cache-with-csrf"
    severity = Severity.ERROR
    summary = "django CMS caches whole pages while a page template renders `{% csrf_token %}`"
    tags = ("correctness", "security")
    security_severity = 5.3
    what_it_does = """
Flags a `{% csrf_token %}` (or `{{ csrf_token }}`) that a django CMS page template outputs to
anonymous visitors (in the template named in `CMS_TEMPLATES`, or in what it extends or
includes) when django CMS is installed (`"cms"` in `INSTALLED_APPS`) and its page cache is on
(`CMS_PAGE_CACHE` unset, django CMS's default, or `True`). A token inside
`{% if user.is_authenticated %}` is not flagged: the page cache only stores anonymous
visitors' pages. Nor is one in templates that are not CMS page templates.
"""
    why_is_this_bad = """
django CMS stores the whole rendered page of an anonymous visitor and serves the same HTML to
every later anonymous visitor, without running the view or the CSRF middleware again. The
first visitor's CSRF token is frozen into the page: everyone else posts a token that does not
match their own `csrftoken` cookie, and the login form in the header (or the newsletter or
contact form) fails with "CSRF verification failed" until the cache expires.
"""
    bad_example = {
        "mysite/settings.py": """INSTALLED_APPS = ["django.contrib.sessions", "cms", "menus"]
CMS_TEMPLATES = [("page.html", "Page")]
""",
        "mysite/templates/page.html": """{% load cms_tags %}
<form method="post" action="/login/">{% csrf_token %}{# expect: CL208 #}
  <input name="username"><input name="password" type="password">
</form>
{% placeholder "content" %}
""",
    }
    good_example = {
        "mysite/settings.py": """INSTALLED_APPS = ["django.contrib.sessions", "cms", "menus"]
CMS_TEMPLATES = [("page.html", "Page")]
CMS_PAGE_CACHE = False
""",
        "mysite/templates/page.html": """{% load cms_tags %}
<form method="post" action="/login/">{% csrf_token %}
  <input name="username"><input name="password" type="password">
</form>
{% placeholder "content" %}
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        reported: set[Location] = set()
        for module in deployed_modules(project):
            cms = installed(module, "cms")
            if cms is None:
                continue
            page_cache = module.value("CMS_PAGE_CACHE")
            if page_cache is UNKNOWN or (page_cache is not None and page_cache is not True):
                continue
            if page_cache is True:
                where = module.location_of("CMS_PAGE_CACHE")
                cache_evidence = [Evidence(where, "`CMS_PAGE_CACHE = True` here")] if where else []
            else:
                cache_evidence = [Evidence(cms.location, "`CMS_PAGE_CACHE` is not set: the page cache is on")]
            templates = module.value("CMS_TEMPLATES")
            if not isinstance(templates, list | tuple):
                continue
            for index, entry in enumerate(templates):
                name = entry[0] if isinstance(entry, list | tuple) and entry else None
                if not isinstance(name, str):
                    continue
                listed = item_location(templates, index, module.location_of("CMS_TEMPLATES"))
                for rendered in project.rendered_uses(name):
                    if rendered.kind != "csrf_token" or rendered.use.authenticated_only:
                        continue
                    if rendered.location in reported:
                        continue
                    reported.add(rendered.location)
                    related = [Evidence(listed, f"`{name}` is a CMS page template here")] if listed else []
                    related += [*rendered.via, cms, *cache_evidence]
                    yield self.finding(
                        rendered.location,
                        f"django CMS page template `{name}` renders a CSRF token for anonymous "
                        "visitors while the CMS page cache is on: the first visitor's token is "
                        "cached in the page and everyone else's form posts fail",
                        hint="set `CMS_PAGE_CACHE = False`, show the form only to logged-in users, "
                        "or fetch the token with JavaScript from a `never_cache` view",
                        related=related,
                    )
