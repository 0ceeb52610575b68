"""Questions about settings modules that several settings rules ask (CL3xx, CL5xx)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cachelint import django_api as api
from cachelint.facts.settings import NON_PRODUCTION_NAME, PRODUCTION_NAME, Definition
from cachelint.facts.values import UNKNOWN, FromEnv
from cachelint.finding import Evidence, Location
from cachelint.project import ProjectModel, SettingsModule


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
