"""Settings modules evaluated statically, and which of them run in production."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from cachelint.discovery import glob_spec
from cachelint.facts.python import PythonFacts
from cachelint.facts.settings import (
    SETTINGS_MARKERS,
    Definition,
    SettingsFacts,
    is_production_module,
    run_settings,
)
from cachelint.facts.values import UNKNOWN, Namespace, SettingRef
from cachelint.finding import Location, Span


@dataclass
class SettingsModule:
    module: str
    path: str
    namespace: Namespace
    definitions: list[Definition]
    production: bool
    is_leaf: bool  # not star-imported by another settings module

    def value(self, name: str) -> Any:
        binding = self.namespace.get(name)
        return binding.value if binding is not None else None

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
            if facts.settings and any(m in candidates for m in facts.settings.star_imports):
                candidates.setdefault(facts.module, facts)
        imported = {m for f in candidates.values() for m in f.settings.star_imports}  # type: ignore[union-attr]

        def load(module: str) -> tuple[str, SettingsFacts] | None:
            target = self.modules.get(module)
            if target is None or target.settings is None:
                return None
            return target.path, target.settings

        modules = []
        for name, facts in sorted(candidates.items()):
            assert facts.settings is not None
            namespace, definitions = run_settings(facts.path, facts.settings, load, _active=frozenset({name}))
            modules.append(
                SettingsModule(
                    module=name,
                    path=facts.path,
                    namespace=namespace,
                    definitions=definitions,
                    production=self._is_production(name, facts.path, namespace),
                    is_leaf=name not in imported,
                )
            )
        return modules

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
