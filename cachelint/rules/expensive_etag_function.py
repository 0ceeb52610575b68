from __future__ import annotations

from collections.abc import Iterator

from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import CONDITIONAL, ProjectModel
from cachelint.registry import Rule, register

# Calls that evaluate a whole queryset or render: what a cheap ETag function must not do.
MATERIALIZING_BUILTINS = frozenset({"list", "len", "sorted", "sum", "tuple", "set"})
MATERIALIZING_METHODS = (".all", ".count", ".values", ".values_list", ".iterator")
RENDERERS = frozenset(
    {
        "django.template.loader.render_to_string",
        "django.template.loader.get_template",
        "django.shortcuts.render",
    }
)


@register
class ExpensiveEtagFunction(Rule):
    code = "CL401"
    slug = "expensive-etag-function"
    severity = Severity.WARNING
    default_enabled = False
    file_tokens = (b"decorators.http",)  # every etag/last_modified/condition, cached or not
    summary = "The function given to `etag`/`last_modified`/`condition` does expensive work"
    tags = ("performance",)
    what_it_does = """
Flags the project function passed to `etag`, `last_modified` or `condition` when it evaluates
whole querysets (`list()`, `len()`, `sorted()`, `.all()`, `.count()`, `.values()` on a manager)
or renders templates. A single `.latest()`, `.first()`, `aggregate()` or a cache read is fine.
"""
    why_is_this_bad = """
The function runs on every request, before the view, to decide whether a 304 is possible. If it
costs as much as rendering the page, conditional requests save bandwidth but no server time.
"""
    bad_example = {
        "blog/views.py": """from django.shortcuts import render
from django.views.decorators.http import etag

from blog.models import Post


def posts_etag(request):
    return str(len(list(Post.objects.all())))  # expect: CL401


@etag(posts_etag)
def post_list(request):
    return render(request, "blog/list.html", {"posts": Post.objects.all()})
""",
    }
    good_example = {
        "blog/views.py": """from django.shortcuts import render
from django.views.decorators.http import etag

from blog.models import Post


def posts_etag(request):
    latest = Post.objects.only("updated").latest("updated")
    return latest.updated.isoformat()


@etag(posts_etag)
def post_list(request):
    return render(request, "blog/list.html", {"posts": Post.objects.all()})
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for view in project.views:
            for wrapper in view.wrappers(CONDITIONAL):
                assert wrapper.call is not None
                for ref in wrapper.call.refs:
                    target = project.find_function(ref)
                    if target is None:
                        continue
                    facts, function = target
                    for called, span in function.calls:
                        if _expensive(called):
                            short = called.rsplit(".", 1)[-1]
                            yield self.finding(
                                Location(facts.path, span),
                                f"`{function.name}` runs on every request for `{wrapper.call.text}` "
                                f"but calls `{short}()`, which evaluates a whole queryset or renders",
                                hint="compute the ETag/date from one cheap query (`.latest()`, "
                                "`aggregate(Max(...))`) or a cached value",
                                related=[
                                    Evidence(wrapper.location, "used as a conditional-request function here")
                                ],
                            )
                            break


def _expensive(called: str) -> bool:
    return called in MATERIALIZING_BUILTINS or called in RENDERERS or called.endswith(MATERIALIZING_METHODS)
