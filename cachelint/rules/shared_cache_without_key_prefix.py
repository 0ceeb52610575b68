from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cachelint import django_api as api
from cachelint.facts.settings import NON_PRODUCTION_NAME
from cachelint.facts.values import UNKNOWN
from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel, SettingsModule, location_in_dict
from cachelint.registry import Rule, register
from cachelint.settings_queries import (
    LOOPBACK,
    cache_aliases,
    is_literal,
    location_items,
    parse_redis_url,
    reads_environment,
)


@dataclass(frozen=True)
class _Branch:
    """What one branch of an ``if`` does to ``CACHES``: alias -> its config (a whole ``CACHES``
    assigned there) and alias -> the ``KEY_PREFIX`` location (``CACHES[alias]["KEY_PREFIX"] = ...``)."""

    confs: dict[Any, tuple[Any, Location]]
    prefixes: dict[Any, Location]
    skipped: bool = False  # not a branch: what runs when no branch of an ``if`` without else does


@register
class SharedCacheWithoutKeyPrefix(Rule):
    code = "CL308"
    slug = "shared-cache-without-key-prefix"
    severity = Severity.WARNING
    summary = "A cache on a server other applications can reach has no `KEY_PREFIX`"
    tags = ("correctness", "privacy")
    what_it_does = """
Flags a Redis or Memcached cache in `CACHES` without a `KEY_PREFIX` (or with an empty one) and
without a `KEY_FUNCTION`, when its server is one that other applications can reach:

- its `LOCATION` comes from the environment: an environment lookup, with or without a default
  (`env("REDIS_URL")`, `os.environ["REDIS_URL"]`, `os.getenv("REDIS_URL", "redis://...")`),
  directly or through a name or an f-string built from one: the deployment decides the server,
  typically a managed instance;
- or its `LOCATION` names a remote host: an IP address other than loopback or a dotted host
  name (`cache.internal.example.com`, `10.0.0.5`).

It also flags the branches of one `if`/`elif`/`else` in a settings module that disagree on a
cache's `KEY_PREFIX` while naming the same server (or an `if` that sets
`CACHES[alias]["KEY_PREFIX"]` only in some runs): the author prefixed one environment on that
server, so the run without a prefix shares it unprefixed. The finding is at the cache without
a prefix, with the other branch's `KEY_PREFIX` as evidence.

Not flagged: `localhost`, `127.0.0.1`, `::1` and Unix sockets (one machine, usually one app);
single-label host names such as `redis` or `memcached` (a Compose or Kubernetes service that
runs next to this application); `LocMemCache`, `DummyCache`, `FileBasedCache` and
`DatabaseCache` (nothing else shares them); a `KEY_PREFIX` cachelint cannot evaluate or that is
an environment variable's default (the deployment may set it); a backend that only an
environment variable's default names; settings modules named for development, tests or CI
(`dev`, `local`, `test`, `ci`). `CACHE_MIDDLEWARE_KEY_PREFIX` does not count: it prefixes only
the per-site cache middleware's keys, not `cache.get()`/`cache.set()` or fragments.

Related: CL305 (cache-key-collision-across-environments) compares this project's own settings
modules with each other (staging and production on one server with the same prefix); CL308
is about everyone else on the server, so it needs only the one module. CL304
(redis-shared-across-roles) is about one Redis database shared by this project's cache and
its own queues.
"""
    why_is_this_bad = """
Django builds cache keys as `KEY_PREFIX:VERSION:key`. With no prefix, two applications that
talk to the same Redis database or Memcached server and cache `"homepage"` or
`"views.decorators.cache.cache_page..."` under the same names read each other's entries: one
serves the other's pages or data (a privacy leak when the entries are personal), each
overwrites and invalidates the other's keys, and a `cache.clear()` in one empties both.
Managed Redis and Memcached instances, and the ones named by `REDIS_URL`, are commonly shared
between applications and environments.
"""
    bad_example = {
        "mysite/settings.py": """import os

CACHES = {
    "default": {  # expect: CL308
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["REDIS_URL"],
        "OPTIONS": {"socket_connect_timeout": 5, "socket_timeout": 5},
    },
}
""",
    }
    good_example = {
        "mysite/settings.py": """import os

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["REDIS_URL"],
        "KEY_PREFIX": "mysite",
        "OPTIONS": {"socket_connect_timeout": 5, "socket_timeout": 5},
    },
    "local": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "OPTIONS": {"socket_connect_timeout": 5, "socket_timeout": 5},
    },
}
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        seen: set[Location] = set()
        for module in project.settings_modules:
            if not module.is_leaf or NON_PRODUCTION_NAME.search(module.module.lower()):
                continue  # a base is checked through the modules that star-import it
            for finding in self._check_module(project, module):
                if finding.location not in seen:
                    seen.add(finding.location)
                    yield finding
        for finding in self._check_branches(project):
            if finding.location not in seen:
                seen.add(finding.location)
                yield finding

    # --- a shared server without a prefix -------------------------------------------------------

    def _check_module(self, project: ProjectModel, module: SettingsModule) -> Iterator[Finding]:
        final = module.value("CACHES")
        candidates = (
            [final]
            if isinstance(final, dict)
            else [d.value for d in module.definitions if d.name == "CACHES" and isinstance(d.value, dict)]
        )
        for caches in candidates:
            fallback = module.location_of("CACHES") or Location(module.path)
            for alias, conf in cache_aliases(caches):
                kind = _kind(conf)
                if kind is None or _prefixed(conf) is not False:
                    continue
                where = location_in_dict(caches, alias, _item_assignment(project, conf, alias) or fallback)
                server = location_in_dict(conf, "LOCATION", where)
                if reads_environment(project, module, conf, "LOCATION"):
                    why = "its server comes from the environment"
                    label = "the server is read from the environment here"
                else:
                    remote = _remote_server(kind, conf.get("LOCATION"))
                    if remote is None:
                        continue
                    why = f"it uses the remote server `{remote}`"
                    label = "remote server here"
                yield self.finding(
                    where,
                    f"cache `{alias}` has no `KEY_PREFIX` while {why}: another application "
                    "using the same server reads and overwrites its keys",
                    hint='set a `KEY_PREFIX` unique to this application and environment (for example "mysite-prod")',
                    related=[Evidence(server, label)],
                )

    # --- branches that disagree ----------------------------------------------------------------

    def _check_branches(self, project: ProjectModel) -> Iterator[Finding]:
        for module in project.settings_modules:
            if NON_PRODUCTION_NAME.search(module.module.lower()):
                continue
            facts = project.python.get(module.path)
            if facts is None or facts.settings is None:
                continue
            definitions = {
                d.span: d.value for d in module.definitions if d.name == "CACHES" and d.path == module.path
            }
            yield from self._walk(project, module, facts.settings.statements, definitions)

    def _walk(
        self, project: ProjectModel, module: SettingsModule, statements: Any, definitions: dict[Any, Any]
    ) -> Iterator[Finding]:
        for index, statement in enumerate(statements):
            if statement[0] == "if":
                chain, has_else = _chain(statement)
                branches = [_branch(module, body, definitions) for body in chain]
                if not has_else:  # the run that skips every branch keeps what came before
                    before = _caches_before(statements[:index], definitions, module)
                    branches.append(_Branch(before, {}, skipped=True))
                yield from self._disagreements(project, module, branches)
                for body in chain:
                    yield from self._walk(project, module, body, definitions)
            elif statement[0] == "try":
                yield from self._walk(project, module, statement[1], definitions)
                yield from self._walk(project, module, statement[2], definitions)

    def _disagreements(
        self, project: ProjectModel, module: SettingsModule, branches: list[_Branch]
    ) -> Iterator[Finding]:
        for prefixed in branches:
            for alias, prefix_location in _prefix_locations(prefixed).items():
                prefixed_conf = prefixed.confs.get(alias, (None, None))[0]
                for other in branches:
                    if other is prefixed or alias not in other.confs or alias in other.prefixes:
                        continue
                    conf, where = other.confs[alias]
                    if _kind(conf) is None or _prefixed(conf) is not False:
                        continue
                    if prefixed_conf is not None and not _same_server(conf, prefixed_conf):
                        continue
                    what = (
                        "gets a `KEY_PREFIX` only when the `if` below runs, and otherwise uses the same "
                        "server without one"
                        if other.skipped
                        else "has no `KEY_PREFIX` in this branch, while another branch of the same `if` "
                        "gives it one on the same server"
                    )
                    yield self.finding(
                        where,
                        f"cache `{alias}` {what}: its keys mix with those of the prefixed environment "
                        "and of any other application on the server",
                        hint="set a `KEY_PREFIX` in every branch (a different one per environment)",
                        related=[
                            Evidence(
                                prefix_location,
                                "`KEY_PREFIX` set only when this `if` runs here"
                                if other.skipped
                                else "`KEY_PREFIX` set in the other branch here",
                            )
                        ],
                    )


def _kind(conf: Any) -> str | None:
    """ "redis" or "memcached" for a literal backend of that kind; None for the others."""
    backend = conf.get("BACKEND") if isinstance(conf, dict) else None
    if not is_literal(backend):
        return None
    lowered = backend.lower()
    if "redis" in lowered:
        return "redis"
    if backend.startswith(api.MEMCACHED_BACKEND_PREFIX) or (
        "memcache" in lowered and "locmem" not in lowered
    ):
        return "memcached"
    return None


def _prefixed(conf: dict) -> bool | None:
    """False when the cache certainly has no prefix of its own; None when it may have one."""
    if "KEY_FUNCTION" in conf:
        return None
    if "KEY_PREFIX" not in conf:
        return False
    prefix = conf["KEY_PREFIX"]
    if is_literal(prefix) and prefix == "":
        return False
    return None if prefix is UNKNOWN or not is_literal(prefix) else True


def _machine_wide(host: str) -> bool:
    """A host other machines know by this name: an IP address other than loopback, or a dotted
    name. Loopback, sockets and single-label names (a Compose or Kubernetes service beside the
    application) are not."""
    host = host.strip("[]").lower()
    if host in LOOPBACK or host in ("localhost.localdomain", ""):
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return "." in host


def _remote_server(kind: str, location: Any) -> str | None:
    """The first remote server a literal ``LOCATION`` names, else None."""
    for item, _ in location_items(location):
        if not is_literal(item):
            continue
        text = item.strip()
        if "://" in text:
            db = parse_redis_url(text) if kind == "redis" else None
            if db is not None and db[0] == "tcp" and _machine_wide(db[1]):
                return f"{db[1]}:{db[2]}"
            continue
        if text.startswith(("unix:", "/")):
            continue
        # host:port (Memcached, django-redis-cache's host:port:db), [v6]:port, or a bare host
        host = text[1 : text.find("]")] if text.startswith("[") else text.split(":", 1)[0]
        if _machine_wide(host):
            return text
    return None


def _same_server(one: dict, other: dict) -> bool:
    first, second = one.get("LOCATION"), other.get("LOCATION")
    if first is UNKNOWN or second is UNKNOWN or first is None or second is None:
        return False
    if isinstance(first, str) and isinstance(second, str):
        return (parse_redis_url(first) or first.strip()) == (parse_redis_url(second) or second.strip())
    return first == second


def _chain(statement: tuple) -> tuple[list[Any], bool]:
    """The bodies of ``if``/``elif``/.../``else`` in order (an ``elif`` is a nested ``if``), and
    whether there is a final ``else``."""
    bodies = [statement[2]]
    orelse = statement[3]
    while len(orelse) == 1 and orelse[0][0] == "if":
        bodies.append(orelse[0][2])
        orelse = orelse[0][3]
    if orelse:
        bodies.append(orelse)
    return bodies, bool(orelse)


def _alias_confs(caches: Any, fallback_path: str) -> dict[Any, tuple[Any, Location]]:
    fallback = Location(getattr(caches, "path", "") or fallback_path)
    return {alias: (conf, location_in_dict(caches, alias, fallback)) for alias, conf in cache_aliases(caches)}


def _branch(module: SettingsModule, body: Any, definitions: dict[Any, Any]) -> _Branch:
    confs: dict[Any, tuple[Any, Location]] = {}
    prefixes: dict[Any, Location] = {}
    for statement in body:
        if statement[0] == "=" and "CACHES" in statement[1] and statement[3] in definitions:
            confs = _alias_confs(definitions[statement[3]], module.path)
            prefixes = {}
        elif statement[0] == "[]=" and statement[1] == "CACHES":
            keys = statement[2]
            if len(keys) == 2 and keys[0][0] == "c" and keys[1] == ("c", "KEY_PREFIX"):
                value = statement[3]
                if not (value[0] == "c" and value[1] in ("", None)):
                    prefixes[keys[0][1]] = Location(module.path, statement[4])
    return _Branch(confs, prefixes)


def _caches_before(
    statements: Any, definitions: dict[Any, Any], module: SettingsModule
) -> dict[Any, tuple[Any, Location]]:
    """The aliases of the last plain ``CACHES = ...`` of this file before an ``if``."""
    for statement in reversed(statements):
        if statement[0] == "=" and "CACHES" in statement[1] and statement[3] in definitions:
            return _alias_confs(definitions[statement[3]], module.path)
    return {}


def _prefix_locations(branch: _Branch) -> dict[Any, Location]:
    """Aliases a branch gives a prefix, with where: a ``KEY_PREFIX`` key of an assigned
    ``CACHES`` (literal and not empty, or computed), or a ``CACHES[alias]["KEY_PREFIX"] = ...``."""
    found = dict(branch.prefixes)
    for alias, (conf, where) in branch.confs.items():
        if isinstance(conf, dict) and "KEY_PREFIX" in conf and _prefixed(conf) is not False:
            found.setdefault(alias, location_in_dict(conf, "KEY_PREFIX", where))
    return found


def _item_assignment(project: ProjectModel, conf: Any, alias: Any) -> Location | None:
    """Where ``CACHES[alias] = {...}`` added an alias (its dict was evaluated in that file)."""
    path = getattr(conf, "path", "")
    facts = project.python.get(path)
    if facts is None or facts.settings is None:
        return None

    def find(statements: Any) -> Location | None:
        for statement in statements:
            if statement[0] == "[]=" and statement[1] == "CACHES" and statement[2] == (("c", alias),):
                return Location(path, statement[4])
            if statement[0] in ("if", "try"):
                found = find(statement[2]) or find(statement[3] if statement[0] == "if" else statement[1])
                if found:
                    return found
        return None

    return find(facts.settings.statements)
