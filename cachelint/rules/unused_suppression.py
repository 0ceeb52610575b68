from __future__ import annotations

from collections.abc import Iterator

from cachelint.finding import Finding, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register


@register
class UnusedSuppression(Rule):
    code = "CL002"
    slug = "unused-suppression"
    severity = Severity.WARNING
    default_enabled = False
    summary = "A `cachelint: ignore[...]` or `noqa: CL...` comment that suppresses nothing"
    tags = ("maintainability",)
    what_it_does = """
Reports an inline suppression (`# noqa: CL101`, `# cachelint: ignore[CL101]`,
`{# noqa: CL202 #}`, a `{# cachelint:off CL202 #}` region) naming an enabled rule that had no
finding to suppress there. Codes of rules that are not enabled in this run are not reported.
"""
    why_is_this_bad = """
A stale suppression hides the next real finding on that line: after the code changes, a new
leak there would be silenced without anyone deciding so.
"""
    bad_example = {
        "app/views.py": """from django.shortcuts import render
from django.views.decorators.cache import cache_page


@cache_page(60)  # noqa: CL102  # expect: CL002
def about(request):
    return render(request, "about.html")
""",
    }
    good_example = {
        "app/views.py": """from django.shortcuts import render
from django.views.decorators.cache import cache_page


@cache_page(60)
def about(request):
    return render(request, "about.html")
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        # Computed by the engine after suppressions are applied: it needs every other finding.
        return iter(())
