from __future__ import annotations

from collections.abc import Iterator

from cachelint.cache_calls import MAINTAIN_METHODS, NEVER_EXPIRES_METHODS, is_test_path, key_texts, receiver
from cachelint.facts.python import PythonFacts
from cachelint.facts.views import CacheCall
from cachelint.finding import Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register


@register
class CacheEntryNeverExpires(Rule):
    code = "CL601"
    slug = "cache-entry-never-expires"
    severity = Severity.WARNING
    summary = "A low-level cache write with `timeout=None` stores an entry that never expires"
    tags = ("correctness", "performance")
    what_it_does = """
Flags `set`, `add`, `set_many`, `get_or_set` and `touch` on `django.core.cache.cache` or
`caches["alias"]` whose timeout is the literal `None`, passed by position or as `timeout=None`.
A timeout that is not written (the cache's default) or not a literal is not flagged; test code
is skipped. A key meant to last until the code invalidates it is not flagged either: when the
same module also deletes it (`delete`, `delete_many`), counts it (`incr`, `decr`, as version
counters are), or refreshes it (`touch`, another `set`/`set_many` that itself expires), under
the same key expression.
"""
    why_is_this_bad = """
`None` means "keep forever". The entry is only ever replaced if some code remembers to delete
it: when the data changes in a way that code did not foresee (an admin edit, a migration, a
bug fixed in the computing code) the stale value is served until someone flushes the cache.
Entries that never expire also fill memory until the backend starts evicting other, useful
keys (or, on Redis with `noeviction`, refuses writes).
"""
    bad_example = {
        "blog/services.py": """from django.core.cache import cache

from .models import Tag


def top_tags():
    tags = list(Tag.objects.order_by("-uses")[:10])
    cache.set("blog:top_tags:v1", tags, None)  # expect: CL601
    return tags
""",
    }
    good_example = {
        "blog/services.py": """from django.core.cache import cache

from .models import Tag


def top_tags():
    tags = list(Tag.objects.order_by("-uses")[:10])
    cache.set("blog:top_tags:v1", tags, 60 * 60)
    return tags


def site_year(year):
    # Kept until the code invalidates it: `forget_site_year` deletes the same key.
    cache.set("blog:site_year:v1", year, timeout=None)


def forget_site_year():
    cache.delete("blog:site_year:v1")
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        maintained: dict[str, list[tuple[CacheCall, list[str]]]] = {}
        for facts, function in project.functions():
            if is_test_path(facts.path):
                continue
            if facts.path not in maintained:
                maintained[facts.path] = _maintaining_calls(facts)
            for call in function.cache_calls:
                if call.method not in NEVER_EXPIRES_METHODS or call.timeout is not None:
                    continue
                keys = set(key_texts(call))
                if any(other is not call and keys & set(texts) for other, texts in maintained[facts.path]):
                    continue  # deleted, counted or refreshed elsewhere: meant to last until then
                what = (
                    "makes the entry never expire"
                    if call.method == "touch"
                    else "stores an entry that never expires"
                )
                yield self.finding(
                    Location(facts.path, call.span),
                    f"`{receiver(call)}.{call.method}(...)` with `timeout=None` {what}: stale data "
                    "stays until someone deletes the key",
                    hint="pass a finite timeout (e.g. `60 * 60`), and delete or version the key when "
                    "the data changes",
                )


def _maintaining_calls(facts: PythonFacts) -> list[tuple[CacheCall, list[str]]]:
    """The module's calls that delete, count or refresh a key (a write that itself never
    expires is not one), with the keys they name."""
    functions = [*facts.views.functions, *(m for cls in facts.views.classes for m in cls.methods)]
    return [
        (call, key_texts(call))
        for function in functions
        for call in function.cache_calls
        if call.method in MAINTAIN_METHODS
        and not (call.method in NEVER_EXPIRES_METHODS and call.timeout is None)
    ]
