"""A project kept warm for the editor: per-file facts in memory, buffers over files on disk.

A re-check after a keystroke re-parses only the changed buffer; every other file's facts come
from memory. The join, the demand rounds, the rules and the filters (configuration,
suppressions, baseline) are the engine's own (``engine.check_sources``), so the editor shows
what ``cachelint check`` would print for the files as they are in the editor.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cachelint.config import Config, ConfigError, all_codes, load_config
from cachelint.discovery import Classifier, SourceFile
from cachelint.engine import Result, check_sources, facts_from_bytes, project_sources
from cachelint.finding import Finding
from cachelint.registry import Rule, all_rules, configured_rules, validate_selectors

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

    def forget(self, path: Path) -> None:
        self.facts.pop((path, False), None)
        self.facts.pop((path, True), None)

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
    """One re-check: the findings by absolute path, and what went wrong."""

    findings: dict[Path, list[Finding]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    parsed: int = 0  # files parsed for this check (the rest came from memory)


class WarmProject:
    """One project (the directory ``cachelint check`` would take as the root of a file)."""

    def __init__(self, root: Path, buffers: dict[Path, bytes], disk_cache: bool = True) -> None:
        self.root = root
        self.disk_cache = disk_cache  # False: never read or write .cachelint_cache/ (the benchmark)
        self.buffers = buffers  # shared by the projects of one server: the open documents
        self.config = Config()
        self.rules: dict[str, Rule] = {}
        self.config_error = ""
        self.sources: list[SourceFile] = []
        self.errors: list[str] = []  # from discovery
        self._extra: dict[Path, SourceFile | None] = {}
        self._display: dict[str, Path] = {}
        self.memory = Memory(self.config, self.rules, buffers)
        self.checks = 0
        self.load()

    # --- configuration and files --------------------------------------------------------------

    def load(self) -> None:
        """(Re)read ``[tool.cachelint]`` and the project's files; forget every fact."""
        self.config_error = ""
        try:
            config = load_config(self.root)
            unknown = validate_selectors(all_rules(), all_codes(config))
            if unknown:
                raise ConfigError(f"unknown rule code or prefix: {', '.join(unknown)}")
        except ConfigError as error:
            self.config_error = str(error)
            config = Config()
        if not self.disk_cache:
            config.cache = False
        self.config = config
        self.rules = configured_rules(all_rules(), config.select, config.extend_select, config.ignore)
        self.memory = Memory(config, self.rules, self.buffers)
        self.checks = 0
        self.rediscover()

    def rediscover(self) -> None:
        """Walk the project again (a file was created or deleted); facts in memory stay."""
        self.errors = []
        self.sources = project_sources(self.root, None, self.config, self.errors)
        self._extra = {}
        self._classifier = Classifier(self.root, self.config.template_dirs, self.config.settings_modules)
        self._known = {s.path for s in self.sources}

    def file_changed(self, path: Path) -> None:
        """A file changed on disk (saved, or by another program)."""
        self.memory.forget(path)

    def buffer_changed(self, path: Path) -> None:
        """The text of an open document changed, or it was opened or closed."""
        self.memory.forget(path)

    def _all_sources(self) -> list[SourceFile]:
        """The project's files, and the open documents it would not walk (a test module, an
        excluded or a new file): checked as if named on the command line."""
        extra = []
        for path in self.buffers:
            if path in self._known or not path.is_relative_to(self.root):
                continue
            if path not in self._extra:
                self._extra[path] = self._classifier.classify(path)
            if self._extra[path] is not None:
                extra.append(self._extra[path])
        return [*self.sources, *extra] if extra else self.sources

    # --- checking -------------------------------------------------------------------------------

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
        config = self.config if self.checks == 0 else dataclasses.replace(self.config, cache=False)
        project = check_sources(self.root, sources, None, config, self.rules, result, memory=memory)
        memory.promoted = memory.forced
        if self.checks == 0 and not self.config.django_version and project.django_version:
            # Read once from the packaging files; the later checks need not read them again.
            self.config.django_version = "{}.{}".format(*project.django_version)
        self.checks += 1
        check = Check(errors=[*self.errors, *result.errors], warnings=result.warnings)
        self._display = {s.display: s.path for s in sources}
        for finding in sorted(result.findings, key=lambda f: f.sort_key):
            if finding.code in self.rules:
                check.findings.setdefault(self.absolute(finding.location.path), []).append(finding)
        check.seconds = time.perf_counter() - start
        check.parsed = memory.parsed - parsed_before
        return check

    def absolute(self, display: str) -> Path:
        """The file a finding's (display) path names."""
        known = self._display.get(display)
        return known if known is not None else Path(os.path.abspath(display))
