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
    """A string that is the default of an environment lookup: the real value may differ.

    ``var`` names the environment variable when it is known (``"CACHE_URL"``)."""

    var: str = ""

    def __new__(cls, value: str = "", var: str = "") -> FromEnv:
        self = super().__new__(cls, value)
        self.var = var or getattr(value, "var", "")
        return self

    def __reduce__(self) -> Any:
        return (FromEnv, (str(self), self.var))


@dataclass(frozen=True)
class Option:
    """One value a setting can have, and when: a branch of an ``if`` on the environment
    (``when=("REDIS_URL is not set",)``), or the only value (``when=()``). ``debug``: the branch
    is the one a true ``DEBUG`` selects, which production does not run."""

    value: Any
    when: tuple[str, ...] = ()
    debug: bool = False
    path: str = ""
    span: Span | None = None

    def describe(self) -> str:
        """``"when REDIS_URL is not set"`` (empty for an unconditional value)."""
        return "when " + " and ".join(self.when) if self.when else ""


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


_SAME = object()  # Binding.unset: the value when the environment is unset is ``value`` itself


@dataclass
class Binding:
    value: Any
    path: str
    span: Span
    # Environment variables the value was read from, and what it is when none of them is set
    # (``os.environ.get("X")`` is UNKNOWN as a value but None when X is unset).
    env: frozenset[str] = frozenset()
    unset: Any = _SAME
    # The values it has in branches of ``if``s on the environment (None: just ``value``).
    options: tuple[Option, ...] | None = None

    def unset_value(self) -> Any:
        return self.value if self.unset is _SAME else self.unset

    def all_options(self) -> tuple[Option, ...]:
        if self.options is not None:
            return self.options
        return (Option(self.value, path=self.path, span=self.span),)


Namespace = dict[str, Binding]


@dataclass(frozen=True)
class Context:
    """How to evaluate: ``unset`` reads every environment variable as not set (a lookup gives
    its default, ``os.environ.get("X")`` gives None); ``django_version`` answers
    ``django.VERSION`` (None: unknown)."""

    unset: bool = False
    django_version: tuple[int, int] | None = None
    assume: tuple[tuple[str, str], ...] = ()  # variables read as set to these texts
    force: tuple[tuple[IR, bool], ...] = ()  # conditional expressions read as true / false


DEFAULT_CONTEXT = Context()
_CMP = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "is": lambda a, b: a is b,
    "is not": lambda a, b: a is not b,
}


def evaluate(ir: IR, ns: Namespace, path: str = "", ctx: Context = DEFAULT_CONTEXT) -> Any:
    kind = ir[0]
    if kind == "c":
        return ir[1]
    if kind == "n":
        binding = ns.get(ir[1])
        if binding is None:
            return UNKNOWN
        return binding.unset_value() if ctx.unset else binding.value
    if kind == "d":
        result = LocDict()
        result.path = path
        for key_ir, value_ir, span in ir[1]:
            if key_ir is None:
                splat = evaluate(value_ir, ns, path, ctx)
                if not isinstance(splat, dict):
                    return UNKNOWN
                result.update(splat)
                if isinstance(splat, LocDict):
                    result.key_spans.update(splat.key_spans)
                continue
            key = evaluate(key_ir, ns, path, ctx)
            if isinstance(key, list):  # a tuple key: tuples evaluate to (unhashable) LocLists
                key = tuple(key)
            if key is UNKNOWN or not _hashable(key):
                return UNKNOWN
            result[key] = evaluate(value_ir, ns, path, ctx)
            if span is not None:
                result.key_spans[key] = span
        return result
    if kind == "l":
        # Lists, tuples and sets all evaluate to a LocList: rules only iterate and index them.
        items = LocList()
        for item, span in zip(ir[1], ir[3]):
            if item[0] == "*":
                inner = evaluate(item[1], ns, path, ctx)
                if not isinstance(inner, list | tuple):
                    return UNKNOWN
                items.extend_located(inner)
            else:
                items.append_located(evaluate(item, ns, path, ctx), Location(path, span) if span else None)
        return items
    if kind == "+":
        left, right = evaluate(ir[1], ns, path, ctx), evaluate(ir[2], ns, path, ctx)
        if isinstance(left, str) and isinstance(right, str):
            joined_text = left + right
            if isinstance(left, FromEnv) or isinstance(right, FromEnv):
                return FromEnv(joined_text, getattr(left, "var", "") or getattr(right, "var", ""))
            return joined_text
        if isinstance(left, list | tuple) and isinstance(right, list | tuple):
            joined = LocList()
            joined.extend_located(left)
            joined.extend_located(right)
            return joined
        return UNKNOWN
    if kind == "f":
        pieces = [evaluate(part, ns, path, ctx) for part in ir[1]]
        if all(isinstance(p, str | int | float) for p in pieces):
            text = "".join(str(p) for p in pieces)
            envs = [p for p in pieces if isinstance(p, FromEnv)]
            return FromEnv(text, envs[0].var) if envs else text
        return UNKNOWN
    if kind == "env":
        # ("env", default_ir | None, cast, var | None, "get" | "required")
        var = ir[3] if len(ir) > 3 else None
        if var and ctx.assume and var in dict(ctx.assume):
            return _cast(dict(ctx.assume)[var], ir[2])
        if ir[1] is None:
            return None if ctx.unset and len(ir) > 4 and ir[4] == "get" else UNKNOWN
        value = _cast(evaluate(ir[1], ns, path, ctx), ir[2])
        return FromEnv(value, var or "") if isinstance(value, FromEnv) else value
    if kind == "envurl":
        # ("envurl", default_ir | None, var | None): a cache URL parser (django-environ,
        # django-cache-url, environs, django-configurations' CacheURLValue).
        if ir[1] is None:
            return UNKNOWN
        url = evaluate(ir[1], ns, path, ctx)
        if isinstance(url, dict):
            return url
        return parse_cache_url(url, ir[2] or "", path) if isinstance(url, str) else UNKNOWN
    if kind == "envset":  # "X" in os.environ
        if ctx.assume and ir[1] in dict(ctx.assume):
            return True
        return False if ctx.unset else UNKNOWN
    if kind == "djver":
        return LocList_of(ctx.django_version) if ctx.django_version else UNKNOWN
    if kind == "not":
        value = evaluate(ir[1], ns, path, ctx)
        return UNKNOWN if value is UNKNOWN or _has_unknown(value) else not value
    if kind == "ifexp":  # body if test else orelse
        forced = dict(ctx.force).get(ir) if ctx.force else None
        test = forced if forced is not None else evaluate(ir[1], ns, path, ctx)
        if test is UNKNOWN or _has_unknown(test):
            return merge(evaluate(ir[2], ns, path, ctx), evaluate(ir[3], ns, path, ctx))
        return evaluate(ir[2] if test else ir[3], ns, path, ctx)
    if kind in ("and", "or"):
        left = evaluate(ir[1], ns, path, ctx)
        if left is UNKNOWN or _has_unknown(left):
            return UNKNOWN
        if bool(left) == (kind == "or"):
            return left
        return evaluate(ir[2], ns, path, ctx)
    if kind == "cmp":
        left, right = evaluate(ir[2], ns, path, ctx), evaluate(ir[3], ns, path, ctx)
        if _has_unknown(left) or _has_unknown(right):
            return UNKNOWN
        try:
            return _CMP[ir[1]](left, right)
        except TypeError:
            return UNKNOWN
    if kind == "[]":
        container, key = evaluate(ir[1], ns, path, ctx), evaluate(ir[2], ns, path, ctx)
        if isinstance(container, dict) and not _has_unknown(key) and key in container:
            return container[key]
        if isinstance(container, list) and isinstance(key, int) and -len(container) <= key < len(container):
            return container[key]
        return UNKNOWN
    if kind == "[:]":
        container = evaluate(ir[1], ns, path, ctx)
        lower, upper = (evaluate(b, ns, path, ctx) if b is not None else None for b in ir[2:4])
        if isinstance(container, list) and all(b is None or isinstance(b, int) for b in (lower, upper)):
            sliced = LocList()
            for value in container[lower:upper]:
                sliced.append_located(value, None)
            return sliced
        return UNKNOWN
    return UNKNOWN


def LocList_of(values: Any) -> LocList:  # noqa: N802 (reads as a constructor)
    out = LocList()
    for value in values:
        out.append_located(value, None)
    return out


def env_vars(ir: IR, ns: Namespace) -> frozenset[str]:
    """The environment variables an expression reads, directly or through names bound to such
    reads; ``"?"`` in the set when one is read under a name cachelint cannot tell."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if not isinstance(node, tuple) or not node:
            return
        kind = node[0]
        if kind == "n" and isinstance(node[1], str):
            binding = ns.get(node[1])
            if binding is not None:
                found.update(binding.env)
            return
        if kind in ("env", "envurl", "envset"):
            var = node[1] if kind == "envset" else (node[3] if kind == "env" and len(node) > 3 else None)
            if kind == "envurl":
                var = node[2]
            found.add(var or "?")
        for child in node[1:] if isinstance(kind, str) else node:
            walk(child)

    walk(ir)
    return frozenset(found)


# Cache URL schemes of django-cache-url and django-environ, to the backend each picks.
CACHE_URL_SCHEMES = {
    "locmem": "django.core.cache.backends.locmem.LocMemCache",
    "locmemcache": "django.core.cache.backends.locmem.LocMemCache",
    "dummy": "django.core.cache.backends.dummy.DummyCache",
    "dummycache": "django.core.cache.backends.dummy.DummyCache",
    "file": "django.core.cache.backends.filebased.FileBasedCache",
    "filecache": "django.core.cache.backends.filebased.FileBasedCache",
    "db": "django.core.cache.backends.db.DatabaseCache",
    "dbcache": "django.core.cache.backends.db.DatabaseCache",
    "memcache": "django.core.cache.backends.memcached.MemcachedCache",
    "memcached": "django.core.cache.backends.memcached.PyMemcacheCache",
    "pymemcache": "django.core.cache.backends.memcached.PyMemcacheCache",
    "pymemcached": "django.core.cache.backends.memcached.PyLibMCCache",
    "pylibmc": "django.core.cache.backends.memcached.PyLibMCCache",
    "redis": "django_redis.cache.RedisCache",
    "rediss": "django_redis.cache.RedisCache",
    "rediscache": "django_redis.cache.RedisCache",
    "hiredis": "django_redis.cache.RedisCache",
    "valkey": "django_redis.cache.RedisCache",
    "valkeys": "django_redis.cache.RedisCache",
}
_TOP_LEVEL_CACHE_OPTIONS = frozenset({"TIMEOUT", "KEY_PREFIX", "VERSION", "KEY_FUNCTION", "BINARY"})


def parse_cache_url(url: str, var: str, path: str = "") -> Any:
    """A cache URL as those libraries parse it: ``{"BACKEND", "LOCATION", "OPTIONS"...}`` with
    strings marked as environment defaults (``FromEnv``) when ``var`` names the variable."""
    from urllib.parse import parse_qsl, urlsplit

    mark = (lambda text: FromEnv(text, var)) if var or isinstance(url, FromEnv) else str
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return UNKNOWN
    backend = CACHE_URL_SCHEMES.get(parts.scheme.lower())
    if backend is None:
        return UNKNOWN
    result = LocDict()
    result.path = path
    result["BACKEND"] = mark(backend)
    if parts.scheme.lower() in ("redis", "rediss", "rediscache", "hiredis", "valkey", "valkeys"):
        scheme = "rediss" if parts.scheme.lower() in ("rediss", "valkeys") else "redis"
        location = f"{scheme}://{parts.netloc}{parts.path}"
    elif parts.scheme.lower() in ("file", "filecache"):
        location = parts.netloc + parts.path
    else:
        location = parts.netloc or parts.path.lstrip("/")
    if location:
        result["LOCATION"] = mark(location)
    options = LocDict()
    options.path = path
    for key, value in parse_qsl(parts.query):
        key = key.upper()
        number: Any = int(value) if value.isdigit() else value
        if key in _TOP_LEVEL_CACHE_OPTIONS:
            result[key] = number
        else:
            options[key] = number
    if options:
        result["OPTIONS"] = options
    return result


def merge(a: Any, b: Any) -> Any:
    """What is known of a value that is ``a`` or ``b``: equal parts stay, others become UNKNOWN
    (a dict key set on one side only is UNKNOWN, so ``if X: CACHES["default"]["TIMEOUT"] = 60``
    forgets that key alone)."""
    if a is b:
        return a
    if a is UNKNOWN or b is UNKNOWN or a is _ABSENT or b is _ABSENT:
        return UNKNOWN
    if isinstance(a, dict) and isinstance(b, dict):
        out = LocDict()
        out.path = getattr(a, "path", "") or getattr(b, "path", "")
        out.key_spans = {**getattr(b, "key_spans", {}), **getattr(a, "key_spans", {})}
        for key in [*a, *(k for k in b if k not in a)]:
            out[key] = merge(a[key], b[key]) if key in a and key in b else UNKNOWN
        return out
    try:
        same = type(a) is type(b) and a == b
    except Exception:  # noqa: BLE001 (values compare safely, but be defensive)
        same = False
    if not same and isinstance(a, str) and isinstance(b, str) and str(a) == str(b):
        same = True
    return a if same else UNKNOWN


_ABSENT = object()


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
    if cast in ("list", "tuple", "dict", "json"):
        return value if not isinstance(value, str) else UNKNOWN
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
