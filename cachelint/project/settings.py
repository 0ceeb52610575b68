"""Settings modules evaluated statically, and which of them run in production."""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cachelint.cache_calls import is_test_path
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
from cachelint.facts.settings_evidence import DEPLOY, DEV, ENTRY, MANAGE, SETTINGS_VARIABLE, TEST
from cachelint.facts.values import UNKNOWN, Binding, Context, Namespace, Option, SettingRef
from cachelint.finding import Location, Span
from cachelint.project.evidence import Named


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
    # Why it is production or not, and the file line that says so (None: its name or DEBUG).
    production_reason: str = ""
    production_location: Location | None = None
    star_chain: tuple[str, ...] = ()  # modules it star-imports, transitively, in order
    deployed: bool = False  # named by a deployment file or an entry point (wsgi.py, asgi.py)

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
    def test_runner_modules(self) -> frozenset[str]:
        """Modules a settings module names in ``TEST_RUNNER`` (``temba.testrunner``): test code,
        whatever their file is called."""
        return frozenset(
            runner.rpartition(".")[0]
            for module in self.settings_modules
            if isinstance(runner := module.value("TEST_RUNNER"), str)
        )

    def star_importing_settings(self) -> set[str]:
        """Skipped modules that star-import a settings module, or that deployment files name
        as settings and star-import anything: settings modules too, parsed on demand (the byte
        pre-filter cannot tell ``from .base import *`` in prod.py from a package's re-exports)."""
        candidates = set(self._settings_candidates)
        named = set(self.settings_named)
        found = set()
        for module, skipped in self.skipped.items():
            if not skipped.star_imports:
                continue
            imported = skipped.imported()
            # ``from base import *`` in a package: Python 2's implicit relative import.
            siblings = {f"{prefix}.{name}" for name in imported for prefix in (module, module.rpartition(".")[0])}
            if module in named or (imported | siblings) & candidates:
                found.add(module)
        return found

    def is_test_code(self, facts: PythonFacts) -> bool:
        """Test code by its path (see ``is_test_path``) or because the settings run it as the
        test runner."""
        return is_test_path(facts.path) or facts.module in self.test_runner_modules

    @cached_property
    def settings_modules(self) -> list[SettingsModule]:
        candidates = self._settings_candidates
        imported = {m for f in candidates.values() for m in self.star_imports_of(f)}

        def load(module: str) -> tuple[str, SettingsFacts] | None:
            target = self.modules.get(module)
            if target is None or target.settings is None:
                return None
            return target.path, target.settings

        ctx = self.settings_context
        named = self.settings_named
        evaluated: dict[str, tuple[Namespace, list[Definition], list[Override]]] = {}
        for name, facts in sorted(candidates.items()):
            assert facts.settings is not None
            overrides: list[Override] = []
            namespace, definitions = run_settings(
                facts.path, facts.settings, load, ctx=ctx, overrides=overrides, _active=frozenset({name})
            )
            evaluated[name] = (namespace, definitions, overrides)
        # The modules deployment files run (not named for development, not with DEBUG on).
        deployed = {
            m
            for m, lines in named.items()
            if m in evaluated
            and any(n.role == DEPLOY for n in lines)
            and not NON_PRODUCTION_NAME.search(m.lower())
            and not self._debug_on(evaluated[m][0])
        }
        classes = self._configuration_classes
        modules = []
        for name, facts in sorted(candidates.items()):
            namespace, definitions, overrides = evaluated[name]
            decision = self._production_decision(name, facts.path, namespace, named.get(name, []), deployed)
            own = [q for q, (f, _) in classes.items() if f is facts]
            if own:
                # The module's own names are not settings: its classes are, in production
                # when the module runs there.
                modules.extend(self._configuration_modules(own, namespace, load, name, decision))
                continue
            production, reason, location = decision
            modules.append(
                SettingsModule(
                    module=name,
                    path=facts.path,
                    namespace=namespace,
                    definitions=definitions,
                    production=production,
                    is_leaf=name not in imported,
                    overrides=overrides,
                    production_reason=reason,
                    production_location=location,
                    star_chain=self._star_chain(name),
                    deployed=production
                    and location is not None
                    and any(n.role in (DEPLOY, ENTRY) for n in named.get(name, [])),
                )
            )
        return modules

    @cached_property
    def _settings_candidates(self) -> dict[str, PythonFacts]:
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
        return candidates

    def _debug_on(self, namespace: Namespace) -> bool:
        debug = namespace.get("DEBUG")
        return debug is not None and debug.value is True and self._written_literally(debug, True)

    def _written_literally(self, binding: Binding, value: Any) -> bool:
        """Whether ``binding`` comes from ``NAME = <value>`` written as a literal (not the
        default of an environment lookup, which the deployment may override)."""
        facts = self.python.get(binding.path)
        if facts is None or facts.settings is None:
            return False

        def search(statements: tuple) -> bool:
            for stmt in statements:
                if stmt[0] == "=" and stmt[3] == binding.span:
                    return stmt[2] == ("c", value)
                if stmt[0] == "if" and (search(stmt[2]) or search(stmt[3])):
                    return True
                if stmt[0] == "try" and (search(stmt[1]) or search(stmt[2])):
                    return True
            return False

        return search(facts.settings.statements)

    def _star_chain(self, module: str) -> tuple[str, ...]:
        chain: list[str] = []

        def follow(name: str) -> None:
            facts = self.modules.get(name)
            if facts is None or facts.settings is None:
                return
            for imported in facts.settings.star_imports:
                if imported not in chain and imported != module:
                    chain.append(imported)
                    follow(imported)

        follow(module)
        return tuple(chain)

    @cached_property
    def settings_named(self) -> dict[str, list[Named]]:
        """The lines of entry points and deployment files naming each settings module (by
        dotted name), strongest first. A name matches the module of that dotted name; else the
        file it would import from the naming file's folder or one above it (``settings`` named
        by ``sandbox/wsgi.py`` is ``sandbox/settings.py``, as Python's path would have it);
        else the one module whose path ends like the name (``config.settings.live`` is
        ``src/config/settings/live.py`` when ``src/`` is the source root)."""
        candidates = {name: facts.path for name, facts in self._settings_candidates.items()}
        by_path = {posixpath.normpath(path): name for name, path in candidates.items()}
        found: dict[str, list[Named]] = {}
        for line in self.named_settings:  # type: ignore[attr-defined]
            if line.setting.variable != SETTINGS_VARIABLE:
                continue
            target = line.value if line.value in candidates else None
            tail = line.value.replace(".", "/")
            directory = posixpath.dirname(line.path)
            while target is None:
                for suffix in (".py", "/__init__.py"):
                    target = target or by_path.get(posixpath.normpath(posixpath.join(directory, tail + suffix)))
                if not directory or directory in (".", "..") or directory.endswith("/.."):
                    break
                directory = posixpath.dirname(directory)
            if target is None:
                matches = [
                    m for m, path in candidates.items() if f"/{path}".endswith((f"/{tail}.py", f"/{tail}/__init__.py"))
                ]
                target = matches[0] if len(matches) == 1 else None
            if target is not None:
                found.setdefault(target, []).append(line)
        return found

    def _production_decision(
        self, module: str, path: str, namespace: Namespace, named: list[Named], deployed: set[str]
    ) -> tuple[bool, str, Location | None]:
        """Production or not, why, and the file line that says so. In order: configured
        ``production-settings`` globs; the example project of a packaged app (never); a module
        with ``DEBUG = True`` statically (never); a
        deployment file naming the module (whatever its name, unless it is named for
        development or tests); another module being the one deployment files name; the
        default of wsgi.py/asgi.py/celery.py; pytest/tox/CI or development files naming it (not
        production); and last its name or ``DEBUG = False``."""
        patterns = self.config.production_settings
        if patterns:
            spec = glob_spec(patterns)
            relative = Path(
                os.path.relpath(os.path.realpath(path), os.path.realpath(self.root or "."))
            ).as_posix()
            if spec and spec.match_file(relative):
                return True, "matched by the production-settings option", None
            return False, "not matched by the production-settings option", None
        example = self.example_project(path)  # type: ignore[attr-defined]
        if example:
            return False, f"example or test project of a reusable app: {example}", None
        dev_name = NON_PRODUCTION_NAME.search(module.lower()) is not None
        debug = namespace.get("DEBUG")
        # Whatever names it, a module that runs with DEBUG on is a development deployment.
        debug_on = self._debug_on(namespace)
        by_role: dict[str, list[Named]] = {}
        for line in named:
            by_role.setdefault(line.role, []).append(line)
        excluded = bool(deployed) and module not in deployed
        # wsgi.py's default is often the base that production settings extend (and that the
        # deployment overrides): then it is not evidence that the base runs as it is.
        extended_by = [
            other
            for other, facts in self._settings_candidates.items()
            if module in facts.settings.star_imports  # type: ignore[union-attr]
            and PRODUCTION_NAME.search(other.lower().rsplit(".", 1)[-1])
            and not NON_PRODUCTION_NAME.search(other.lower())
        ]
        if ENTRY in by_role and extended_by and DEPLOY not in by_role:
            excluded = True
        for role, label, applies in ((DEPLOY, "deployment file", True), (ENTRY, "entry point default", not excluded)):
            if role in by_role and not dev_name and applies:
                line = by_role[role][0]
                if debug_on:
                    assert debug is not None
                    return False, f"DEBUG = True at {debug.path}:{debug.span.line}, though {line.describe()}", None
                return True, f"{label}: {line.describe()}", line.location
        for role, label in ((TEST, "test settings"), (DEV, "development settings"), (DEPLOY, "named for development")):
            if role in by_role:
                line = by_role[role][0]
                return False, f"{label}: {line.describe()}", line.location
        if excluded and deployed and module not in deployed:
            others = ", ".join(sorted(deployed))
            return False, f"deployment files name other settings ({others})", None
        production = is_production_module(module, namespace)
        manage = by_role.get(MANAGE)
        if production:
            if PRODUCTION_NAME.search(module.lower().rsplit(".", 1)[-1]):
                reason = "named like production settings"
            else:
                assert debug is not None
                reason = f"DEBUG = False at {debug.path}:{debug.span.line}"
            return True, reason, None
        if extended_by and ENTRY in by_role:
            return False, (
                f"the base of production settings {', '.join(sorted(extended_by))}, though "
                f"{by_role[ENTRY][0].describe()}"
            ), None
        if manage:
            return False, f"development default: {manage[0].describe()}", manage[0].location
        if dev_name:
            return False, "named like development or test settings", None
        return False, "no deployment file names it, its name does not say production and DEBUG is not False", None

    @cached_property
    def settings_context(self) -> Context:
        """How settings are evaluated: ``django.VERSION`` is the project's Django (the latest
        release when it declares none)."""
        from cachelint.django_version import LATEST, parse_version

        # Asked during the join too, before the engine sets ``django_version``.
        configured = parse_version(self.config.django_version) if self.config.django_version else None
        declared = self.declared_django  # type: ignore[attr-defined]
        return Context(
            django_version=self.django_version or configured or (declared.version if declared else None) or LATEST
        )

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

    def _configuration_modules(
        self, names: list[str], module_ns: Namespace, load: Any, module: str, decision: tuple
    ) -> list[SettingsModule]:
        """The django-configurations classes of settings module ``module``, each a settings
        module of its own. In production: the classes that deployment files or entry points
        select with ``DJANGO_CONFIGURATION`` when they select any, else those named like
        production; none when the module itself is known not to run there."""
        module_production, reason, location = decision
        vetoed = not module_production and (
            location is not None or reason.startswith(("example", "DEBUG = True", "deployment files name other"))
        )
        selected = {n.value: n for n in reversed(self.configuration_for(module))}
        classes = self._configuration_classes
        subclassed = {b for _, cls in classes.values() for b in cls.bases}
        out = []
        for qualified in names:
            facts, cls = classes[qualified]
            namespace, definitions, overrides = self._run_configuration(qualified, load)
            named = selected.get(cls.name)
            if vetoed:
                production, why, where = False, reason, location
            elif self.config.production_settings:
                production, why, where = module_production, reason, location
            elif selected:
                production = named is not None
                why = f"DJANGO_CONFIGURATION: {named.describe()}" if named else "DJANGO_CONFIGURATION names another class"
                where = named.location if named else None
            else:
                production = self._is_production_configuration(cls.name, namespace)
                why, where = ("named like a production configuration" if production else "not named for production"), None
            out.append(
                SettingsModule(
                    module=f"{facts.module}.{cls.name}",
                    path=facts.path,
                    namespace=namespace,
                    definitions=definitions,
                    production=production,
                    is_leaf=qualified not in subclassed,
                    overrides=overrides,
                    configuration=cls.name,
                    production_reason=why,
                    production_location=where,
                    deployed=named is not None,
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

    def _is_production_configuration(self, name: str, namespace: Namespace) -> bool:
        """The class ``DJANGO_CONFIGURATION`` names in production: by convention ``Production``,
        ``Prod``, ``Live`` or ``Staging``; ``Dev``, ``Local``, ``Test``... are not, nor are the
        classes that only build the docs or the static files (``Docs``, ``Build``); others by
        ``DEBUG = False``."""
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



def location_in_dict(container: Any, key: Any, fallback: Location) -> Location:
    """Where ``key`` was written in an evaluated settings dict, else ``fallback``."""
    spans = getattr(container, "key_spans", {})
    path = getattr(container, "path", "") or fallback.path
    span: Span | None = spans.get(key)
    return Location(path, span) if span is not None else fallback
