"""Settings modules evaluated statically, and which of them run in production."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cachelint.discovery import glob_spec
from cachelint.facts.python import PythonFacts
from cachelint.facts.settings import (
    CONFIGURATION_BASES,
    NON_PRODUCTION_NAME,
    PRODUCTION_NAME,
    SETTINGS_MARKERS,
    ConfigClass,
    Definition,
    Override,
    SettingsFacts,
    is_production_module,
    run_settings,
    run_statements,
)
from cachelint.facts.values import UNKNOWN, Context, Namespace, Option, SettingRef
from cachelint.finding import Location, Span


@dataclass
class SettingsModule:
    module: str
    path: str
    namespace: Namespace
    definitions: list[Definition]
    production: bool
    is_leaf: bool  # not star-imported by another settings module
    # Optional modules left out (``try: from .local import * except ImportError: pass``).
    overrides: list[Override] = field(default_factory=list)
    # A django-configurations class (``module`` is then ``settings.Prod``).
    configuration: str | None = None

    def value(self, name: str) -> Any:
        binding = self.namespace.get(name)
        return binding.value if binding is not None else None

    def options(self, name: str) -> tuple[Option, ...]:
        """The values ``name`` can have: one per branch of an ``if`` on the environment that
        sets it (each with its condition), else the one value; () when it is not set."""
        binding = self.namespace.get(name)
        return binding.all_options() if binding is not None else ()

    @property
    def middleware_setting(self) -> str:
        """``MIDDLEWARE``, or the pre-Django-1.10 ``MIDDLEWARE_CLASSES`` when only that is set."""
        if "MIDDLEWARE" not in self.namespace and "MIDDLEWARE_CLASSES" in self.namespace:
            return "MIDDLEWARE_CLASSES"
        return "MIDDLEWARE"

    def middleware(self) -> Any:
        """The middleware list Django uses (``MIDDLEWARE``, else ``MIDDLEWARE_CLASSES``)."""
        return self.value(self.middleware_setting)

    def location_of(self, name: str) -> Location | None:
        binding = self.namespace.get(name)
        return Location(binding.path, binding.span) if binding is not None else None


class SettingsQueries:
    """The project's settings modules, evaluated along their star-import chains."""

    # --- settings ----------------------------------------------------------------------------

    @cached_property
    def settings_modules(self) -> list[SettingsModule]:
        candidates: dict[str, PythonFacts] = {}
        for facts in self.python.values():
            settings = facts.settings
            if settings is None:
                continue
            if (
                settings.assigned & SETTINGS_MARKERS
                or facts.path.rsplit("/", 1)[-1] == "settings.py"
                or "/settings/" in f"/{facts.path}"
            ):
                candidates[facts.module] = facts
        # A module that star-imports a settings module is one too (prod.py: from .base import *).
        for facts in self.python.values():
            if facts.settings and any(m in candidates for m in self.star_imports_of(facts)):
                candidates.setdefault(facts.module, facts)
        imported = {m for f in candidates.values() for m in self.star_imports_of(f)}

        def load(module: str) -> tuple[str, SettingsFacts] | None:
            target = self.modules.get(module)
            if target is None or target.settings is None:
                return None
            return target.path, target.settings

        ctx = self.settings_context
        classes = self._configuration_classes
        modules = []
        for name, facts in sorted(candidates.items()):
            assert facts.settings is not None
            overrides: list[Override] = []
            namespace, definitions = run_settings(
                facts.path, facts.settings, load, ctx=ctx, overrides=overrides, _active=frozenset({name})
            )
            own = [q for q, (f, _) in classes.items() if f is facts]
            if own:
                modules.extend(self._configuration_modules(own, namespace, load))
                continue  # the module's own names are not settings: its classes are
            modules.append(
                SettingsModule(
                    module=name,
                    path=facts.path,
                    namespace=namespace,
                    definitions=definitions,
                    production=self._is_production(name, facts.path, namespace),
                    is_leaf=name not in imported,
                    overrides=overrides,
                )
            )
        return modules

    @cached_property
    def settings_context(self) -> Context:
        """How settings are evaluated: ``django.VERSION`` is the project's Django (the latest
        release when it declares none)."""
        from cachelint.django_version import LATEST

        return Context(django_version=self.django_version or LATEST)

    def star_imports_of(self, facts: PythonFacts) -> list[str]:
        """The modules a settings module star-imports, as Python finds them: ``from base import *``
        inside a package is the sibling ``base`` when the project has one (Python 2's implicit
        relative import), else the absolute module."""
        settings = facts.settings
        if settings is None:
            return []
        package = facts.module if facts.path.endswith("/__init__.py") else facts.module.rpartition(".")[0]
        out = []
        for module in settings.star_imports:
            sibling = f"{package}.{module}" if package and "." not in module else None
            out.append(sibling if sibling and sibling in self.modules and module not in self.modules else module)
        return out

    # --- django-configurations ---------------------------------------------------------------

    @cached_property
    def _settings_classes(self) -> dict[str, tuple[PythonFacts, ConfigClass]]:
        """Every class lowered as possible settings (mixins such as ``class CORS:`` included)."""
        return {
            f"{facts.module}.{cls.name}": (facts, cls)
            for facts in self.python.values()
            if facts.settings is not None
            for cls in facts.settings.classes
        }

    @cached_property
    def _configuration_classes(self) -> dict[str, tuple[PythonFacts, ConfigClass]]:
        """Every ``Configuration`` subclass in the project, by qualified name."""
        table = self._settings_classes
        found: dict[str, tuple[PythonFacts, ConfigClass]] = {}

        def is_configuration(name: str, seen: frozenset[str]) -> bool:
            if name in CONFIGURATION_BASES:
                return True
            if name in seen or name not in table:
                return False
            return any(is_configuration(b, seen | {name}) for b in table[name][1].bases)

        for name, entry in table.items():
            if is_configuration(name, frozenset()):
                found[name] = entry
        return found

    def _configuration_modules(self, names: list[str], module_ns: Namespace, load: Any) -> list[SettingsModule]:
        classes = self._configuration_classes
        subclassed = {b for _, cls in classes.values() for b in cls.bases}
        out = []
        for qualified in names:
            facts, cls = classes[qualified]
            namespace, definitions, overrides = self._run_configuration(qualified, load)
            virtual = f"{facts.module}.{cls.name}"
            out.append(
                SettingsModule(
                    module=virtual,
                    path=facts.path,
                    namespace=namespace,
                    definitions=definitions,
                    production=self._is_production_configuration(cls.name, facts.path, namespace),
                    is_leaf=qualified not in subclassed,
                    overrides=overrides,
                    configuration=cls.name,
                )
            )
        return out

    def _run_configuration(self, qualified: str, load: Any) -> tuple[Namespace, list[Definition], list[Override]]:
        """A configuration class's settings: its bases' (in MRO order), then its own body, each
        run with its module's names in scope; ``Base.NAME`` reads a base class's setting."""
        classes = self._settings_classes  # mixins take part in the MRO too
        order: list[str] = []

        def linearize(name: str, seen: frozenset[str]) -> None:
            if name not in classes or name in seen:
                return
            for base in reversed(classes[name][1].bases):
                linearize(base, seen | {name})
            if name in order:
                order.remove(name)
            order.append(name)

        linearize(qualified, frozenset())
        attributes: Namespace = {}
        per_class: dict[str, Namespace] = {}
        definitions: list[Definition] = []
        overrides: list[Override] = []
        ctx = self.settings_context
        module_names: dict[str, Namespace] = {}
        for name in order:
            facts, cls = classes[name]
            assert facts.settings is not None
            if facts.module not in module_names:
                module_names[facts.module], _ = run_settings(
                    facts.path, facts.settings, load, ctx=ctx, _active=frozenset({facts.module})
                )
            ns: Namespace = {**module_names[facts.module], **attributes}
            for base in cls.bases:
                local = base.rsplit(".", 1)[-1]
                for attr, binding in per_class.get(base, {}).items():
                    ns[f"{local}.{attr}"] = binding
            before = dict(ns)
            definitions.extend(run_statements(cls.statements, ns, facts.path, load, ctx=ctx, overrides=overrides))
            own = {k: v for k, v in ns.items() if "." not in k and before.get(k) is not v and k.isupper()}
            attributes.update(own)
            per_class[name] = dict(attributes)
        return attributes, definitions, overrides

    def _is_production_configuration(self, name: str, path: str, namespace: Namespace) -> bool:
        """The class ``DJANGO_CONFIGURATION`` names in production: by convention ``Production``,
        ``Prod``, ``Live`` or ``Staging``; ``Dev``, ``Local``, ``Test``... are not, nor are the
        classes that only build the docs or the static files (``Docs``, ``Build``); others by
        ``DEBUG = False``."""
        if self.config.production_settings:
            return self._is_production(name, path, namespace)
        words = "_".join(re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", name)).lower() or name.lower()
        if NON_PRODUCTION_NAME.search(words) or re.search(r"(^|_)(docs?|build)(_|$)", words):
            return False
        if PRODUCTION_NAME.search(words) or re.search(r"(^|_)staging(_|$)", words):
            return True
        debug = namespace.get("DEBUG")
        return debug is not None and debug.value is False

    def setting_value(self, ref: SettingRef) -> Any:
        """What ``settings.NAME["key"]`` is in production: the value the production settings
        modules agree on (all leaf modules when none is production), else ``UNKNOWN``."""
        modules = [m for m in self.settings_modules if m.production and m.is_leaf] or [
            m for m in self.settings_modules if m.is_leaf
        ]
        values = []
        for module in modules:
            value = module.value(ref.name)
            for key in ref.keys:
                value = value.get(key, UNKNOWN) if isinstance(value, dict) else UNKNOWN
            values.append(value)
        if not values or any(v is UNKNOWN or v != values[0] for v in values):
            return UNKNOWN
        return values[0]

    def _is_production(self, module: str, path: str, namespace: Namespace) -> bool:
        """Configured ``production-settings`` globs win; else the name or ``DEBUG = False``."""
        patterns = self.config.production_settings
        if patterns:
            spec = glob_spec(patterns)
            relative = Path(
                os.path.relpath(os.path.realpath(path), os.path.realpath(self.root or "."))
            ).as_posix()
            return bool(spec and spec.match_file(relative))
        return is_production_module(module, namespace)


def location_in_dict(container: Any, key: Any, fallback: Location) -> Location:
    """Where ``key`` was written in an evaluated settings dict, else ``fallback``."""
    spans = getattr(container, "key_spans", {})
    path = getattr(container, "path", "") or fallback.path
    span: Span | None = spans.get(key)
    return Location(path, span) if span is not None else fallback
