from __future__ import annotations

from collections.abc import Iterator

from cachelint.finding import Finding, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register


@register
class ParseError(Rule):
    code = "CL001"
    slug = "parse-error"
    severity = Severity.ERROR
    summary = "A file could not be read or parsed, so it was not checked"
    tags = ("correctness",)
    what_it_does = """
Reports a Python file that libcst cannot parse, a template whose block structure is broken
(a `{% cache %}` without `{% endcache %}`, an `{% endblock %}` that closes nothing), a file that
cannot be decoded, read, or is larger than `max-file-size`. The rest of the scan goes on.

Only files that can matter are parsed: a Python file that contains none of the tokens the rules
look for (`cache_page`, `cache_control`, `core.cache`, `CACHES = `, ...) and that no parsed code
points at is skipped after a byte search, so its syntax errors are left to your Python linter.
An unexpected error inside cachelint while analysing one file is reported here too (as an
internal error to report), and the rest of the scan goes on.
"""
    why_is_this_bad = """
cachelint cannot see cache decorators or template fragments in a file it cannot parse, so a
leak there would go unreported. Django itself would fail on the same file at import or render
time.
"""
    bad_example = {
        "templates/sidebar.html": """{% load cache %}
{% cache 600 sidebar_v1 %}  {# expect: CL001 #}
  <ul>{% for tag in tags %}<li>{{ tag }}</li>{% endfor %}</ul>
""",
    }
    good_example = {
        "templates/sidebar.html": """{% load cache %}
{% cache 600 sidebar_v1 %}
  <ul>{% for tag in tags %}<li>{{ tag }}</li>{% endfor %}</ul>
{% endcache %}
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for problem in project.problems:
            yield self.finding(problem.location, problem.reason)
