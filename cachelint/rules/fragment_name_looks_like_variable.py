from __future__ import annotations

from collections.abc import Iterator

from cachelint.facts.templates import looks_like_variable
from cachelint.finding import Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register


@register
class FragmentNameLooksLikeVariable(Rule):
    code = "CL207"
    slug = "fragment-name-looks-like-variable"
    severity = Severity.ERROR
    summary = "`{% cache %}` fragment name is a literal that looks like a variable"
    tags = ("security", "correctness")
    security_severity = 6.5
    cwe = (524,)
    what_it_does = """
Flags `{% cache timeout name ... %}` whose fragment name looks like a variable: a dotted name
such as `user.id` or `request.user.pk` (a versioned literal such as `nav.v3` is not flagged).
"""
    why_is_this_bad = """
Django takes the second argument of `{% cache %}` literally as the fragment's name; only the
arguments after it are resolved and used as vary-on values. `{% cache 500 user.id %}` therefore
caches one fragment named "user.id" for everybody: the variation the author intended does not
happen.
"""
    bad_example = {
        "templates/profile.html": """{% load cache %}
{% cache 500 user.id %}  {# expect: CL207 #}
  {{ bio }}
{% endcache %}
""",
    }
    good_example = {
        "templates/profile.html": """{% load cache %}
{% cache 500 profile_bio_v1 user.id %}
  {{ bio }}
{% endcache %}
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for path, template in project.templates_by_path.items():
            for block in template.caches:
                if block.fragment and looks_like_variable(block.fragment):
                    yield self.finding(
                        Location(path, block.span),
                        f"fragment name `{block.fragment}` is taken literally, not resolved: every "
                        "visitor shares one cache entry",
                        hint=f"name the fragment and vary on the variable: "
                        f"`{{% cache {block.timeout} fragment_v1 {block.fragment} %}}`",
                    )
