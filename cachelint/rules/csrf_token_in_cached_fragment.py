from __future__ import annotations

from collections.abc import Iterator

from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register


@register
class CsrfTokenInCachedFragment(Rule):
    code = "CL203"
    slug = "csrf-token-in-cached-fragment"
    severity = Severity.ERROR
    summary = "`{% csrf_token %}` inside a `{% cache %}` block freezes one visitor's token"
    tags = ("correctness", "security")
    security_severity = 5.3
    cwe = (352,)
    what_it_does = """
Flags `{% csrf_token %}` or `{{ csrf_token }}` inside a `{% cache %}` block, directly or through
a literal `{% include %}` in the block (reported at the include, with the token as evidence).
"""
    why_is_this_bad = """
The cached fragment keeps the token of the visitor who rendered it first. Everyone else posts
that token with their own CSRF cookie, and Django rejects the form ("CSRF verification
failed"). Varying the fragment by user does not help visitors who are not logged in.
"""
    bad_example = {
        "templates/newsletter.html": """{% load cache %}
{% cache 3600 newsletter_form_v1 %}
<form method="post">{% csrf_token %}  {# expect: CL203 #}
  <input name="email">
</form>
{% endcache %}
""",
    }
    good_example = {
        "templates/newsletter.html": """{% load cache %}
<form method="post">{% csrf_token %}
  {% cache 3600 newsletter_intro_v1 %}<p>Monthly news, no spam.</p>{% endcache %}
  <input name="email">
</form>
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for path, template in project.templates_by_path.items():
            for use in template.uses:
                if use.kind == "csrf_token" and use.cache is not None:
                    block = template.caches[use.cache]
                    yield self.finding(
                        Location(path, use.span),
                        f"CSRF token inside the cached fragment `{block.fragment}`: every visitor "
                        "gets the first visitor's token and their form posts fail",
                        hint="move `{% csrf_token %}` out of the `{% cache %}` block",
                        related=[Evidence(Location(path, block.span), "fragment cached here")],
                    )
            for include in template.includes:
                if include.cache is None:
                    continue
                token = next((r for r in project.rendered_uses(include.name) if r.kind == "csrf_token"), None)
                if token is None:
                    continue
                block = template.caches[include.cache]
                yield self.finding(
                    Location(path, include.span),
                    f"`{include.name}` renders a CSRF token inside the cached fragment "
                    f"`{block.fragment}`: every visitor gets the first visitor's token",
                    hint="move the include (or its form) out of the `{% cache %}` block",
                    related=[
                        Evidence(Location(path, block.span), "fragment cached here"),
                        *token.via,
                        Evidence(token.location, "CSRF token here"),
                    ],
                )
