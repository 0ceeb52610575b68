"""Settings modules, evaluated statically.

The parser lowers a module's top-level statements to a small statement IR (``lower_module``);
the project model runs it (``run_settings``) once star-import chains can be followed across
files. Nothing is imported or executed: what the IR cannot express becomes ``UNKNOWN``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from cachelint.facts.values import (
    _ABSENT,
    _SAME,
    DEFAULT_CONTEXT,
    IR,
    UNKNOWN,
    Binding,
    Context,
    LocDict,
    LocList,
    Namespace,
    Option,
    _has_unknown,
    env_vars,
    evaluate,
    merge,
)
from cachelint.finding import Span

# Top-level names that make a module a settings module whatever its file name.
SETTINGS_MARKERS = frozenset(
    {
        "INSTALLED_APPS",
        "MIDDLEWARE",
        "MIDDLEWARE_CLASSES",
        "CACHES",
        "STORAGES",
        "STATICFILES_STORAGE",
        "ROOT_URLCONF",
    }
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

# django-configurations' base class (``class Prod(Configuration)``).
CONFIGURATION_BASES = frozenset({"configurations.Configuration", "configurations.base.Configuration"})
# The settings that list middleware: MIDDLEWARE_CLASSES before Django 1.10.
MIDDLEWARE_SETTINGS = ("MIDDLEWARE", "MIDDLEWARE_CLASSES")

# Values kept per setting across ``if``s on the environment (each doubles them).
MAX_OPTIONS = 16

# Statement IR:
#   ("=", names, value_ir, span)       ("+=", name, value_ir, span)
#   ("[]=", name, key_irs, value_ir, span)   ("call", name, method, arg_irs, span)
#   ("*", module, implicit_relative | None, span)   ("?", names[, imported modules])
#   ("if", test_ir, body, orelse)   ("try", body, handlers, catches_import)
Stmt = tuple


@dataclass(frozen=True)
class ConfigClass:
    """A module-level class that may be a django-configurations ``Configuration``."""

    name: str
    bases: tuple[str, ...]  # qualified through the module's imports
    statements: tuple[Stmt, ...]
    span: Span


@dataclass(frozen=True)
class SettingsFacts:
    statements: tuple[Stmt, ...]
    assigned: frozenset[str]
    star_imports: tuple[str, ...]
    classes: tuple[ConfigClass, ...] = ()


# --- running the statements -------------------------------------------------------------------


@dataclass(frozen=True)
class Definition:
    """One assignment event: ``name`` got ``value`` at ``path``/``span`` (for definition-site rules)."""

    name: str
    value: Any
    path: str
    span: Span


@dataclass(frozen=True)
class Override:
    """``try: from .local import * except ImportError: pass``: an optional module that may
    change the settings; cachelint judges the settings without it."""

    module: str
    path: str
    span: Span


LoadModule = Callable[[str], "tuple[str, SettingsFacts] | None"]


def run_settings(
    path: str,
    facts: SettingsFacts,
    load: LoadModule,
    *,
    ctx: Context = DEFAULT_CONTEXT,
    overrides: list[Override] | None = None,
    _active: frozenset[str] = frozenset(),
) -> tuple[Namespace, list[Definition]]:
    """Run a settings module's statements: its final namespace and every assignment event.

    ``load`` finds a star-imported module's facts by dotted name (None: not in the project,
    its names are unknown). An ``if`` that cannot be decided keeps what both branches agree on;
    one on the environment also keeps each branch's value as an ``Option`` of the binding.
    ``overrides`` collects the optional modules (``try: from .local import *``) left out.
    """
    ns: Namespace = {}
    definitions: list[Definition] = []
    runner = Runner(path, load, ctx, definitions, overrides if overrides is not None else [], _active)
    runner.run(facts.statements, ns)
    return ns, definitions


def run_statements(
    statements: tuple[Stmt, ...],
    ns: Namespace,
    path: str,
    load: LoadModule,
    *,
    ctx: Context = DEFAULT_CONTEXT,
    overrides: list[Override] | None = None,
    active: frozenset[str] = frozenset(),
) -> list[Definition]:
    """Run ``statements`` (a class body) in ``ns``; the assignment events."""
    definitions: list[Definition] = []
    Runner(path, load, ctx, definitions, overrides if overrides is not None else [], active).run(statements, ns)
    return definitions


def _join(names: list[str], word: str) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" {word} " + names[-1]


class Runner:
    def __init__(
        self,
        path: str,
        load: LoadModule,
        ctx: Context,
        definitions: list[Definition],
        overrides: list[Override],
        active: frozenset[str],
    ) -> None:
        self.path = path
        self.load = load
        self.ctx = ctx
        self.unset_ctx = replace(ctx, unset=True)
        self.definitions = definitions
        self.overrides = overrides
        self.active = active

    # --- statements ---------------------------------------------------------------------------

    def run(self, statements: tuple[Stmt, ...], ns: Namespace) -> None:
        for stmt in statements:
            kind = stmt[0]
            if kind == "=":
                self.assign(ns, stmt[1], stmt[2], stmt[3])
            elif kind == "+=":
                if ns.get(stmt[1]) is not None:
                    self.assign(ns, (stmt[1],), ("+", ("n", stmt[1]), stmt[2]), stmt[3])
                else:
                    self.bind(ns, stmt[1], Binding(UNKNOWN, self.path, stmt[3]))
            elif kind == "[]=":
                self.mutate(ns, stmt[1], lambda n, s=stmt: _set_item(n, s[1], s[2], evaluate(s[3], n, self.path, self.ctx), self.path, self.ctx))
            elif kind == "call":
                self.mutate(ns, stmt[1], lambda n, s=stmt: _mutate(n, s[1], s[2], [evaluate(a, n, self.path, self.ctx) for a in s[3]]))
            elif kind == "*":
                self.star(ns, stmt)
            elif kind == "?":
                for name in stmt[1]:
                    ns[name] = Binding(UNKNOWN, self.path, Span(1))
            elif kind == "if":
                self.branch(ns, stmt)
            elif kind == "try":
                self.try_(ns, stmt)

    def bind(self, ns: Namespace, name: str, binding: Binding) -> None:
        ns[name] = binding
        self.definitions.append(Definition(name, binding.value, binding.path, binding.span))

    def assign(self, ns: Namespace, names: tuple[str, ...], ir: IR, span: Span) -> None:
        value = evaluate(ir, ns, self.path, self.ctx)
        variables = env_vars(ir, ns)
        unset = evaluate(ir, ns, self.path, self.unset_ctx) if variables else _SAME
        options = self.derived_options(ir, ns, span) or self.expression_options(ir, ns, span)
        for name in names:
            self.bind(ns, name, Binding(value, self.path, span, variables, unset, options))

    def derived_options(self, ir: IR, ns: Namespace, span: Span) -> tuple[Option, ...] | None:
        """``CACHES = {"default": {"BACKEND": BACKEND}}`` where BACKEND has per-branch values:
        CACHES has one per branch too (one such name per expression is followed)."""
        optioned = [n for n in _names_in(ir) if ns.get(n) is not None and ns[n].options is not None]
        if len(set(optioned)) != 1:
            return None
        name = optioned[0]
        out = []
        for option in ns[name].options or ():
            scratch = dict(ns)
            scratch[name] = Binding(option.value, option.path, option.span or Span(1))
            out.append(replace(option, value=evaluate(ir, scratch, self.path, self.ctx), path=self.path, span=span))
        return tuple(out)

    def expression_options(self, ir: IR, ns: Namespace, span: Span) -> tuple[Option, ...] | None:
        """``"BACKEND": REDIS if os.environ.get("REDIS_URL") else LOCMEM``: one option per
        arm of the first conditional expression on the environment."""
        for test_ir, whole in _conditional_expressions(ir):
            variables = env_vars(test_ir, ns)
            if not variables or "?" in variables:
                continue
            unset = evaluate(test_ir, ns, self.path, self.unset_ctx)
            if unset is UNKNOWN or _has_unknown(unset):
                return None
            not_set, is_set = _conditions(variables)
            debug = self.debug_arm(test_ir, ns, variables)
            out = []
            for arm, flag in enumerate((True, False)):
                value = evaluate(ir, ns, self.path, replace(self.ctx, force=((whole, flag),)))
                when = not_set if bool(unset) == flag else is_set
                out.append(Option(value, (when,), debug == arm, self.path, span))
            return tuple(out)
        return None

    def mutate(self, ns: Namespace, name: str, change: Callable[[Namespace], None]) -> None:
        """An in-place change (``CACHES["default"]["TIMEOUT"] = 60``, ``MIDDLEWARE.append``),
        applied to the value and to each of its per-branch values."""
        binding = ns.get(name)
        options = None
        if binding is not None and binding.options is not None:
            changed = []
            for option in binding.options:
                scratch = dict(ns)
                scratch[name] = Binding(option.value, option.path or binding.path, option.span or binding.span)
                change(scratch)
                changed.append(replace(option, value=scratch[name].value))
            options = tuple(changed)
        change(ns)
        if options is not None and ns.get(name) is not None:
            ns[name].options = options

    def star(self, ns: Namespace, stmt: Stmt) -> None:
        module, implicit = stmt[1], (stmt[2] if len(stmt) > 2 else None)
        loaded = None
        if implicit and implicit not in self.active:
            loaded = self.load(implicit)
            if loaded is not None:
                module = implicit
        if loaded is None and module not in self.active:
            loaded = self.load(module)
        if loaded is not None:
            base_path, base_facts = loaded
            base_ns, base_definitions = run_settings(
                base_path, base_facts, self.load, ctx=self.ctx, overrides=self.overrides,
                _active=self.active | {module},
            )
            ns.update(base_ns)
            self.definitions.extend(base_definitions)

    # --- branches -----------------------------------------------------------------------------

    def branch(self, ns: Namespace, stmt: Stmt) -> None:
        test_ir, body, orelse = stmt[1], stmt[2], stmt[3]
        test = evaluate(test_ir, ns, self.path, self.ctx)
        known = test is not UNKNOWN and not _has_unknown(test)
        variables = env_vars(test_ir, ns)
        if not variables or "?" in variables:
            if known:
                self.run(body if test else orelse, ns)
            else:
                self.arms(ns, [(body, None, False), (orelse, None, False)], None, frozenset())
            return
        unset = evaluate(test_ir, ns, self.path, self.unset_ctx)
        if unset is UNKNOWN or _has_unknown(unset):
            self.arms(ns, [(body, None, False), (orelse, None, False)], 0 if known and test else (1 if known else None), frozenset())
            return
        not_set, is_set = _conditions(variables)
        body_when, else_when = (not_set, is_set) if unset else (is_set, not_set)
        debug = self.debug_arm(test_ir, ns, variables)
        primary = (0 if test else 1) if known else None
        self.arms(
            ns,
            [(body, body_when, debug == 0), (orelse, else_when, debug == 1)],
            primary,
            variables,
            unset_arm=0 if unset else 1,
        )

    def debug_arm(self, test_ir: IR, ns: Namespace, variables: frozenset[str]) -> int | None:
        """Which arm a true ``DEBUG`` selects (production runs the other), if the test says."""
        debug_vars = [v for v in variables if "DEBUG" in v.upper()]
        if not debug_vars and not (ns.get("DEBUG") is not None and ns["DEBUG"].env):
            return None
        results = []
        for flag in (True, False):
            scratch = dict(ns)
            if "DEBUG" in ns:
                scratch["DEBUG"] = Binding(flag, ns["DEBUG"].path, ns["DEBUG"].span)
            assume = tuple((v, "true" if flag else "false") for v in debug_vars)
            results.append(evaluate(test_ir, scratch, self.path, replace(self.unset_ctx, assume=assume)))
        if any(r is UNKNOWN or _has_unknown(r) for r in results) or bool(results[0]) == bool(results[1]):
            return None
        return 0 if results[0] else 1

    def try_(self, ns: Namespace, stmt: Stmt) -> None:
        body, handlers = stmt[1], stmt[2]
        catches_import = len(stmt) > 3 and stmt[3]
        if catches_import:
            star = next((i for i, s in enumerate(body) if s[0] == "*"), None)
            if star is not None:
                # An optional override (local settings): judged without it, and remembered.
                self.run(body[:star], ns)
                self.overrides.append(Override(body[star][1], self.path, body[star][3] if len(body[star]) > 3 else Span(1)))
                self.run(handlers, ns)
                return
            imported = [m for s in body if s[0] == "?" and len(s) > 2 for m in s[2]]
            if imported:
                name = f"`{imported[0]}`"
                self.arms(
                    ns,
                    [(body, f"{name} is installed", False), (handlers, f"{name} is not installed", False)],
                    0,
                    frozenset(),
                )
                return
        self.run(body, ns)
        self.arms(ns, [(handlers, None, False), ((), None, False)], None, frozenset())

    def arms(
        self,
        ns: Namespace,
        arms: list[tuple[tuple[Stmt, ...], str | None, bool]],
        primary: int | None,
        variables: frozenset[str],
        unset_arm: int | None = None,
    ) -> None:
        """Run each arm on its own copy of what it touches; then bind each changed name to the
        primary arm's value (or to what the arms agree on), with one ``Option`` per arm when the
        arms carry conditions."""
        # Rebinding a name in an arm replaces it in that arm's dict alone; only what an arm
        # changes in place (``CACHES["default"]["TIMEOUT"] = 60``, ``.append``) is copied first.
        mutated = _mutated([stmts for stmts, _, _ in arms])
        results = []
        for stmts, _, debug in arms:
            scratch = dict(ns)
            for name in mutated:
                if name in ns:
                    scratch[name] = _copy_binding(ns[name])
            kept = self.definitions
            if debug:  # DEBUG-only code: definition-site rules do not judge it
                self.definitions = []
            try:
                self.run(stmts, scratch)
            finally:
                self.definitions = kept
            results.append(scratch)
        names = {n for r in results for n, b in r.items() if ns.get(n) is not b}
        conditional = all(when is not None for _, when, _ in arms)
        for name in sorted(names):
            bindings = [r.get(name) for r in results]
            present = [b for b in bindings if b is not None]
            options: tuple[Option, ...] | None = None
            if conditional:
                options = tuple(
                    replace(o, when=(when, *o.when), debug=debug or o.debug)
                    for b, (_, when, debug) in zip(bindings, arms)
                    if b is not None
                    for o in b.all_options()
                )
                if len(options) > MAX_OPTIONS:
                    options = None  # many ``if``s in a row: keep what the primary value says
            env = frozenset().union(*(b.env for b in present)) | variables
            unset: Any = _SAME
            if unset_arm is not None and bindings[unset_arm] is not None:
                unset = bindings[unset_arm].unset_value()  # type: ignore[union-attr]
            if primary is not None:
                chosen = bindings[primary]
                if chosen is None:
                    ns.pop(name, None)
                    continue
                ns[name] = Binding(chosen.value, chosen.path, chosen.span, env, unset, options)
                continue
            value: Any = bindings[0].value if bindings[0] is not None else _ABSENT
            for b in bindings[1:]:
                value = merge(value, b.value if b is not None else _ABSENT)
            last = present[-1]
            ns[name] = Binding(value, last.path, last.span, env, unset, options)


def _conditions(variables: frozenset[str]) -> tuple[str, str]:
    """("REDIS_URL is not set", "REDIS_URL is set") for the variables a test reads."""
    names = sorted(variables)
    not_set = f"{_join(names, 'and')} {'is' if len(names) == 1 else 'are'} not set"
    return not_set, f"{_join(names, 'or')} is set"


def _conditional_expressions(ir: Any) -> list[tuple[IR, IR]]:
    """(test, whole expression) of each ``a if test else b`` in an expression, outermost first."""
    found: list[tuple[IR, IR]] = []

    def walk(node: Any) -> None:
        if isinstance(node, tuple) and node:
            if node[0] == "ifexp":
                found.append((node[1], node))
            for child in node[1:] if isinstance(node[0], str) else node:
                walk(child)

    walk(ir)
    return found


def _copy_binding(binding: Binding) -> Binding:
    options = binding.options
    if options is not None:
        options = tuple(replace(o, value=_copy_value(o.value)) for o in options)
    return Binding(_copy_value(binding.value), binding.path, binding.span, binding.env, binding.unset, options)


def _copy_value(value: Any) -> Any:
    """A copy of an evaluated value for in-place changes: its dicts, lists and sets, with where
    their items were written; the leaves (strings, numbers, spans, UNKNOWN) are immutable and
    shared (``copy.deepcopy`` copied those too: most of a warm re-check's time)."""
    if isinstance(value, dict):
        new = type(value)((k, _copy_value(v)) for k, v in value.items())
        if isinstance(value, LocDict):
            new.__dict__.update(value.__dict__)
            new.key_spans = dict(value.key_spans)
        return new
    if isinstance(value, LocList):
        copied = LocList()
        copied.extend(_copy_value(v) for v in value)
        copied.__dict__.update(value.__dict__)
        copied.item_locations = list(value.item_locations)
        return copied
    if isinstance(value, list):
        return type(value)(_copy_value(v) for v in value)
    if isinstance(value, set):
        return set(value)
    if isinstance(value, tuple) and type(value) is tuple:
        return tuple(_copy_value(v) for v in value)
    return value


def _mutated(blocks: list[tuple[Stmt, ...]]) -> set[str]:
    """Names the statements change in place (item assignments and mutating method calls), in
    nested blocks too; a star import or an assignment only rebinds."""
    names: set[str] = set()

    def walk(statements: tuple[Stmt, ...]) -> None:
        for stmt in statements:
            kind = stmt[0]
            if kind in ("[]=", "call"):
                names.add(stmt[1])
            elif kind == "if":
                walk(stmt[2])
                walk(stmt[3])
            elif kind == "try":
                walk(stmt[1])
                walk(stmt[2])

    for block in blocks:
        walk(block)
    return names


def _names_in(ir: Any) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, tuple) and node:
            if node[0] == "n" and len(node) == 2 and isinstance(node[1], str):
                found.append(node[1])
                return
            for child in node[1:] if isinstance(node[0], str) else node:
                walk(child)

    walk(ir)
    return found


def _set_item(ns: Namespace, name: str, keys: tuple[IR, ...], value: Any, path: str, ctx: Context = DEFAULT_CONTEXT) -> None:
    binding = ns.get(name)
    container = binding.value if binding else UNKNOWN
    key_values = [evaluate(k, ns, path, ctx) for k in keys]
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
