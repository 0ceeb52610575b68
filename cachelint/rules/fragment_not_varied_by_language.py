from __future__ import annotations

from collections.abc import Iterator

from cachelint.facts.templates import TRANSLATION_TAGS
from cachelint.finding import Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register


@register
class FragmentNotVariedByLanguage(Rule):
    code = "CL204"
    slug = "fragment-not-varied-by-language"
    severity = Severity.WARNING
    summary = "Translated `{% cache %}` fragment not varied by language"
    tags = ("correctness", "i18n")
    what_it_does = """
Flags a `{% cache %}` block that contains translation tags (`trans`, `translate`,
`blocktrans`, `blocktranslate`, `language`) or prints `LANGUAGE_CODE`, in a project where
the language can differ between requests (`USE_I18N` on, Django's default, and
`LocaleMiddleware` in `MIDDLEWARE`), when no vary-on argument carries the language
(`LANGUAGE_CODE`, `request.LANGUAGE_CODE`, a name bound by `{% get_current_language as ... %}`).
A single-language project (no `LocaleMiddleware`) is never flagged.
"""
    why_is_this_bad = """
Unlike per-view caching, fragment caching does not vary by language on its own: the fragment
is rendered once in the first visitor's language and shown in that language to everyone.
"""
    bad_example = {
        "mysite/settings.py": """MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
]
""",
        "templates/menu.html": """{% load cache i18n %}
{% cache 3600 menu_v1 %}  {# expect: CL204 #}
  <a href="/">{% translate "Home" %}</a>
{% endcache %}
""",
    }
    good_example = {
        "mysite/settings.py": """MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
]
""",
        "templates/menu.html": """{% load cache i18n %}
{% get_current_language as LANGUAGE_CODE %}
{% cache 3600 menu_v1 LANGUAGE_CODE %}
  <a href="/">{% translate "Home" %}</a>
{% endcache %}
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        language = project.language_varies
        if not language:
            return
        for path, template in project.templates_by_path.items():
            for index, block in enumerate(template.caches):
                if block.varies_by_language:
                    continue
                tags = sorted(block.tags_inside & TRANSLATION_TAGS)
                prints_language = any(
                    u.cache == index and u.expression.split(".")[-1] == "LANGUAGE_CODE" for u in template.uses
                )
                if not tags and not prints_language:
                    continue
                what = f"`{{% {tags[0]} %}}`" if tags else "`LANGUAGE_CODE`"
                yield self.finding(
                    Location(path, block.span),
                    f"fragment `{block.fragment}` contains {what} but is not varied by language: it "
                    "is shown in the first visitor's language to everyone",
                    hint="add the language to the vary-on arguments: `{% get_current_language as "
                    f"LANGUAGE_CODE %}}{{% cache {block.timeout} {block.fragment} LANGUAGE_CODE %}}`",
                    related=language[:1],
                )
