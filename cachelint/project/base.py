"""The project's facts as loaded, and the lookups every question starts from.

Everything in the model is derived from facts, so the same model comes out whether facts were
parsed now, in a worker, or read from the cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cachelint.config import Config
from cachelint.facts.bundler import BundlerFacts
from cachelint.facts.deploy import DeploymentFacts
from cachelint.facts.python import PythonFacts, SkippedModule
from cachelint.facts.settings_evidence import SettingsEvidence
from cachelint.facts.templates import TemplateFacts
from cachelint.facts.views import Call, ClassFacts, FunctionFacts
from cachelint.finding import Location


@dataclass(frozen=True)
class Problem:
    """A file that could not be read or parsed (reported as CL001)."""

    location: Location
    reason: str


@dataclass
class ModelBase:
    config: Config = field(default_factory=Config)
    root: Path | None = None
    # Declared by the project (or configured); None: unknown, rules assume the latest release.
    django_version: tuple[int, int] | None = None
    python: dict[str, PythonFacts] = field(default_factory=dict)  # by display path
    templates_by_path: dict[str, TemplateFacts] = field(default_factory=dict)
    template_names: dict[str, str] = field(default_factory=dict)  # template name -> display path
    problems: list[Problem] = field(default_factory=list)
    # Web-server, proxy and chart files (nginx, Apache, Caddy, Varnish, ingress), by display path.
    deployment: dict[str, DeploymentFacts] = field(default_factory=dict)
    # Modules the pre-filter skipped, with what they import (see modules_importing).
    skipped: dict[str, SkippedModule] = field(default_factory=dict)
    # JavaScript bundler configs (webpack, Vite, ...), by display path: CL501 asks whether they hash.
    bundlers: dict[str, BundlerFacts] = field(default_factory=dict)
    # Entry points, deployment and packaging files read as data, by display path.
    evidence: dict[str, SettingsEvidence] = field(default_factory=dict)

    # --- lookups ---------------------------------------------------------------------------

    @cached_property
    def modules(self) -> dict[str, PythonFacts]:
        return {facts.module: facts for facts in self.python.values()}

    @cached_property
    def _definitions(self) -> dict[str, tuple[PythonFacts, FunctionFacts | ClassFacts]]:
        table: dict[str, tuple[PythonFacts, FunctionFacts | ClassFacts]] = {}
        for facts in self.python.values():
            for item in (*facts.views.functions, *facts.views.classes):
                table[f"{facts.module}.{item.name}"] = (facts, item)
        return table

    @cached_property
    def _aliases(self) -> dict[str, tuple[PythonFacts, Call]]:
        return {
            f"{facts.module}.{alias.name}": (facts, alias.call)
            for facts in self.python.values()
            for alias in facts.views.aliases
        }

    def functions(self) -> Iterator[tuple[PythonFacts, FunctionFacts]]:
        """Every module-level function and method of a module-level class."""
        for facts in self.python.values():
            yield from ((facts, f) for f in facts.views.functions)
            yield from ((facts, m) for cls in facts.views.classes for m in cls.methods)

    @cached_property
    def cache_control_settings(self) -> list[tuple[dict[str, Any], Location]]:
        """Every literal Cache-Control setting in the project, once each: the views'
        decorators, and ``patch_cache_control``/``response["Cache-Control"]`` in any function."""
        found: dict[Location, dict[str, Any]] = {}
        for view in self.views:
            for directives, location in view.cache_control():
                found.setdefault(location, directives)
        for facts, function in self.functions():
            for write in function.header_writes:
                if write.header == "cache-control" and isinstance(write.value, dict):
                    found.setdefault(Location(facts.path, write.span), write.value)
        return [(directives, location) for location, directives in sorted(found.items())]

    def template(self, name: str) -> TemplateFacts | None:
        path = self.template_names.get(name)
        return self.templates_by_path.get(path) if path else None

    def find_function(self, qualified: str) -> tuple[PythonFacts, FunctionFacts] | None:
        target = self._definitions.get(qualified)
        if target is not None and isinstance(target[1], FunctionFacts):
            return target  # type: ignore[return-value]
        return None

    def find_class(self, qualified: str) -> tuple[PythonFacts, ClassFacts] | None:
        target = self._definitions.get(qualified)
        if target is not None and isinstance(target[1], ClassFacts):
            return target  # type: ignore[return-value]
        return None

    def class_bases(self, qualified: str) -> list[str] | None:
        """All base names of a project class, transitively (None when not a project class)."""
        target = self.find_class(qualified)
        if target is None:
            return None
        return [base for _, cls in self._class_chain(*target) for base in cls.bases]
