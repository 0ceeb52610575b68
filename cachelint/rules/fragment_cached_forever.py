from __future__ import annotations

from collections.abc import Iterator

from cachelint.finding import Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register


@register
class FragmentCachedForever(Rule):
    code = "CL206"
    slug = "fragment-cached-forever"
    severity = Severity.WARNING
    default_enabled = False
    summary = "`{% cache None ... %}` never expires"
    tags = ("correctness",)
    what_it_does = """
Flags `{% cache None name %}`: a fragment cached with no expiry.
"""
    why_is_this_bad = """
The fragment stays until the cache is flushed or evicts it. Any data in it goes stale, and a
markup change after a deploy is never picked up unless the fragment name is versioned and bumped.
"""
    bad_example = {
        "templates/footer.html": """{% load cache %}
{% cache None footer_v1 %}  {# expect: CL206 #}
<footer>...</footer>
{% endcache %}
""",
    }
    good_example = {
        "templates/footer.html": """{% load cache %}
{% cache 86400 footer_v1 %}
<footer>...</footer>
{% endcache %}
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for path, template in project.templates_by_path.items():
            for block in template.caches:
                if block.timeout == "None":
                    yield self.finding(
                        Location(path, block.span),
                        f"fragment `{block.fragment}` is cached with no expiry",
                        hint="give it a timeout in seconds, e.g. `{% cache 86400 ... %}`",
                    )
