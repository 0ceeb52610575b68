from __future__ import annotations

from collections.abc import Iterator

from cachelint.cache_calls import app_calls, receiver
from cachelint.facts.python import PythonFacts
from cachelint.facts.views import FunctionFacts
from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register

SCAN_METHODS = {
    "keys": "runs `KEYS`, which walks every key and blocks Redis for all clients meanwhile",
    "iter_keys": "walks every key of the database with `SCAN`",
    "delete_pattern": "walks every key of the database with `SCAN` to find the matches",
}
VIEW_BASE_SUFFIXES = ("View", "ViewSet")


def _view_like(project: ProjectModel, facts: PythonFacts, class_name: str) -> bool:
    bases = project.class_bases(f"{facts.module}.{class_name}") or []
    return any(base.rsplit(".", 1)[-1].endswith(VIEW_BASE_SUFFIXES) for base in bases)


@register
class RedisKeyScanInRequestPath(Rule):
    code = "CL606"
    slug = "redis-key-scan-in-request-path"
    severity = Severity.WARNING
    summary = "django-redis key scan (`keys`, `iter_keys`, `delete_pattern`) while a request waits"
    tags = ("performance",)
    what_it_does = """
Flags django-redis `cache.keys(...)`, `cache.iter_keys(...)` and `cache.delete_pattern(...)`
(on `django.core.cache.cache` or `caches["alias"]`) in code that runs on a request: a function
that takes a `request` argument (views, middleware, admin actions), any method of a class-based
view (a class deriving from a `*View` or `*ViewSet`), and a project function such code calls
(reported at the scan, with the caller as evidence). Scans in tasks, signals that no view calls
directly, management commands and tests are not flagged.
"""
    why_is_this_bad = """
These calls visit every key of the Redis database, not just the matching ones: the cost grows
with the whole cache, not with what you delete. `KEYS` blocks Redis for every client while it
runs; `SCAN`-based `iter_keys`/`delete_pattern` do not block but still take seconds on a large
cache. On a request, that is a slow page (or a timeout) that gets slower as the cache fills,
and a load spike when many visitors trigger it.
"""
    bad_example = {
        "blog/views.py": """from django.core.cache import cache
from django.shortcuts import redirect

from .models import Post


def publish(request, pk):
    Post.objects.filter(pk=pk).update(published=True)
    cache.delete_pattern("blog:post_list:*")  # expect: CL606
    return redirect("blog:post_list")
""",
    }
    good_example = {
        "blog/views.py": """from django.core.cache import cache
from django.shortcuts import redirect

from .models import Post


def publish(request, pk):
    Post.objects.filter(pk=pk).update(published=True)
    cache.incr_version("blog:post_list:v1")
    return redirect("blog:post_list")
""",
        "blog/tasks.py": """from django.core.cache import cache


def purge_post_lists():
    cache.delete_pattern("blog:post_list:*")
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        on_path = list(self._request_path(project))
        functions = {
            f"{facts.module}.{function.name}": (facts, function)
            for facts in project.python.values()
            for function in facts.views.functions
        }
        reported: set[Location] = set()
        for facts, function, _ in on_path:
            for finding in self._scans(facts, function, ()):
                if finding.location not in reported:
                    reported.add(finding.location)
                    yield finding
        for facts, function, siblings in on_path:  # one hop: helpers the request path calls
            for called, span in function.calls:
                if called.startswith("self.") and called.count(".") == 1:
                    target = (facts, siblings.get(called[5:])) if called[5:] in siblings else None
                else:
                    target = functions.get(called) or functions.get(f"{facts.module}.{called}")
                if target is None or target[1] is None or target[1] is function:
                    continue
                helper_facts, helper = target
                if project.is_test_code(helper_facts):
                    continue
                caller = Evidence(
                    Location(facts.path, span), f"`{function.name}` (on the request path) calls it here"
                )
                for finding in self._scans(helper_facts, helper, (caller,)):
                    if finding.location not in reported:
                        reported.add(finding.location)
                        yield finding

    def _request_path(
        self, project: ProjectModel
    ) -> Iterator[tuple[PythonFacts, FunctionFacts, dict[str, FunctionFacts]]]:
        """Functions and methods that run while a request waits, with their class's methods."""
        for facts in project.python.values():
            if project.is_test_code(facts):
                continue
            for function in facts.views.functions:
                if "request" in function.params:
                    yield facts, function, {}
            for cls in facts.views.classes:
                methods = {m.name: m for m in cls.methods}
                view = _view_like(project, facts, cls.name)
                for method in cls.methods:
                    if view or "request" in method.params:
                        yield facts, method, methods

    def _scans(
        self, facts: PythonFacts, function: FunctionFacts, via: tuple[Evidence, ...]
    ) -> Iterator[Finding]:
        for call in app_calls(function):
            if call.method not in SCAN_METHODS:
                continue
            yield self.finding(
                Location(facts.path, call.span),
                f"`{receiver(call)}.{call.method}(...)` {SCAN_METHODS[call.method]}, while a request "
                "waits: the page gets slower as the cache grows",
                hint="track the keys to invalidate (a set, or a version number in the keys that you "
                "bump), or move the scan to a background task",
                related=via,
            )
