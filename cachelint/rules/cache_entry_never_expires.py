"""CL601, and the small helpers every low-level cache API rule (CL6xx) shares.

The helpers read the argument source texts of a ``CacheCall`` lexically (no parsing): string
literals are blanked out so that ``"user_count"`` never looks like the name ``user``, while the
replacement fields of f-strings stay readable (``f"cart:{request.session.session_key}"``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from cachelint.facts.python import PythonFacts
from cachelint.facts.views import CacheCall
from cachelint.finding import Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register

# Methods whose first argument is one cache key (Django's API, its async twins, django-redis).
_SYNC_KEY_METHODS = frozenset(
    {
        "get",
        "set",
        "add",
        "get_or_set",
        "delete",
        "touch",
        "incr",
        "decr",
        "has_key",
        "incr_version",
        "decr_version",
    }
)
KEY_METHODS = _SYNC_KEY_METHODS | {f"a{m}" for m in _SYNC_KEY_METHODS} | {"ttl", "pttl", "expire", "persist"}
# Methods that store a value (key, value, timeout), with their async twins (whose value and
# timeout the facts give once ``django_api.CACHE_METHOD_ARGUMENTS`` lists them).
STORE_METHODS = frozenset({"set", "add", "get_or_set", "aset", "aadd", "aget_or_set"})
NEVER_EXPIRES_METHODS = STORE_METHODS | {"set_many", "touch", "aset_many", "atouch"}
# Calls that show a key is maintained by the code (deleted, counted, refreshed), with async twins.
_MAINTAIN_METHODS = {"delete", "delete_many", "incr", "decr", "touch", "set", "set_many"}
MAINTAIN_METHODS = frozenset(_MAINTAIN_METHODS | {f"a{m}" for m in _MAINTAIN_METHODS})

_CHAIN = re.compile(r"(?<![\w.])[A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*")
_CALLEE = re.compile(r"([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*)\s*$")
_STRING_PREFIX = frozenset("rRbBuUfF")


def key_texts(call: CacheCall) -> list[str]:
    """The normalized source texts of the keys a call names: its key argument, or each element of
    a literal ``delete_many([...])`` list or ``set_many({...})`` dict. A plain string literal
    becomes its content (so quotes do not matter), other code loses its whitespace."""
    if call.method in ("set_many", "aset_many"):
        text, sep = call.value_text, ":"
    elif call.method in ("delete_many", "adelete_many"):
        text, sep = call.key_text, ""
    else:
        return [_normalized(call.key_text)] if call.key_text else []
    if not text or text[0] not in "[({" or text[-1] not in "])}":
        return []
    masked = mask_strings(text)
    elements, start, depth = [], 1, 0
    for index, char in enumerate(masked[1:-1], start=1):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            elements.append((start, index))
            start = index + 1
    elements.append((start, len(text) - 1))
    found = []
    for begin, end in elements:
        if sep:  # a dict item: the key is what comes before its first top-level colon
            colon = masked.find(sep, begin, end)
            end = colon if colon >= 0 else begin
        element = text[begin:end].strip()
        if element:
            found.append(_normalized(element))
    return found


def _normalized(text: str) -> str:
    text = text.strip()
    match = re.fullmatch(r"""[rRuU]?("|')([^"'\\\n]*)\1""", text)
    return f"'{match.group(2)}'" if match else re.sub(r"\s+", "", text)


def receiver(call: CacheCall) -> str:
    """How the call's cache is written: ``cache``, ``caches["x"]``."""
    if call.alias == "default":
        return "cache"
    return f'caches["{call.alias}"]' if call.alias is not None else "caches[...]"


def is_test_path(path: str) -> bool:
    """Test code: a ``tests``/``test`` package, ``tests.py``, ``test_*.py``, ``*_test.py``, ``conftest.py``."""
    padded = f"/{path}"
    name = padded.rsplit("/", 1)[-1]
    return (
        "/tests/" in padded
        or "/test/" in padded
        or name in ("tests.py", "conftest.py")
        or (name.startswith("test_") and name.endswith(".py"))
        or name.endswith("_test.py")
    )


def mask_strings(text: str) -> str:
    """``text`` with the contents of string literals and comments replaced by spaces.

    The result has the same length (positions map back to ``text``). Quote characters are kept,
    so ``'"' in masked or "'" in masked`` tells whether a string literal was written; the
    replacement fields of f-strings are kept as code.
    """
    out = list(text)
    index = 0
    while index < len(text):
        char = text[index]
        if char == "#":
            end = text.find("\n", index)
            end = len(text) if end < 0 else end
            out[index:end] = " " * (end - index)
            index = end
        elif char in "'\"":
            index = _mask_string(text, index, out)
        else:
            index += 1
    return "".join(out)


def _mask_string(text: str, start: int, out: list[str]) -> int:
    """Mask the string literal whose opening quote is at ``start``; return the index after it."""
    prefix_start = start
    while prefix_start > 0 and text[prefix_start - 1] in _STRING_PREFIX and start - prefix_start < 2:
        prefix_start -= 1
    if prefix_start > 0 and (text[prefix_start - 1].isalnum() or text[prefix_start - 1] == "_"):
        prefix_start = start  # ``xf"..."`` is no prefix (cannot happen in valid code)
    prefix = text[prefix_start:start].lower()
    for position in range(prefix_start, start):
        out[position] = " "
    quote = text[start] * 3 if text.startswith(text[start] * 3, start) else text[start]
    raw, formatted = "r" in prefix, "f" in prefix
    index = start + len(quote)
    while index < len(text):
        if text.startswith(quote, index):
            return index + len(quote)
        char = text[index]
        if char == "\\" and not raw:
            out[index : index + 2] = " " * len(out[index : index + 2])
            index += 2
            continue
        if formatted and char == "{":
            if text.startswith("{{", index):
                out[index : index + 2] = "  "
                index += 2
                continue
            out[index] = " "
            index = _skip_field(text, index + 1, out)
            continue
        if char != "\n":
            out[index] = " "
        index += 1
    return index


def _skip_field(text: str, index: int, out: list[str]) -> int:
    """Keep an f-string replacement field as code; return the index after its closing brace."""
    depth = 0
    while index < len(text):
        char = text[index]
        if char in "'\"":
            index = _mask_string(text, index, out)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                out[index] = " "
                return index + 1
            depth -= 1
        index += 1
    return index


def dotted_names(masked: str) -> list[str]:
    """Name and attribute chains in masked code, whitespace removed: ``request.user.pk``."""
    return [re.sub(r"\s+", "", m.group(0)) for m in _CHAIN.finditer(masked)]


def has_string_literal(masked: str) -> bool:
    return '"' in masked or "'" in masked


def enclosing_callees(masked: str, position: int) -> list[str]:
    """The called names whose parentheses enclose ``position``, outermost first (``""`` for a
    bracket that is not a call)."""
    stack: list[str] = []
    for index, char in enumerate(masked[:position]):
        if char == "(":
            match = _CALLEE.search(masked[:index])
            stack.append(re.sub(r"\s+", "", match.group(1)) if match else "")
        elif char in "[{":
            stack.append("")
        elif char in ")]}" and stack:
            stack.pop()
    return stack


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
