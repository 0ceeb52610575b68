from __future__ import annotations

from collections.abc import Iterator

from cachelint.cache_calls import KEY_METHODS, app_calls, receiver
from cachelint.finding import Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register

# What separates a namespace from the name in a key: "blog:top_tags", "blog.top_tags".
NAMESPACE_SEPARATORS = (":", ".", "/")


def _app_prefixed(key: str, path: str) -> bool:
    """``"wagtail_locales"`` in ``wagtail/coreutils.py``: the app's name is the namespace."""
    packages = [p.lower() for p in path.split("/")[:-1] if len(p) > 2]
    return any(key.lower().startswith((f"{p}_", f"{p}-")) for p in packages)


@register
class UnversionedCacheKey(Rule):
    code = "CL602"
    slug = "unversioned-cache-key"
    severity = Severity.WARNING
    default_enabled = False
    summary = "Literal cache key with neither a namespace nor a version marker"
    tags = ("correctness",)
    what_it_does = """
Flags a low-level cache call (`get`, `set`, `add`, `get_or_set`, `delete`, `touch`, `incr`,
... and their async twins) whose key is a literal string with no namespace (no `:`, `.` or `/`
separator, and no prefix naming the app's package, as `"blog_top_tags"` in `blog/services.py`)
and no version marker (`v1`, `_v2`: the pattern of `fragment-version-pattern`), such as
`"top_tags"` rather than `"blog:top_tags:v1"`. Each key is reported once per file, at its first
use. Computed keys and test code are not flagged. Off by default: it is a convention.
"""
    why_is_this_bad = """
A bare key is shared by every app of the project and by every version of the code: two apps
that both cache `"top_tags"` overwrite each other's values, and when a deploy changes the shape
of the cached value (a list of models becomes a list of dicts), the old entries are read by the
new code until they expire, and crash it. A namespace avoids the clash; a version in the key
lets a deploy start from empty entries by bumping it.
"""
    bad_example = {
        "blog/services.py": """from django.core.cache import cache

from .models import Tag


def top_tags():
    return cache.get_or_set(  # expect: CL602
        "top_tags",
        lambda: list(Tag.objects.order_by("-uses")[:10]),
        60 * 60,
    )
""",
    }
    good_example = {
        "blog/services.py": """from django.core.cache import cache

from .models import Tag


def top_tags():
    return cache.get_or_set(
        "blog:top_tags:v1",
        lambda: list(Tag.objects.order_by("-uses")[:10]),
        60 * 60,
    )
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        version = project.config.fragment_version_re()
        first: dict[tuple[str, str], tuple[Location, str]] = {}
        for facts, function in project.functions():
            if project.is_test_code(facts):
                continue
            for call in app_calls(function):
                key = call.key
                if call.method not in KEY_METHODS or not isinstance(key, str) or not key:
                    continue
                if any(separator in key for separator in NAMESPACE_SEPARATORS) or version.search(key):
                    continue
                if _app_prefixed(key, facts.path):
                    continue
                location = Location(facts.path, call.span)
                known = first.get((facts.path, key))
                if known is None or location < known[0]:
                    first[(facts.path, key)] = (location, f"{receiver(call)}.{call.method}")
        for (_, key), (location, what) in sorted(first.items(), key=lambda item: item[1][0]):
            yield self.finding(
                location,
                f'cache key `"{key}"` has no namespace and no version: other apps can use the same '
                f"key, and old entries outlive a deploy that changes the value (`{what}`)",
                hint=f'namespace and version the key, e.g. `"app:{key}:v1"`, and bump the version '
                "when the cached value changes shape",
            )
