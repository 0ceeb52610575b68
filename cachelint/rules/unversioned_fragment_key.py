from __future__ import annotations

from collections.abc import Iterator

from cachelint.facts.templates import looks_like_variable
from cachelint.finding import Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register


@register
class UnversionedFragmentKey(Rule):
    code = "CL201"
    slug = "unversioned-fragment-key"
    severity = Severity.WARNING
    summary = "`{% cache %}` fragment name without a version marker serves stale HTML after a deploy"
    tags = ("correctness",)
    what_it_does = """
Flags `{% cache timeout name ... %}` whose fragment name carries no version marker (`v1`,
`sidebar_v2`, `nav.v3`) and none of whose vary-on arguments is a variable named like
`*version*`. The accepted pattern is configurable (`fragment-version-pattern`).

Fragments with a literal timeout below 300 seconds (`{% cache 60 sidebar %}`) are skipped: after
a deploy their old HTML lasts a few minutes at most. The threshold is configurable
(`fragment-min-timeout = 300` in `[tool.cachelint]`; 0 reports every fragment). A timeout
given by a variable is not guessed and stays reported.
"""
    why_is_this_bad = """
The cache key is built from the fragment name and the vary-on values only, not from the
template's source. After a deploy that changes the fragment's markup, every server keeps
serving the old HTML (old classes, old links, old scripts) until the entries expire. A version
in the name lets you invalidate them by bumping it.
"""
    bad_example = {
        "templates/base.html": """{% load cache %}
{% cache 3600 sidebar %}  {# expect: CL201 #}
  {% include "sidebar.html" %}
{% endcache %}
{% cache 300 latest_comments %}  {# expect: CL201 #}
  {% include "comments.html" %}
{% endcache %}
""",
    }
    good_example = {
        "templates/base.html": """{% load cache %}
{% cache 3600 sidebar_v2 %}
  {% include "sidebar.html" %}
{% endcache %}
{% cache 3600 footer SITE_VERSION %}
  <footer>...</footer>
{% endcache %}
{% cache 60 latest_comments %}
  {# Cached for a minute: stale markup after a deploy does not outlive it. #}
  {% include "comments.html" %}
{% endcache %}
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        pattern = project.config.fragment_version_re()
        minimum = project.config.fragment_min_timeout
        for path, template in project.templates_by_path.items():
            for block in template.caches:
                seconds = _literal_seconds(block.timeout)
                if seconds is not None and seconds < minimum:
                    continue  # short-lived: stale HTML after a deploy expires on its own
                name = block.fragment
                if name is None or looks_like_variable(name):
                    continue  # a variable-like name is CL207's finding
                if pattern.search(name.strip("\"'")):
                    continue
                if any("version" in arg.lower() for arg in block.vary_on):
                    continue
                yield self.finding(
                    Location(path, block.span),
                    f"fragment `{name}` has no version marker: after a deploy that changes this "
                    "markup, the old HTML is served until the entry expires",
                    hint=f"add a version to the name, e.g. `{name.strip(chr(34) + chr(39))}_v1`, "
                    "and bump it when the fragment changes",
                )


def _literal_seconds(timeout: str) -> int | None:
    """The timeout of ``{% cache 60 ... %}`` (also quoted, ``"60"``) in seconds; None for a variable."""
    text = timeout.strip("\"'")
    return int(text) if text.isdigit() else None
