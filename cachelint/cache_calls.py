"""Reading the arguments of low-level cache calls, shared by the CL6xx rules.

The argument source texts of a ``CacheCall`` are read lexically (no parsing): string literals
are blanked out so that ``"user_count"`` never looks like the name ``user``, while the
replacement fields of f-strings stay readable (``f"cart:{request.session.session_key}"``).
"""

from __future__ import annotations

import functools
import re

from cachelint.discovery import TEST_DIRS, is_test_file
from cachelint.facts.views import ARG, HOLE, CacheCall, FunctionFacts

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
# Calls that show a key is maintained by the code (deleted, counted, refreshed), with async twins;
# django-redis deletes by glob (``delete_pattern``), or lists the keys to delete (``keys``).
_MAINTAIN_METHODS = {
    "delete",
    "delete_many",
    "delete_pattern",
    "keys",
    "iter_keys",
    "incr",
    "decr",
    "incr_version",
    "decr_version",
    "touch",
    "expire",
    "set",
    "set_many",
    "add",
    "get_or_set",
}
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


def shapes_match(first: str, second: str) -> bool:
    """Whether two key shapes (``facts.keyshapes``) may name the same key: the same constant or
    attribute name, the same key function with compatible literal arguments, or string skeletons
    (and globs) that some key matches both, each with enough literal text to mean something."""
    if first[:2] != second[:2]:
        return False
    if first.startswith("s:"):
        return _meaningful(first) and _meaningful(second) and _globs_intersect(first[2:], second[2:])
    if first.startswith("c:"):
        name, *args = first[2:].split(ARG)
        other_name, *other_args = second[2:].split(ARG)
        if name != other_name:
            return False
        return len(args) != len(other_args) or all(map(_globs_intersect, args, other_args))
    return first == second


def _meaningful(shape: str) -> bool:
    """At least three letters or digits are written: ``f"{a}:{b}"`` could be any key."""
    return sum(char.isalnum() for char in shape[2:]) >= 3


def _globs_intersect(first: str, second: str) -> bool:
    """Some string matches both skeletons, where ``HOLE`` matches any text."""
    states, seen = [(0, 0)], set()
    while states:
        i, j = states.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(first) and j == len(second):
            return True
        if i < len(first) and first[i] == HOLE:
            states.append((i + 1, j))  # the hole ends here
            if j < len(second):
                states.append((i, j + 1))  # ... or takes the other's next character (or hole)
        if j < len(second) and second[j] == HOLE:
            states.append((i, j + 1))
            if i < len(first):
                states.append((i + 1, j))
        if i < len(first) and j < len(second) and first[i] == second[j] != HOLE:
            states.append((i + 1, j + 1))
    return False


def _normalized(text: str) -> str:
    text = text.strip()
    match = re.fullmatch(r"""[rRuU]?("|')([^"'\\\n]*)\1""", text)
    return f"'{match.group(2)}'" if match else re.sub(r"\s+", "", text)


def receiver(call: CacheCall) -> str:
    """How the call's cache is written: ``cache``, ``caches["x"]``."""
    if call.alias == "default":
        return "cache"
    return f'caches["{call.alias}"]' if call.alias is not None else "caches[...]"


@functools.lru_cache(maxsize=1 << 16)  # asked by several rules for every file of the project
def is_test_path(path: str) -> bool:
    """Test code (when ``check-tests`` lets it in): a ``test`` folder or one of discovery's test
    folders (``tests``, ``test_utils``, ``testing``), or a test module as discovery names them."""
    padded = f"/{path}"
    folders = padded.split("/")[:-1]
    return bool({"test", *TEST_DIRS} & set(folders)) or is_test_file(
        folders and padded.rsplit("/", 1)[-1] or path
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


# Name parts of a key built elsewhere, whose content cannot be seen here: ``cache_key``, ``prefix``.
OPAQUE_PARTS = frozenset({"key", "prefix"})


def request_path(segments: list[str]) -> list[str] | None:
    """The attributes read from the request (``["user", "pk"]`` for ``self.request.user.pk``),
    None when the chain does not start at the request."""
    if segments[:2] == ["self", "request"]:
        return segments[2:]
    if segments[0] in ("request", "req"):
        return segments[1:]
    return None


def app_calls(function: FunctionFacts) -> list[CacheCall]:
    """The function's cache calls outside test code (``*TestCase`` classes, set-up/tear-down
    hooks): what every cache-call rule judges."""
    return [call for call in function.cache_calls if not call.test_code]
