from __future__ import annotations

import re
from collections.abc import Iterator

from cachelint.cache_calls import (
    MAINTAIN_METHODS,
    NEVER_EXPIRES_METHODS,
    app_calls,
    key_texts,
    receiver,
    shapes_match,
)
from cachelint.facts.python import PythonFacts
from cachelint.facts.views import ARG, CacheCall, FunctionFacts
from cachelint.finding import Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register


@register
class CacheEntryNeverExpires(Rule):
    code = "CL601"
    slug = "cache-entry-never-expires"
    severity = Severity.WARNING
    default_enabled = False
    summary = "A low-level cache write with `timeout=None` stores an entry that never expires"
    tags = ("correctness", "performance")
    # ``from django.core import cache`` then ``cache.cache.delete(...)``: an invalidation the byte
    # pre-filter (``core.cache``) would skip.
    file_tokens = (b"django.core import cache",)
    what_it_does = """
Flags `set`, `add`, `set_many`, `get_or_set` and `touch` on `django.core.cache.cache` or
`caches["alias"]` whose timeout is the literal `None`, passed by position or as `timeout=None`.
A timeout that is not written (the cache's default) or not a literal is not flagged; test code
is skipped. A key meant to last until the code invalidates it is not flagged either, wherever in
the project (outside tests) that code lives, on the same cache:

- it is deleted (`delete`, `delete_many`), counted (`incr`, `decr`) or refreshed (`touch`, or
  a write with a timeout): a signal receiver or a model's `save` in another module counts;
- another function writes it too, even forever (a state flag that sibling handlers set), or a
  management command does (`management/commands/`, whose own writes are not flagged: the
  command rewrites them each time it runs);
- a django-redis `delete_pattern("prefix:*")` (or `keys(...)`) glob covers it;
- the value written is the last one plus a step (`current + 1`): a version stamp or a counter
  bumped by hand, which must not expire.

Keys are matched on their shape, not their spelling: the same key-building function with
compatible literal arguments (`price_key(product.pk)` and `price_key(instance.pk)`), the same
constant or attribute (`PRODUCT_KEY.format(pk)`, `self.cache_key`, `settings.X % pk`), or
strings built the same way once the module's constants are resolved (`f"{PREFIX}:{pk}"`,
`"shop:%s" % pk`, `"shop:{}".format(pk)`, `"shop:" + str(pk)`), also through a local variable.
A key passed in as a parameter is only matched by its source text within its module, and a
constant imported from another module by its name (not by its value).

Off by default (enable it with `--select CL601` or `extend-select`): on 26 real Django
applications, each of the few `timeout=None` writes was deliberate and invalidated somewhere,
and the rule could not be shown right 90% of the time. Keys can also be invalidated in ways no
static matching sees: a generic helper that deletes the key it is passed, a raw Redis
connection, a version stored inside the value and compared on read.
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
        "blog/keys.py": """def tag_key(tag_id):
    return f"blog:tag:{tag_id}:v1"
""",
        "blog/services.py": """from django.core.cache import cache

from .keys import tag_key
from .models import Tag


def top_tags():
    tags = list(Tag.objects.order_by("-uses")[:10])
    cache.set("blog:top_tags:v1", tags, 60 * 60)
    return tags


def remember_tag(tag):
    # Kept until the code invalidates it: the signal receiver deletes the same key.
    cache.set(tag_key(tag.pk), tag.name, timeout=None)
""",
        "blog/signals.py": """from django.core.cache import cache
from django.db.models.signals import post_save
from django.dispatch import receiver

from .keys import tag_key
from .models import Tag


@receiver(post_save, sender=Tag)
def forget_tag(sender, instance, **kwargs):
    cache.delete(tag_key(instance.pk))
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        writes: list[tuple[PythonFacts, FunctionFacts, CacheCall]] = []
        index = _Invalidations()
        for facts, function in project.functions():
            if project.is_test_code(facts):
                continue  # a test's delete does not run in production either
            for call in app_calls(function):
                if call.method in MAINTAIN_METHODS:
                    index.add(facts, function, call)
                if call.method in NEVER_EXPIRES_METHODS and call.timeout is None:
                    writes.append((facts, function, call))
        for facts, function, call in writes:
            if is_management_command(facts.path):
                continue  # rewritten each time the command runs (cron, deploy)
            if call.value_text and COUNTER_BUMP.search(call.value_text):
                continue  # a version stamp or counter, bumped by hand: it must not expire
            if index.invalidates(facts, function, call):
                continue  # deleted, counted or rewritten elsewhere: meant to last until then
            what = "stores an entry that never expires"
            if call.method == "touch":
                what = "makes the entry never expire"
            yield self.finding(
                Location(facts.path, call.span),
                f"`{receiver(call)}.{call.method}(...)` with `timeout=None` {what}: stale data "
                "stays until someone deletes the key",
                hint="pass a finite timeout (e.g. `60 * 60`), and delete or version the key when "
                "the data changes",
            )


# ``cache.set(VERSION_KEY, current + 1, None)``: the value is the last one plus a step.
COUNTER_BUMP = re.compile(r"\+\s*\d+\s*$")


def is_management_command(path: str) -> bool:
    return "/management/commands/" in f"/{path}"


class _Invalidations:
    """Every call of the project that deletes, counts or writes a key, by what its keys look like:
    their shapes project-wide, their source text within one module."""

    def __init__(self) -> None:
        self._by_identity: dict[str, list[tuple[str, FunctionFacts, CacheCall]]] = {}
        self._strings: list[tuple[str, str, FunctionFacts, CacheCall]] = []

    def add(self, facts: PythonFacts, function: FunctionFacts, call: CacheCall) -> None:
        entry = (facts.path, function, call)
        for identity, _ in self._identities(facts, call):
            self._by_identity.setdefault(identity, []).append(entry)
        for shape in call.key_shapes:
            if shape.startswith("s:"):
                self._strings.append((shape, *entry))

    @staticmethod
    def _identities(facts: PythonFacts, call: CacheCall) -> list[tuple[str, str]]:
        """What is matched exactly, with the shape it stands for: names and key functions
        project-wide (a key function's arguments are compared afterwards), the key's source text
        within its module."""
        found = [(shape.split(ARG)[0], shape) for shape in call.key_shapes if not shape.startswith("s:")]
        return found + [(f"t:{facts.path}:{text}", "t:") for text in key_texts(call)]

    def invalidates(self, facts: PythonFacts, function: FunctionFacts, write: CacheCall) -> bool:
        candidates = [
            (shape, entry)
            for identity, shape in self._identities(facts, write)
            for entry in self._by_identity.get(identity, [])
        ]
        candidates += [
            (shape, (path, other_function, other))
            for shape in write.key_shapes
            if shape.startswith("s:")
            for other_shape, path, other_function, other in self._strings
            if shapes_match(shape, other_shape)
        ]
        for shape, (path, other_function, other) in candidates:
            if other is write or not _same_cache(write, other):
                continue
            if shape.startswith("c:") and not any(shapes_match(shape, s) for s in other.key_shapes):
                continue  # the same key function, called for another kind of key
            if _maintains(other, same_function=path == facts.path and other_function is function):
                return True
        return False


def _same_cache(first: CacheCall, second: CacheCall) -> bool:
    return first.alias is None or second.alias is None or first.alias == second.alias


def _maintains(call: CacheCall, same_function: bool) -> bool:
    """A delete, a count or a refresh with a timeout; another write that never expires counts when
    another function makes it (a state flag that sibling handlers set), as a command's does."""
    if call.method in NEVER_EXPIRES_METHODS and call.timeout is None:
        return not same_function
    return True
