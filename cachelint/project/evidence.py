"""What the project's own files say about how Django runs: the settings module (and
django-configurations class) each entry point and deployment file names, and the declared
Django version with the file it came from.

The facts come from ``cachelint.facts.settings_evidence``; this module only chooses among them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import PurePosixPath

from cachelint.django_version import LATEST, Version, wrapper_implies
from cachelint.facts.settings import NON_PRODUCTION_NAME
from cachelint.facts.settings_evidence import (
    CONFIGURATION_VARIABLE,
    DEPLOY,
    DEV,
    ENTRY,
    LOCK_FILES,
    MANAGE,
    SETTINGS_VARIABLE,
    TEST,
    NamedSetting,
    Requirement,
    SettingsEvidence,
    is_packaging_file,
)
from cachelint.finding import Location, Span

# Folders that hold the example or test-harness project of a reusable app.
EXAMPLE_DIR = re.compile(
    r"^(?:test_?project|tests?_?proj|tests?|testapp|test_?site|sandbox|example.*|demo.*|sample_?project|dummy_?project)$"
)
REQUIREMENTS_DIRS = ("requirements", "requirements.d", "reqs", "deps", "requirements-dev")
_RANK = {"lock": 4, "===": 3, "==": 3, "~=": 2, "~": 2, "": 2, ">=": 1, "^": 1, ">": 1, "<": 1}
# Strength of a role as production evidence (for sorting what is shown).
_STRENGTH = {DEPLOY: 0, ENTRY: 1, MANAGE: 2, DEV: 3, TEST: 4}


@dataclass(frozen=True)
class Named:
    """A file line that names a settings module or configuration class."""

    setting: NamedSetting
    path: str  # display path of the file
    relative: str  # path of the file from the project root

    @property
    def value(self) -> str:
        return self.setting.value

    @property
    def role(self) -> str:
        return self.setting.role

    @property
    def location(self) -> Location:
        return Location(self.path, Span(self.setting.line))

    def describe(self) -> str:
        return f"{self.path}:{self.setting.line} sets {self.setting.variable}={self.setting.value}"


@dataclass(frozen=True)
class DjangoVersion:
    """The Django version rules assume, and where it was read."""

    version: Version
    source: str  # display path, or "" when configured / assumed
    line: int = 0
    how: str = ""  # "configured", "assumed", or what the file says ("Django==4.2.7", "wagtail 5.1")

    def note(self) -> str:
        """For a version-gated message: "Django 3.2 from app/poetry.lock"."""
        shown = f"Django {self.version[0]}.{self.version[1]}"
        if self.how == "configured":
            return f"{shown} from the django-version setting"
        if self.how == "assumed":
            return f"{shown} assumed: no version declared"
        return f"{shown} from {self.source}"


class EvidenceQueries:
    """Settings modules named by entry points and deployment files; the declared Django version."""

    # --- which settings module, which configuration ------------------------------------------

    @cached_property
    def named_settings(self) -> list[Named]:
        """Every line of an entry point or deployment file that names a settings module or a
        configuration class, strongest evidence first."""
        found = [
            Named(setting, facts.path, facts.relative)
            for facts in self.evidence.values()  # type: ignore[attr-defined]
            for setting in facts.settings
        ]
        return sorted(found, key=_preference)

    def evidence_for_module(self, module: str, path: str = "") -> list[Named]:
        """The lines that name the settings module ``module`` (see ``settings_named``)."""
        return list(self.settings_named.get(module, []))  # type: ignore[attr-defined]

    def configuration_for(self, module: str, path: str = "", production: bool = True) -> list[Named]:
        """``DJANGO_CONFIGURATION`` class names (django-configurations: ``class Prod(Base)``) for
        the settings module ``module``, strongest first: those of files that also name this
        module, then those of files that name no settings module at all. With ``production``
        (the default) only what deployment files and entry points select, and no class named
        for development or tests (``Development``, ``Test``); else every one, with its role."""
        naming = {n.path for n in self.evidence_for_module(module, path)}
        others = {n.path for n in self.named_settings if n.setting.variable == SETTINGS_VARIABLE}
        chosen = [
            n
            for n in self.named_settings
            if n.setting.variable == CONFIGURATION_VARIABLE and (n.path in naming or n.path not in others)
        ]
        if production:
            chosen = [n for n in chosen if _production_configuration(n)]
        return chosen

    @cached_property
    def production_configurations(self) -> list[str]:
        """Configuration class names that deployment files or entry points select (not those
        named for development or tests), strongest evidence first."""
        names: list[str] = []
        for n in self.named_settings:
            if n.setting.variable == CONFIGURATION_VARIABLE and _production_configuration(n) and n.value not in names:
                names.append(n.value)
        return names

    def example_project(self, path: str) -> str:
        """Why the settings file ``path`` belongs to the example or test project of a packaged
        reusable app ("" if it does not)."""
        packaging = [
            facts
            for facts in self.evidence.values()  # type: ignore[attr-defined]
            if facts.packages_a_library and "/" not in facts.relative
        ]
        if not packaging:
            return ""
        relative = self.relative_path(path)
        for part in PurePosixPath(relative).parts[:-1]:
            if EXAMPLE_DIR.match(part.lower()):
                return f"`{part}/` beside the packaged library of {packaging[0].path}"
        return ""

    def relative_path(self, path: str) -> str:
        root = self.root  # type: ignore[attr-defined]
        if root is None:
            return path
        try:
            return PurePosixPath(os.path.relpath(os.path.realpath(path), os.path.realpath(root))).as_posix()
        except ValueError:
            return path

    # --- Django version --------------------------------------------------------------------

    @cached_property
    def declared_django(self) -> DjangoVersion | None:
        """The best-ranked Django version in the places projects declare it: the project root,
        the directory of each manage.py and its parents, and their requirements folders. A
        locked version beats a pin, a pin beats a lower bound; a pinned wrapper package
        (wagtail) gives the newest Django it supports when nothing names Django itself."""
        places = self._declaration_places
        best: tuple[tuple[int, int, str], Requirement, SettingsEvidence] | None = None
        wrapper: tuple[tuple[int, int, str], Requirement, SettingsEvidence] | None = None
        for facts in self.evidence.values():  # type: ignore[attr-defined]
            place = _place_of(facts.relative, places)
            if place is None:
                continue
            for requirement in facts.requirements:
                key = (-_RANK.get(requirement.op, 0), places[place], facts.relative)
                if requirement.package == "django":
                    if best is None or key < best[0]:
                        best = (key, requirement, facts)
                elif wrapper_implies(requirement.package, requirement.op, requirement.version):
                    if wrapper is None or key < wrapper[0]:
                        wrapper = (key, requirement, facts)
        if best is not None:
            _, requirement, facts = best
            return DjangoVersion(requirement.version, facts.path, requirement.line, "Django")
        if wrapper is not None:
            _, requirement, facts = wrapper
            implied = wrapper_implies(requirement.package, requirement.op, requirement.version)
            assert implied is not None
            return DjangoVersion(implied, facts.path, requirement.line, requirement.package)
        return None

    @cached_property
    def unreadable_declarations(self) -> list[str]:
        """Packaging files in those places that exist but could not be read (one line each)."""
        places = self._declaration_places
        return [
            f"{facts.path}: cannot read: {facts.unreadable}"
            for facts in sorted(self.evidence.values(), key=lambda f: f.path)  # type: ignore[attr-defined]
            if facts.unreadable and _place_of(facts.relative, places) is not None
        ]

    @cached_property
    def _declaration_places(self) -> dict[str, int]:
        """Directories (relative to the root, "" for the root) where versions are declared, by
        preference: the root first, then each manage.py's directory and its parents."""
        places = {"": 0}
        for facts in self.evidence.values():  # type: ignore[attr-defined]
            if facts.relative.rsplit("/", 1)[-1] == "manage.py":
                parent = PurePosixPath(facts.relative).parent
                for directory in (parent, *parent.parents):
                    key = "" if str(directory) == "." else directory.as_posix()
                    places.setdefault(key, len(places))
        return places

    def django_version_info(self) -> DjangoVersion:
        """The version the rules assume: configured, declared, or the newest release."""
        configured = self.django_version  # type: ignore[attr-defined]
        declared = self.declared_django
        if configured is not None and (declared is None or declared.version != configured):
            source = getattr(self, "django_version_source", None)
            if isinstance(source, DjangoVersion) and source.version == configured:
                return source
            return DjangoVersion(configured, "", 0, "configured")
        if declared is not None:
            return declared
        return DjangoVersion(LATEST, "", 0, "assumed")

    def django_version_note(self) -> str:
        return self.django_version_info().note()


def _production_configuration(named: Named) -> bool:
    return named.role in (DEPLOY, ENTRY) and not NON_PRODUCTION_NAME.search(named.value.lower())


_ENTRY_ORDER = {"wsgi.py": 0, "asgi.py": 1}
_DOCUMENTATION = re.compile(r"(^|/)(docs?|documentation|examples?|samples?)/")


def _preference(named: Named) -> tuple:
    """Strongest evidence first; among equals, wsgi.py before asgi.py before celery.py, files
    that say production before others, documentation examples last."""
    relative = named.relative.lower()
    return (
        _STRENGTH.get(named.role, 9),
        _ENTRY_ORDER.get(relative.rsplit("/", 1)[-1], 2),
        _DOCUMENTATION.search(relative) is not None,
        "prod" not in relative,
        named.path,
        named.setting.line,
    )


def _place_of(relative: str, places: dict[str, int]) -> str | None:
    """The declaration place a packaging file is in (directly, or in its requirements folder)."""
    name = relative.rsplit("/", 1)[-1]
    if not is_packaging_file(name, relative):
        return None
    parent = PurePosixPath(relative).parent
    directory = "" if str(parent) == "." else parent.as_posix()
    if directory in places:
        return directory
    if parent.name.lower() in REQUIREMENTS_DIRS or parent.name.lower().startswith("requirements"):
        grand = parent.parent
        key = "" if str(grand) == "." else grand.as_posix()
        if key in places and name.lower() not in LOCK_FILES:
            return key
    return None
