"""Settings modules, evaluated statically.

The parser lowers a module's top-level statements to a small statement IR (``lower_module``);
the project model runs it (``run_settings``) once star-import chains can be followed across
files. Nothing is imported or executed: what the IR cannot express becomes ``UNKNOWN``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cachelint.facts.values import (
    IR,
    UNKNOWN,
    Binding,
    LocList,
    Namespace,
    evaluate,
)
from cachelint.finding import Span

# Top-level names that make a module a settings module whatever its file name.
SETTINGS_MARKERS = frozenset(
    {"INSTALLED_APPS", "MIDDLEWARE", "CACHES", "STORAGES", "STATICFILES_STORAGE", "ROOT_URLCONF"}
)
PRODUCTION_NAME = re.compile(r"(^|[._/-])(prod|production|live|deploy)([._/-]|$)")
# Test code or test settings, matched between separators (``.``, ``_``, ``-``, ``/``) anywhere in a
# dotted module name or path: ``tests``, ``test_views``, ``settings_test``, ``pytest``,
# ``unittests``, and ``test``/``tests`` glued to a settings word (``testsettings``,
# ``settingstest``, ``testconf``). Only settings words: ``latest``, ``contest``, ``testimonials``
# and a project package named ``testproj`` are not test settings.
_TEST_WORDS = (
    r"tests?|testing|pytest|unittests?|conftest"
    r"|tests?(?:settings?|conf|config|cfg)|(?:settings?|conf|config|cfg)tests?"
)
TEST_NAME = re.compile(rf"(^|[._/-])({_TEST_WORDS})([._/-]|$)")
# Settings (or code) for development, tests or CI rather than production.
NON_PRODUCTION_NAME = re.compile(
    rf"(^|[._/-])(dev|develop|development|local|ci|travis|circleci|github|gitlab|jenkins|{_TEST_WORDS})([._/-]|$)"
)

# Statement IR:
#   ("=", names, value_ir, span)       ("+=", name, value_ir, span)
#   ("[]=", name, key_irs, value_ir, span)   ("call", name, method, arg_irs, span)
#   ("*", module)   ("?", names)   ("if", test_ir, body, orelse)   ("try", body, handlers)
Stmt = tuple


@dataclass(frozen=True)
class SettingsFacts:
    statements: tuple[Stmt, ...]
    assigned: frozenset[str]
    star_imports: tuple[str, ...]


# --- running the statements -------------------------------------------------------------------


@dataclass(frozen=True)
class Definition:
    """One assignment event: ``name`` got ``value`` at ``path``/``span`` (for definition-site rules)."""

    name: str
    value: Any
    path: str
    span: Span


LoadModule = Callable[[str], "tuple[str, SettingsFacts] | None"]


def run_settings(
    path: str,
    facts: SettingsFacts,
    load: LoadModule,
    *,
    _active: frozenset[str] = frozenset(),
) -> tuple[Namespace, list[Definition]]:
    """Run a settings module's statements: its final namespace and every assignment event.

    ``load`` finds a star-imported module's facts by dotted name (None: not in the project,
    its names are unknown). Branches whose condition is unknown make the names they bind unknown.
    """
    ns: Namespace = {}
    definitions: list[Definition] = []

    def assign(name: str, value: Any, span: Span) -> None:
        ns[name] = Binding(value, path, span)
        definitions.append(Definition(name, value, path, span))

    def unknown(names: Any, span: Span = Span(1)) -> None:
        for name in names:
            ns[name] = Binding(UNKNOWN, path, span)

    def run(statements: tuple[Stmt, ...], uncertain: bool = False) -> None:
        for stmt in statements:
            kind = stmt[0]
            if kind == "=":
                value = evaluate(stmt[2], ns, path)
                for name in stmt[1]:
                    assign(name, value, stmt[3])
            elif kind == "+=":
                current = ns.get(stmt[1])
                value = evaluate(("+", ("n", stmt[1]), stmt[2]), ns, path) if current else UNKNOWN
                assign(stmt[1], value, stmt[3])
            elif kind in ("[]=", "call") and uncertain:
                # A change that may or may not happen: the value is no longer known.
                if stmt[1] in ns:
                    ns[stmt[1]] = Binding(UNKNOWN, ns[stmt[1]].path, ns[stmt[1]].span)
            elif kind == "[]=":
                _set_item(ns, stmt[1], stmt[2], evaluate(stmt[3], ns, path), path)
            elif kind == "call":
                _mutate(ns, stmt[1], stmt[2], [evaluate(a, ns, path) for a in stmt[3]])
            elif kind == "*":
                loaded = load(stmt[1]) if stmt[1] not in _active else None
                if loaded is not None:
                    base_path, base_facts = loaded
                    base_ns, base_definitions = run_settings(
                        base_path, base_facts, load, _active=_active | {stmt[1]}
                    )
                    ns.update(base_ns)
                    definitions.extend(base_definitions)
            elif kind == "?":
                unknown(stmt[1])
            elif kind == "if":
                test = evaluate(stmt[1], ns, path)
                if test is UNKNOWN or uncertain:
                    _run_uncertain(stmt[2] + stmt[3])
                elif test:
                    run(stmt[2])
                else:
                    run(stmt[3])
            elif kind == "try":
                run(stmt[1], uncertain)
                _run_uncertain(stmt[2])

    def _run_uncertain(statements: tuple[Stmt, ...]) -> None:
        # Record what each branch assigns (definition-site rules see it), then forget the values.
        before = dict(ns)
        run(statements, uncertain=True)
        for name, binding in list(ns.items()):
            if before.get(name) is not binding:
                ns[name] = Binding(UNKNOWN, binding.path, binding.span)

    run(facts.statements)
    return ns, definitions


def _set_item(ns: Namespace, name: str, keys: tuple[IR, ...], value: Any, path: str) -> None:
    binding = ns.get(name)
    container = binding.value if binding else UNKNOWN
    key_values = [evaluate(k, ns, path) for k in keys]
    for key in key_values[:-1]:
        if not isinstance(container, dict) or key is UNKNOWN or key not in container:
            container = UNKNOWN
            break
        container = container[key]
    if isinstance(container, dict) and key_values[-1] is not UNKNOWN:
        container[key_values[-1]] = value
    elif binding is not None:
        ns[name] = Binding(UNKNOWN, binding.path, binding.span)


def _mutate(ns: Namespace, name: str, method: str, args: list[Any]) -> None:
    binding = ns.get(name)
    if binding is None or binding.value is UNKNOWN:
        return
    value = binding.value
    try:
        if isinstance(value, LocList) and method == "append" and len(args) == 1:
            value.append_located(args[0], None)
        elif isinstance(value, LocList) and method == "extend" and isinstance(args[0], list | tuple):
            value.extend_located(args[0])
        elif isinstance(value, LocList) and method == "insert" and isinstance(args[0], int):
            value.insert(args[0], args[1])
            value.item_locations.insert(args[0], None)
        elif isinstance(value, dict) and method == "update" and isinstance(args[0], dict):
            value.update(args[0])
        elif method in ("get", "copy", "index", "count", "keys", "values", "items"):
            return
        else:
            binding.value = UNKNOWN
    except (IndexError, TypeError):
        binding.value = UNKNOWN


def is_production_module(module: str, ns: Namespace) -> bool:
    """Named like production, or ``DEBUG`` statically False, and not named like dev/test/CI.

    ``module`` is the dotted name: any segment can say dev/test/CI (``myapp.tests.settings``),
    only the last one says production (``deploy.settings.dev`` is dev settings).
    """
    name = module.lower()
    if NON_PRODUCTION_NAME.search(name):
        return False
    if PRODUCTION_NAME.search(name.rsplit(".", 1)[-1]):
        return True
    debug = ns.get("DEBUG")
    return debug is not None and debug.value is False
