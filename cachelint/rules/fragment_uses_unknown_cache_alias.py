from __future__ import annotations

from collections.abc import Iterator

from cachelint.facts.values import UNKNOWN
from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register


@register
class FragmentUsesUnknownCacheAlias(Rule):
    code = "CL205"
    slug = "fragment-uses-unknown-cache-alias"
    severity = Severity.ERROR
    summary = '`{% cache ... using="alias" %}` names a cache that no settings module defines'
    tags = ("correctness",)
    what_it_does = """
Flags `{% cache ... using="alias" %}` when no settings module defines that alias in `CACHES`.
It only runs when at least one `CACHES` was found and every `CACHES` found could be evaluated.
"""
    why_is_this_bad = """
Rendering the template raises `InvalidCacheBackendError` (a server error) as soon as the
fragment is reached, typically only in the environment whose settings lack the alias.
"""
    bad_example = {
        "mysite/settings.py": """CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
""",
        "templates/footer.html": """{% load cache %}
{% cache 600 footer_v1 using="fragments" %}  {# expect: CL205 #}
<footer>...</footer>
{% endcache %}
""",
    }
    good_example = {
        "mysite/settings.py": """CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "fragments": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}
""",
        "templates/footer.html": """{% load cache %}
{% cache 600 footer_v1 using="fragments" %}
<footer>...</footer>
{% endcache %}
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        aliases: set[str] = set()
        found: list[Location] = []
        for module in project.settings_modules:
            caches = module.value("CACHES")
            if caches is None:
                continue
            if caches is UNKNOWN or not isinstance(caches, dict):
                return  # an alias may hide in what cannot be evaluated
            aliases.update(k for k in caches if isinstance(k, str))
            location = module.location_of("CACHES")
            if location is not None and location not in found:
                found.append(location)
        if not found:
            return
        for path, template in project.templates_by_path.items():
            for block in template.caches:
                if block.using is None or block.using in aliases:
                    continue
                yield self.finding(
                    Location(path, block.span),
                    f"cache alias `{block.using}` is not defined in CACHES (defined: "
                    f"{', '.join(sorted(aliases)) or 'none'}): rendering this fragment raises "
                    "InvalidCacheBackendError",
                    hint=f'add "{block.using}" to CACHES, or use one of the defined aliases',
                    related=[Evidence(location, "CACHES defined here") for location in found[:3]],
                )
