"""Projects kept warm for the editor: per-file facts in memory, buffers over files on disk.

A ``WarmTree`` is what ``cachelint check`` would take as the root of a file (the nearest
directory with manage.py, pyproject.toml or .git), split into its projects with the
configuration nearest to each (``engine.tree_projects``, as ``check`` does). A re-check after a
keystroke re-parses only the changed buffer; every other file's facts come from memory. The
join, the demand rounds, the rules and the filters (configuration, suppressions, baseline) are
the engine's own (``engine.check_sources``), so the editor shows what ``cachelint check`` would
print for the files as they are in the editor.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cachelint.config import Config, ConfigError, all_codes, flags
from cachelint.discovery import Classifier, SourceFile
from cachelint.engine import Result, check_sources, classify, facts_from_bytes, tree_projects
from cachelint.finding import Finding
from cachelint.registry import Rule, all_rules, configured_rules, validate_selectors
from cachelint.workspace import Scope, Workspace

Parse = Callable[[list[SourceFile], bool], list[object]]
_MISSING = object()


class Memory:
    """The facts of every file parsed so far, by (path, force); an open buffer's come from its
    text. A file changed on disk is forgotten (``forget``) and parsed again when next asked for.

    ``promoted``: the files the last check parsed on demand (``force``). A quick check serves
    their full facts from the start, so the engine's demand rounds find nothing new and the
    project is joined once instead of once per round. That may keep a module parsed that the
    edit stopped pointing at, which changes no finding (parsing more than the pre-filter lets
    through never does: bench/run.py's no-loss check compares with parsing everything); an
    exact check (on open, save and close) starts from nothing promoted, as ``cachelint check``.
    """

    def __init__(self, config: Config, rules: dict[str, Rule], buffers: dict[Path, bytes]) -> None:
        self.config, self.rules, self.buffers = config, rules, buffers
        self.facts: dict[tuple[Path, bool], object] = {}
        self.parsed = 0  # files parsed through this memory (buffers) or handed to the parser
        self.promoted: set[Path] = set()
        self.forced: set[Path] = set()  # the files the current check asked for in full
        self.paths: dict[str, Path] = {}  # display path -> file, of the current check's sources

    def forget(self, path: Path) -> None:
        self.facts.pop((path, False), None)
        self.facts.pop((path, True), None)

    def text(self, path: str) -> str | None:
        file = self.paths.get(path)
        data = self.buffers.get(file) if file is not None else None
        return data.decode("utf-8", "replace") if data is not None else None

    def wrap(self, parse: Parse) -> Parse:
        def from_memory(sources: list[SourceFile], force: bool) -> list[object]:
            facts = self.facts
            results: list[object] = [None] * len(sources)
            misses: list[int] = []
            for index, source in enumerate(sources):
                full = force or source.path in self.promoted
                if full:
                    self.forced.add(source.path)
                key = (source.path, full)
                known = facts.get(key, _MISSING)
                if known is not _MISSING:
                    results[index] = known
                elif source.path in self.buffers:
                    self.parsed += 1
                    data = self.buffers[source.path]
                    results[index] = facts[key] = facts_from_bytes(
                        source, data, self.config, self.rules, full
                    )
                else:
                    misses.append(index)
            if misses:
                self.parsed += len(misses)
                for full in (False, True):
                    batch = [i for i in misses if full == (force or sources[i].path in self.promoted)]
                    if batch:
                        for index, result in zip(batch, parse([sources[i] for i in batch], full)):
                            results[index] = facts[(sources[index].path, full)] = result
            return results

        return from_memory


@dataclass
class Check:
    """One re-check of a project: the findings by absolute path, and what went wrong."""

    findings: dict[Path, list[Finding]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    parsed: int = 0  # files parsed for this check (the rest came from memory)


class WarmProject:
    """One project of a tree: its files, its configuration, the facts of its files."""

    def __init__(self, tree: WarmTree, root: Path, paths: list[Path], scope: Scope) -> None:
        self.tree, self.root, self.scope = tree, root, scope
        self.config: Config = scope.config
        self.rules: dict[str, Rule] = scope.rules
        self.memory = Memory(self.config, self.rules, tree.buffers)
        self.checks = 0
        self._display: dict[str, Path] = {}
        self.set_paths(paths)

    def set_paths(self, paths: list[Path]) -> None:
        """The project's files (walked again after a file was created or deleted)."""
        config = self.config
        self.classifier = Classifier(
            self.root, config.template_dirs, config.settings_modules, config.template_extensions
        )
        self.sources = classify(self.root, paths, config)
        self.known = {s.path for s in self.sources}
        self._extra: dict[Path, SourceFile | None] = {}

    def forget(self, path: Path) -> None:
        """A file changed on disk, or in the editor (or was opened or closed there)."""
        self.memory.forget(path)

    def _all_sources(self) -> list[SourceFile]:
        """The project's files, and the open documents of it that the walk skipped (a test
        module, an excluded or a new file): checked as if named on the command line."""
        extra = []
        for path in self.tree.buffers:
            if path in self.known or self.tree.project_of(path) is not self:
                continue
            if path not in self._extra:
                self._extra[path] = self.classifier.classify(path)
            if self._extra[path] is not None:
                extra.append(self._extra[path])
        return [*self.sources, *extra] if extra else self.sources

    def check(self, exact: bool = True) -> Check:
        """Check the project as it is in the editor. ``exact=False`` (after a keystroke) keeps the
        modules the last check parsed on demand (see ``Memory``)."""
        start = time.perf_counter()
        memory = self.memory
        parsed_before = memory.parsed
        if exact:
            memory.promoted = set()
        memory.forced = set()
        result = Result()
        sources = self._all_sources()
        # The first check reads and writes the on-disk result cache, as `cachelint check` does;
        # later ones take every unchanged file from memory.
        scope = self.scope
        if self.checks:
            scope = dataclasses.replace(scope, config=dataclasses.replace(self.config, cache=False))
        self._display = memory.paths = {s.display: s.path for s in sources}
        project = check_sources(self.root, sources, None, scope, result, memory=memory)
        memory.promoted = memory.forced
        if self.checks == 0 and not self.config.django_version and project.django_version:
            # Read once from the packaging files; the later checks need not read them again.
            self.config.django_version = "{}.{}".format(*project.django_version)
        self.checks += 1
        check = Check(errors=result.errors, warnings=result.warnings)
        for finding in sorted(result.findings, key=lambda f: f.sort_key):
            check.findings.setdefault(self.absolute(finding.location.path), []).append(finding)
        check.seconds = time.perf_counter() - start
        check.parsed = memory.parsed - parsed_before
        return check

    def absolute(self, display: str) -> Path:
        """The file a finding's (display) path names."""
        known = self._display.get(display)
        return known if known is not None else Path(os.path.abspath(display))


class WarmTree:
    """The projects below one root, as ``cachelint check`` splits them."""

    def __init__(self, root: Path, buffers: dict[Path, bytes], disk_cache: bool = True) -> None:
        self.root = root
        self.buffers = buffers  # the open documents, shared by the trees of one server
        self.disk_cache = disk_cache  # False: never read or write .cachelint_cache/ (the benchmark)
        self.projects: list[WarmProject] = []
        self.errors: list[str] = []  # configuration and discovery errors
        self._owner: dict[Path, WarmProject | None] = {}
        self.load()

    def _configure(self, config: Config) -> dict[str, Rule]:
        unknown = validate_selectors(all_rules(), all_codes(config))
        if unknown:
            raise ConfigError(f"unknown rule code or prefix: {', '.join(unknown)} (see `cachelint rules`)")
        if not self.disk_cache:
            config.cache = False
        return configured_rules(all_rules(), config.select, config.extend_select, config.ignore, flags(config))

    def load(self) -> None:
        """(Re)read the configuration and walk the tree: every fact is forgotten."""
        self.workspace = Workspace(Config(), {}, self._configure)
        self.projects = []
        self.rediscover()

    def rediscover(self) -> None:
        """Walk the tree again (a file was created or deleted); the facts of a project whose
        configuration is the same stay in memory."""
        self.errors = []
        previous = {p.root: p for p in self.projects}
        self.projects = []
        for root, paths, scope in tree_projects(self.root, None, self.workspace, self.errors):
            project = previous.get(root)
            if project is not None and project.scope is scope:
                project.set_paths(paths)
            else:
                project = WarmProject(self, root, paths, scope)
            self.projects.append(project)
        self._owner = {}

    def project_of(self, path: Path) -> WarmProject | None:
        """The project ``path`` belongs to: the one that walked it, else (a file the walk skipped)
        the nearest project above it."""
        if path not in self._owner:
            owner = next((p for p in self.projects if path in p.known), None)
            if owner is None:
                above = [p for p in self.projects if path.is_relative_to(p.root)]
                owner = max(above, key=lambda p: len(p.root.parts), default=None)
            self._owner[path] = owner
        return self._owner[path]

    def forget(self, path: Path) -> None:
        for project in self.projects:
            project.forget(path)
