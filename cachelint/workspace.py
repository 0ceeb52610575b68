"""Which project, and which configuration, each file belongs to.

A tree may hold several Django projects (a monorepo: several ``manage.py``, each beside its own
settings) and several configurations (``[tool.cachelint]`` in a sub-project's pyproject.toml).
As ruff does per file, every file is checked with the nearest configuration above it; and each
Django project is joined into a model of its own, so that one project's settings, templates and
URLconfs never answer another project's questions.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cachelint.config import Config, ConfigError, load_config, tomllib
from cachelint.discovery import CONFIG_NAMES
from cachelint.reading import read_bytes


def config_file(directory: str | Path) -> Path | None:
    """The file in ``directory`` that configures cachelint: a ``cachelint.toml``, or a
    pyproject.toml with a ``[tool.cachelint]`` table (one without it configures other tools)."""
    for name in CONFIG_NAMES:
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            continue
        if name != "pyproject.toml":
            return Path(path)
        if _configures_cachelint(Path(path)):
            return Path(path)
    return None


def _configures_cachelint(pyproject: Path) -> bool:
    """Does this pyproject.toml hold ``[tool.cachelint]``? One that cannot be read as TOML
    counts (loading it says why, rather than silently checking with the defaults)."""
    try:
        data = read_bytes(pyproject)[0]
        if b"cachelint" in data:
            return True
        tool = tomllib.loads(data.decode("utf-8")).get("tool", {})
    except (OSError, UnicodeDecodeError, RecursionError, tomllib.TOMLDecodeError):
        return True
    return not isinstance(tool, dict)


@dataclass(frozen=True)
class Scope:
    """The configuration a directory is checked with, and the rules it selects."""

    config: Config
    rules: dict
    source: Path | None = None  # the file it was read from (None: the defaults or --config)


class Workspace:
    """Finds the configuration of each directory: the nearest config file at or above it.

    ``configure`` applies the command line to a configuration read from a file and returns the
    rules it selects. Without it (``--config FILE``, or the API with one Config) every
    directory has ``base``.
    """

    def __init__(
        self,
        base: Config,
        rules: dict,
        configure: Callable[[Config], dict] | None = None,
    ) -> None:
        self.base = Scope(base, rules)
        self._configure = configure
        self._by_directory: dict[str, Scope] = {}
        self._by_file: dict[Path | None, Scope] = {}

    def scope(self, directory: Path) -> Scope:
        """The configuration of files in ``directory`` (raises ConfigError for a bad file)."""
        if self._configure is None:
            return self.base
        key = str(directory)
        scope = self._by_directory.get(key)
        if scope is None:
            found = config_file(directory)
            if found is not None or directory.parent == directory:
                scope = self._read(found)
            else:
                scope = self.scope(directory.parent)
            self._by_directory[key] = scope
        return scope

    def _read(self, found: Path | None) -> Scope:
        if found not in self._by_file:
            config = load_config(found.parent, found) if found is not None else Config()
            self._by_file[found] = Scope(config, self._configure(config), found)
        return self._by_file[found]


def split_projects(
    root: Path, paths: list[Path], config_dirs: list[str], workspace: Workspace
) -> list[tuple[Path, list[Path]]]:
    """``paths`` (walked from ``root``) grouped by the project each belongs to.

    A project starts at a directory with a ``manage.py`` or its own cachelint configuration.
    A tree with one Django project stays one project at ``root`` (its apps often sit beside the
    directory of manage.py, not below it); with two or more, or with a sub-project configured
    apart, each file belongs to the nearest one above it, and what is above all of them
    (shared packages) to ``root``.
    """
    manage_dirs = {str(p.parent) for p in paths if p.name == "manage.py"}
    manage_dirs.discard(str(root))
    base = workspace.scope(root)
    configured = {d for d in config_dirs if d != str(root) and _configured_apart(Path(d), base, workspace)}
    if len(manage_dirs) < 2 and not configured:
        return [(root, paths)]
    starts = manage_dirs | configured
    groups: dict[str, list[Path]] = {}
    for path in paths:
        directory = str(path.parent)
        while directory not in starts and directory != str(root):
            parent = os.path.dirname(directory)
            if parent == directory:
                directory = str(root)
                break
            directory = parent
        groups.setdefault(directory, []).append(path)
    return [(Path(d), group) for d, group in sorted(groups.items())]


def _configured_apart(directory: Path, base: Scope, workspace: Workspace) -> bool:
    try:
        return workspace.scope(directory) is not base
    except ConfigError:
        return True  # a project of its own, whose check reports the error


def load_config_near(directory: Path) -> Config:
    """The configuration nearest to ``directory`` (at or above it), else the defaults."""
    for candidate in (directory, *directory.parents):
        found = config_file(candidate)
        if found is not None:
            return load_config(found.parent, found)
    return Config()
