"""Static values: a tiny picklable IR for expressions and settings statements, and its evaluator.

Facts must not hold CST nodes (they are cached and sent between processes), and settings can
only be evaluated once star-import chains are joined across files. So the parser lowers the
expressions it cares about to nested tuples, and ``evaluate`` runs them later. Anything the IR
cannot express evaluates to ``UNKNOWN``, and rules never guess from ``UNKNOWN``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cachelint.finding import Location, Span


class _Unknown:
    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __reduce__(self) -> str:
        return "UNKNOWN"

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        raise TypeError("UNKNOWN has no truth value; compare with `is UNKNOWN`")


UNKNOWN = _Unknown()

IR = tuple  # ("c", value) | ("n", name) | ("d", entries) | ... (see lower())


class LocDict(dict):
    """A dict evaluated from source, remembering where each key was written."""

    path: str = ""
    key_spans: dict[Any, Span]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_spans = {}


@dataclass(frozen=True)
class SettingRef:
    """``settings.NAME["key"]`` read in view code: resolved against the production settings when
    the project is joined (``ProjectModel.setting_value``)."""

    name: str
    keys: tuple[Any, ...] = ()


class FromEnv(str):
    """A string that is the default of an environment lookup: the real value may differ."""


class LocList(list):
    """A list evaluated from source, remembering where each item was written (None: unknown)."""

    item_locations: list[Location | None]

    def __init__(self) -> None:
        super().__init__()
        self.item_locations = []

    def append_located(self, value: Any, location: Location | None) -> None:
        self.append(value)
        self.item_locations.append(location)

    def extend_located(self, values: Any) -> None:
        locations = getattr(values, "item_locations", [None] * len(values))
        for value, location in zip(values, locations):
            self.append_located(value, location)

    def location(self, index: int) -> Location | None:
        return self.item_locations[index] if index < len(self.item_locations) else None


# --- evaluation -------------------------------------------------------------------------------


@dataclass
class Binding:
    value: Any
    path: str
    span: Span


Namespace = dict[str, Binding]


def evaluate(ir: IR, ns: Namespace, path: str = "") -> Any:
    kind = ir[0]
    if kind == "c":
        return ir[1]
    if kind == "n":
        binding = ns.get(ir[1])
        return binding.value if binding is not None else UNKNOWN
    if kind == "d":
        result = LocDict()
        result.path = path
        for key_ir, value_ir, span in ir[1]:
            if key_ir is None:
                splat = evaluate(value_ir, ns, path)
                if not isinstance(splat, dict):
                    return UNKNOWN
                result.update(splat)
                if isinstance(splat, LocDict):
                    result.key_spans.update(splat.key_spans)
                continue
            key = evaluate(key_ir, ns, path)
            if isinstance(key, list):  # a tuple key: tuples evaluate to (unhashable) LocLists
                key = tuple(key)
            if key is UNKNOWN or not _hashable(key):
                return UNKNOWN
            result[key] = evaluate(value_ir, ns, path)
            if span is not None:
                result.key_spans[key] = span
        return result
    if kind == "l":
        # Lists, tuples and sets all evaluate to a LocList: rules only iterate and index them.
        items = LocList()
        for item, span in zip(ir[1], ir[3]):
            if item[0] == "*":
                inner = evaluate(item[1], ns, path)
                if not isinstance(inner, list | tuple):
                    return UNKNOWN
                items.extend_located(inner)
            else:
                items.append_located(evaluate(item, ns, path), Location(path, span) if span else None)
        return items
    if kind == "+":
        left, right = evaluate(ir[1], ns, path), evaluate(ir[2], ns, path)
        if isinstance(left, str) and isinstance(right, str):
            joined_text = left + right
            return (
                FromEnv(joined_text)
                if isinstance(left, FromEnv) or isinstance(right, FromEnv)
                else joined_text
            )
        if isinstance(left, list | tuple) and isinstance(right, list | tuple):
            joined = LocList()
            joined.extend_located(left)
            joined.extend_located(right)
            return joined
        return UNKNOWN
    if kind == "f":
        pieces = [evaluate(part, ns, path) for part in ir[1]]
        if all(isinstance(p, str | int | float) for p in pieces):
            text = "".join(str(p) for p in pieces)
            return FromEnv(text) if any(isinstance(p, FromEnv) for p in pieces) else text
        return UNKNOWN
    if kind == "env":
        value = evaluate(ir[1], ns, path)
        return _cast(value, ir[2])
    if kind == "not":
        value = evaluate(ir[1], ns, path)
        return UNKNOWN if value is UNKNOWN or _has_unknown(value) else not value
    if kind == "cmp":
        left, right = evaluate(ir[2], ns, path), evaluate(ir[3], ns, path)
        if _has_unknown(left) or _has_unknown(right):
            return UNKNOWN
        try:
            return {
                "==": lambda: left == right,
                "!=": lambda: left != right,
                "in": lambda: left in right,
                "not in": lambda: left not in right,
            }[ir[1]]()
        except TypeError:
            return UNKNOWN
    if kind == "[]":
        container, key = evaluate(ir[1], ns, path), evaluate(ir[2], ns, path)
        if isinstance(container, dict) and not _has_unknown(key) and key in container:
            return container[key]
        return UNKNOWN
    return UNKNOWN


def _has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_unknown(v) for v in value)
    return False


def _cast(value: Any, cast: str) -> Any:
    if value is UNKNOWN:
        return UNKNOWN
    if cast in ("", "str"):
        return FromEnv(value) if isinstance(value, str) else value
    if cast == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("1", "true", "yes", "on", "y", "t"):
                return True
            if lowered in ("0", "false", "no", "off", "n", "f", ""):
                return False
        return UNKNOWN
    if cast in ("int", "float"):
        try:
            return int(value) if cast == "int" else float(value)
        except (TypeError, ValueError):
            return UNKNOWN
    return UNKNOWN


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
