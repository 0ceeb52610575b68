"""Questions about settings modules that several settings rules ask (CL3xx, CL5xx)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cachelint import django_api as api
from cachelint.facts.settings import NON_PRODUCTION_NAME, PRODUCTION_NAME, Definition
from cachelint.facts.values import UNKNOWN, FromEnv, Option
from cachelint.finding import Evidence, Location
from cachelint.project import ProjectModel, SettingsModule, location_in_dict


def assignments(project: ProjectModel, names: Iterable[str]) -> Iterator[Definition]:
    """Every plain assignment (``NAME = ...``) of ``names`` in any settings module, once each,
    leaving out assignments inside a branch cachelint cannot decide (``if django.VERSION <
    (4, 2): STATICFILES_STORAGE = ...``): such code may be a deliberate compatibility shim."""
    wanted = set(names)
    owners = {m.path: m for m in project.settings_modules}
    branches: dict[str, set[Any]] = {}
    seen: set[tuple[str, Any, str]] = set()
    for module in project.settings_modules:
        for definition in module.definitions:
            if definition.name not in wanted:
                continue
            key = (definition.path, definition.span, definition.name)
            if key in seen:
                continue
            seen.add(key)
            if definition.path not in branches:
                branches[definition.path] = _branch_spans(project, definition.path)
            owner = owners.get(definition.path)
            binding = owner.namespace.get(definition.name) if owner is not None else None
            if (
                definition.span in branches[definition.path]
                and binding is not None
                and (binding.path, binding.span) == (definition.path, definition.span)
                and binding.value is UNKNOWN
                and definition.value is not UNKNOWN
            ):
                continue  # evaluated, then forgotten: it sits in an undecidable branch
            yield definition


def _branch_spans(project: ProjectModel, path: str) -> set[Any]:
    """Spans of the assignments of a settings file that sit inside an ``if`` or ``except``."""
    facts = project.python.get(path)
    settings = facts.settings if facts is not None else None
    spans: set[Any] = set()

    def walk(statements: Any, nested: bool) -> None:
        for statement in statements:
            if statement[0] == "=" and nested:
                spans.add(statement[3])
            elif statement[0] == "if":
                walk(statement[2], True)
                walk(statement[3], True)
            elif statement[0] == "try":
                walk(statement[1], nested)
                walk(statement[2], True)

    if settings is not None:
        walk(settings.statements, False)
    return spans


def cache_aliases(caches: Any) -> Iterator[tuple[Any, dict]]:
    """(alias, config) for each evaluated alias of a ``CACHES`` value."""
    if isinstance(caches, dict):
        for alias, conf in caches.items():
            if isinstance(conf, dict):
                yield alias, conf


def location_items(value: Any) -> list[tuple[Any, int | None]]:
    """A cache ``LOCATION``: its servers with their index in a list (None for a plain string)."""
    if isinstance(value, str):
        kind = FromEnv if isinstance(value, FromEnv) else str  # keep an env default's provenance
        return [(kind(item.strip()), None) for item in re.split(r"[;,]", value) if item.strip()]
    if isinstance(value, list | tuple):
        return [
            (item, index) for index, item in enumerate(value) if not isinstance(item, str) or item.strip()
        ]
    return []


def is_literal(value: Any) -> bool:
    """A known string that is not just an environment variable's default."""
    return isinstance(value, str) and not isinstance(value, FromEnv)


def deployable_production(module: SettingsModule) -> bool:
    """A production settings module that is run as it is: a leaf, or one named for production
    (``production.py`` that ``production_eu.py`` extends). A base that is production only by
    ``DEBUG = False`` is checked through the modules that star-import it. Shared with CL501."""
    if module.deployed:
        return True  # a deployment file or entry point names it: it runs as it is
    if not module.production or NON_PRODUCTION_NAME.search(module.module.lower()):
        return False
    return module.is_leaf or bool(PRODUCTION_NAME.search(module.module.rsplit(".", 1)[-1].lower()))


def branch_condition(option: Option, value: Any = None) -> str | None:
    """How a per-branch finding words when it holds: ``"when REDIS_URL is not set"`` for a
    branch of an ``if`` on the environment or a value that is an environment variable's default,
    ``""`` for a plain value; None when production does not run it (the branch a true DEBUG
    selects) or the default's variable is unknown (then the deployed value may be anything)."""
    if option.debug:
        return None
    parts = list(option.when)
    if isinstance(value, FromEnv):
        if not value.var:
            return None
        parts.append(f"{value.var} is not set")
    return "when " + " and ".join(dict.fromkeys(parts)) if parts else ""


def per_branch(
    options: Sequence[Option], check: Callable[[Option], tuple[Location, Any, Any] | None]
) -> Iterator[tuple[Location, Any, str]]:
    """Run ``check`` on each value a setting can have; yield (location, payload, when) for each
    one it flags that production can select. ``check`` returns (location, payload, the value
    whose environment default conditions it) or None. When every value is flagged at one place,
    the branch does not matter and ``when`` only keeps an environment default's condition."""
    hits = [(option, result) for option in options if (result := check(option)) is not None]
    everywhere = len(hits) == len(options) and len({result[0] for _, result in hits}) == 1
    for option, (location, payload, value) in hits:
        when = branch_condition(Option(option.value) if everywhere else option, value)
        if when is not None:
            yield location, payload, when
            if everywhere:
                return


def override_evidence(module: SettingsModule) -> list[Evidence]:
    """The optional overrides (``try: from .local import *``) cachelint judged ``module``
    without: the deployed settings may differ where they exist."""
    return [
        Evidence(
            Location(o.path, o.span),
            f"optional override `{o.module}` imported here (judged without it); it may change this",
        )
        for o in module.overrides[:1]
    ]


def production_evidence(module: SettingsModule) -> Evidence:
    if module.production and module.production_location is not None:
        return Evidence(module.production_location, f"production settings: `{module.module}` is named here")
    debug = module.location_of("DEBUG")
    if debug is not None and module.value("DEBUG") is False:
        return Evidence(debug, "production settings: DEBUG is False here")
    return Evidence(Location(module.path), f"production settings `{module.module}`")


LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

# (transport, host or socket path, port, database): one Redis keyspace.
RedisDb = tuple[str, str, int, int]


def parse_redis_url(text: str) -> RedisDb | None:
    """The keyspace a redis-py URL names (``redis://``, ``rediss://``, ``unix://``), as redis-py
    reads it: port 6379 unless given, database from ``?db=`` first, then the path, else 0."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("redis", "rediss", "unix"):
        return None
    query = parse_qs(parts.query)
    db_text = query["db"][0] if query.get("db") else ""
    if scheme == "unix":
        if not parts.path:
            return None
        transport, host, port = "unix", unquote(parts.path), 0
    else:
        if not parts.hostname:
            return None
        transport, host, port = "tcp", parts.hostname.lower(), port or api.DEFAULT_REDIS_PORT
        if not db_text:
            db_text = unquote(parts.path).replace("/", "")
    if host in LOOPBACK:
        host = "localhost"  # one machine, however it is spelled
    try:
        db = int(db_text) if db_text else 0
    except ValueError:
        return None
    return transport, host, port, db


def describe(db: RedisDb) -> str:
    transport, host, port, number = db
    server = host if transport == "unix" else f"{host}:{port}"
    return f"Redis `{server}` database {number}"


# --- where a settings value comes from (CL308) ------------------------------------------------


def _ir_index(statements: Any) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """A settings file's IR by span: dict entries (key span -> value IR) and assignments
    (statement span -> value IR), in every branch."""
    entries: dict[Any, Any] = {}
    assigned: dict[Any, Any] = {}

    def expression(ir: Any) -> None:
        if not isinstance(ir, tuple) or not ir:
            return
        if ir[0] == "d":
            for _key, value, span in ir[1]:
                if span is not None:
                    entries.setdefault(span, value)
                expression(value)
        elif ir[0] == "l":
            for item in ir[1]:
                expression(item)
        elif ir[0] in ("+", "[]"):
            expression(ir[1])
            expression(ir[2])
        elif ir[0] == "f":
            for part in ir[1]:
                expression(part)

    def block(body: Any) -> None:
        for statement in body:
            kind = statement[0]
            if kind == "=":
                assigned.setdefault(statement[3], statement[2])
                expression(statement[2])
            elif kind == "[]=":
                assigned.setdefault(statement[4], statement[3])
                expression(statement[3])
            elif kind == "if":
                block(statement[2])
                block(statement[3])
            elif kind == "try":
                block(statement[1])
                block(statement[2])

    block(statements)
    return entries, assigned


def reads_environment(project: ProjectModel, module: SettingsModule, container: Any, key: Any) -> bool:
    """Whether ``container[key]`` (an evaluated settings dict) is read from the environment:
    an environment variable's default (``FromEnv``), or an expression that looks one up
    without a default (``env("REDIS_URL")``, ``os.environ["REDIS_URL"]``), directly or through
    names the module binds (``LOCATION: REDIS_URL``), string building included."""
    value = container.get(key) if isinstance(container, dict) else None
    if isinstance(value, FromEnv):
        return True
    if value is not UNKNOWN:
        return False
    path = getattr(container, "path", "")
    span = getattr(container, "key_spans", {}).get(key)
    indexes: dict[str, tuple[dict[Any, Any], dict[Any, Any]]] = {}

    def index(of: str) -> tuple[dict[Any, Any], dict[Any, Any]]:
        if of not in indexes:
            facts = project.python.get(of)
            indexes[of] = _ir_index(facts.settings.statements if facts and facts.settings else ())
        return indexes[of]

    seen: set[str] = set()

    def reads(ir: Any, depth: int) -> bool:
        if not isinstance(ir, tuple) or not ir or depth > 8:
            return False
        kind = ir[0]
        if kind == "env":
            return True
        if kind == "n":
            name = ir[1]
            binding = module.namespace.get(name)
            if binding is None or name in seen:
                return False
            seen.add(name)
            return reads(index(binding.path)[1].get(binding.span), depth + 1)
        if kind in ("+", "[]"):
            return reads(ir[1], depth + 1) or reads(ir[2], depth + 1)
        if kind in ("f", "l"):
            return any(reads(part, depth + 1) for part in ir[1])
        return False

    if span is None or not path:
        return False
    return reads(index(path)[0].get(span), 0)


# --- third-party Redis users (CL304, CL309) ---------------------------------------------------


@dataclass(frozen=True)
class RedisUser:
    """A package's own Redis connection, from the settings: django-cacheops, django-constance,
    a django-rq queue, huey."""

    package: str  # "django-cacheops"
    name: str  # what the settings call it: "CACHEOPS_REDIS", "RQ_QUEUES["high"]", "HUEY"
    db: RedisDb | None  # None when not known (a custom pool, Sentinel, unevaluated values)
    location: Location
    from_env: bool
    socket_timeout: bool | None  # a socket timeout is configured; None when not known
    uses_cache: str | None = None  # django-rq ``USE_REDIS_CACHE``: the cache alias it borrows


def installed(module: SettingsModule, apps: Iterable[str]) -> Location | bool | None:
    """Where ``INSTALLED_APPS`` lists one of ``apps``; False when it is known and does not,
    None when ``INSTALLED_APPS`` cannot be evaluated."""
    value = module.value("INSTALLED_APPS")
    if not isinstance(value, list | tuple):
        return None
    wanted = set(apps)
    for index, app in enumerate(value):
        if isinstance(app, str) and (app in wanted or app.split(".apps.")[0] in wanted):
            located = getattr(value, "location", None)
            return (located(index) if located else None) or module.location_of("INSTALLED_APPS")
    return False


def _url_options(text: str) -> tuple[bool, bool]:
    """(the URL names its database, it sets ``socket_timeout``)."""
    try:
        parts = urlsplit(text.strip())
    except ValueError:
        return False, False
    query = parse_qs(parts.query)
    names_db = bool(query.get("db")) or (parts.scheme != "unix" and bool(parts.path.strip("/")))
    return names_db, bool(query.get("socket_timeout"))


def _kwargs_db(conf: dict, upper: bool = False) -> RedisDb | None:
    """The keyspace redis-py's keyword arguments name (``host``/``port``/``db`` or
    ``unix_socket_path``; django-rq spells them in capitals)."""

    def get(key: str, default: Any) -> Any:
        return conf.get(key.upper() if upper else key, default)

    socket, host, port, db = (
        get("unix_socket_path", None),
        get("host", "localhost"),
        get("port", 6379),
        get("db", 0),
    )
    if db is None:
        db = 0
    if not isinstance(db, int) or isinstance(db, bool):
        return None
    if socket is not None:
        return ("unix", socket, 0, db) if isinstance(socket, str) else None
    if not isinstance(host, str) or not isinstance(port, int) or isinstance(port, bool):
        return None
    host = host.lower()
    return "tcp", "localhost" if host in LOOPBACK else host, port, db


def _connection(value: Any) -> tuple[RedisDb | None, bool | None, bool]:
    """A redis-py connection setting (a URL, or a dict of keyword arguments): its keyspace,
    whether it sets a socket timeout, whether it is an environment variable's default."""
    if isinstance(value, str):
        return parse_redis_url(value), _url_options(value)[1], isinstance(value, FromEnv)
    if isinstance(value, dict):
        if "connection_pool" in value:
            return None, None, False
        if isinstance(value.get("url"), str):
            db, timeout, env = _connection(value["url"])
            return db, timeout or "socket_timeout" in value, env
        env = any(isinstance(v, FromEnv) for v in value.values())
        return _kwargs_db(value), "socket_timeout" in value, env
    return None, None, False


CACHEOPS_APPS = ("cacheops",)
CONSTANCE_APPS = ("constance",)
CONSTANCE_REDIS_BACKENDS = (
    "constance.backends.redisd.RedisBackend",
    "constance.backends.redisd.CachingRedisBackend",
)
CONSTANCE_DEFAULT_BACKEND = "constance.backends.redisd.RedisBackend"
HUEY_APPS = ("huey.contrib.djhuey",)
HUEY_CONNECTION_KEYS = frozenset(
    {"url", "host", "port", "db", "unix_socket_path", "connection_pool", "socket_timeout", "password"}
)


def redis_users(module: SettingsModule) -> list[RedisUser]:
    """The third-party packages of ``module`` that open their own Redis connections."""
    found: list[RedisUser] = []
    fallback = Location(module.path)
    # django-cacheops: CACHEOPS_REDIS (a URL or redis-py keyword arguments; {} is localhost).
    where = installed(module, CACHEOPS_APPS)
    if where or (where is None and "CACHEOPS_REDIS" in module.namespace):
        if module.value("CACHEOPS_ENABLED") is not False and "CACHEOPS_SENTINEL" not in module.namespace:
            value = module.value("CACHEOPS_REDIS") if "CACHEOPS_REDIS" in module.namespace else {}
            db, timeout, env = _connection(value)
            location = module.location_of("CACHEOPS_REDIS") or (
                where if isinstance(where, Location) else fallback
            )
            found.append(RedisUser("django-cacheops", "CACHEOPS_REDIS", db, location, env, timeout))
    # django-constance: its default backend is Redis (CONSTANCE_REDIS_CONNECTION, {} is localhost).
    where = installed(module, CONSTANCE_APPS)
    backend = (
        module.value("CONSTANCE_BACKEND")
        if "CONSTANCE_BACKEND" in module.namespace
        else CONSTANCE_DEFAULT_BACKEND
    )
    if (
        where
        and backend in CONSTANCE_REDIS_BACKENDS
        and "CONSTANCE_REDIS_CONNECTION_CLASS" not in module.namespace
    ):
        value = (
            module.value("CONSTANCE_REDIS_CONNECTION")
            if "CONSTANCE_REDIS_CONNECTION" in module.namespace
            else {}
        )
        db, timeout, env = _connection(value)
        location = (
            module.location_of("CONSTANCE_REDIS_CONNECTION")
            or module.location_of("CONSTANCE_BACKEND")
            or (where if isinstance(where, Location) else fallback)
        )
        found.append(RedisUser("django-constance", "CONSTANCE_REDIS_CONNECTION", db, location, env, timeout))
    # django-rq: RQ_QUEUES, one connection per queue.
    queues = module.value("RQ_QUEUES")
    if isinstance(queues, dict):
        queues_at = module.location_of("RQ_QUEUES") or fallback
        for name, conf in queues.items():
            if not isinstance(conf, dict) or "SENTINELS" in conf:
                continue
            location = location_in_dict(queues, name, queues_at)
            label = f'RQ_QUEUES["{name}"]'
            client = conf.get("REDIS_CLIENT_KWARGS", {})
            kwargs_timeout = "socket_timeout" in client if isinstance(client, dict) else None
            url = conf.get("URL")
            if isinstance(url, str):
                names_db, url_timeout = _url_options(url)
                db = parse_redis_url(url)
                if db is not None and not names_db and isinstance(conf.get("DB"), int):
                    db = (*db[:3], conf["DB"])
                timeout = True if url_timeout or kwargs_timeout else kwargs_timeout
                found.append(RedisUser("django-rq", label, db, location, isinstance(url, FromEnv), timeout))
            elif "URL" in conf:
                continue  # not evaluated
            elif isinstance(conf.get("USE_REDIS_CACHE"), str):
                found.append(
                    RedisUser(
                        "django-rq", label, None, location, False, None, uses_cache=conf["USE_REDIS_CACHE"]
                    )
                )
            elif "UNIX_SOCKET_PATH" in conf:
                found.append(
                    RedisUser("django-rq", label, _kwargs_db(conf, upper=True), location, False, None)
                )
            elif "HOST" in conf:
                env = any(isinstance(conf.get(k), FromEnv) for k in ("HOST", "PORT", "DB"))
                found.append(
                    RedisUser("django-rq", label, _kwargs_db(conf, upper=True), location, env, kwargs_timeout)
                )
    # huey (djhuey): HUEY = {"huey_class": "huey.RedisHuey", "connection": {...}}.
    huey = module.value("HUEY")
    if isinstance(huey, dict) and installed(module, HUEY_APPS) is not False:
        huey_class = huey.get("huey_class", huey.get("backend_class", "")) or "huey.RedisHuey"
        immediate = huey.get("immediate", module.value("DEBUG") if "DEBUG" in module.namespace else False)
        if isinstance(huey_class, str) and "Redis" in huey_class and immediate is False:
            # djhuey passes both ``connection`` and the top-level keys it does not know on to
            # redis-py: ``{"url": REDIS_URL}`` works at either level.
            connection = huey.get("connection", {})
            if isinstance(connection, dict):
                connection = {**{k: v for k, v in huey.items() if k in HUEY_CONNECTION_KEYS}, **connection}
            db, timeout, env = _connection(connection)
            location = location_in_dict(huey, "connection", module.location_of("HUEY") or fallback)
            found.append(RedisUser("huey", "HUEY", db, location, env, timeout))
    return found


def missing_redis_cache_timeouts(conf: Any) -> list[str] | None:
    """The socket timeouts a Redis cache's ``OPTIONS`` lack (CL301's reading); None when the
    cache is not a Redis cache cachelint knows or its ``OPTIONS`` cannot be evaluated."""
    backend = conf.get("BACKEND") if isinstance(conf, dict) else None
    if not isinstance(backend, str):
        return None
    if backend.startswith(api.DJANGO_REDIS_BACKEND_PREFIX) or backend in api.REDIS_CACHE_BACKENDS:
        required: tuple[str, ...] = ("SOCKET_CONNECT_TIMEOUT", "SOCKET_TIMEOUT")
    elif backend == api.BUILTIN_REDIS_BACKEND:
        required = ("socket_connect_timeout", "socket_timeout")
    else:
        return None
    options = conf.get("OPTIONS", {})
    if not isinstance(options, dict):
        return None
    present = set(options)
    pool = options.get(
        "CONNECTION_POOL_CLASS_KWARGS" if backend in api.REDIS_CACHE_BACKENDS else "CONNECTION_POOL_KWARGS"
    )
    if isinstance(pool, dict):
        present |= {k.upper() for k in pool if isinstance(k, str)} | {k for k in pool if isinstance(k, str)}
    return [k for k in required if k not in present]


# --- static files folders (CL501) -------------------------------------------------------------


def static_dirs(project: ProjectModel, module: SettingsModule) -> list[tuple[str, ...]] | None:
    """The folders ``STATICFILES_DIRS`` names, as the literal path parts after the project's
    base directory (``BASE_DIR / "assets"`` -> ``("assets",)``); [] when it is not set, None
    when one of them cannot be read."""
    binding = module.namespace.get("STATICFILES_DIRS")
    if binding is None:
        return []
    facts = project.python.get(binding.path)
    ir = _ir_index(facts.settings.statements if facts and facts.settings else ())[1].get(binding.span)
    if not isinstance(ir, tuple) or ir[0] != "l":
        return None
    found = []
    for item in ir[1]:
        if item[0] == "l" and len(item[1]) == 2:  # ("prefix", path)
            item = item[1][1]
        parts = _path_parts(project, module, item, 0)
        if not parts:
            return None
        found.append(parts)
    return found


def _path_parts(project: ProjectModel, module: SettingsModule, ir: Any, depth: int) -> tuple[str, ...] | None:
    if depth > 5 or not isinstance(ir, tuple) or not ir:
        return None
    if ir[0] == "c" and isinstance(ir[1], str):
        return tuple(p for p in ir[1].split("/") if p and p != ".")
    if ir[0] == "path":
        tail: list[str] = []
        for part in ir[1]:
            if part[0] == "c" and isinstance(part[1], str):
                tail.extend(p for p in part[1].split("/") if p and p != ".")
            else:
                inner = _path_parts(project, module, part, depth + 1)
                tail = list(inner) if inner else []  # what came before is the base directory
        return tuple(tail) or None
    if ir[0] == "n":
        binding = module.namespace.get(ir[1])
        facts = project.python.get(binding.path) if binding else None
        if binding is None or facts is None or facts.settings is None:
            return None
        return _path_parts(project, module, _ir_index(facts.settings.statements)[1].get(binding.span), depth + 1)
    return None
