"""The pipeline: discover -> parse (parallel) -> join -> rules -> suppressions."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import sys
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from cachelint.cache import ResultCache
from cachelint.cache import digest as _digest
from cachelint.config import Config, ConfigError
from cachelint.discovery import Classifier, SourceFile, find_project_root, glob_spec, walk
from cachelint.django_version import parse_version
from cachelint.facts.python import PythonFacts, SkippedModule, skipped_module
from cachelint.finding import Finding, Location, Span
from cachelint.fixing import content_digest
from cachelint.project import Problem, ProjectModel
from cachelint.reading import TooLarge, overridden, read_bytes, read_text, reason
from cachelint.registry import Rule
from cachelint.suppressions import Suppression, apply, unused
from cachelint.suppressions import scan as scan_suppressions
from cachelint.workspace import Scope, Workspace, split_projects

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

# A Python file that contains none of these cannot affect a rule on its own, so it is not parsed
# (unless parsed code points at it: see build_project). Rules add their own (``Rule.file_tokens``).
PYTHON_TOKENS = (
    # caching API (``never_cache`` and ``vary_on_*`` alone are not here: they matter only beside a
    # ``cache_page`` or ``cache_control`` in the file, or pointed at by one: a demand round)
    b"cache_page",
    b"cache_control",
    b"patch_vary_headers",
    b"patch_cache_control",
    b"add_never_cache_headers",
    b"core.cache",
    b"caches[",
    b"Vary",
    b"Cache-Control",
    b"session.accessed",
    # django-configurations classes (indented, so not SETTINGS_ASSIGNMENT); a module whose star
    # import makes it a settings module is parsed on demand (project/settings.py)
    b"configurations import",
)
# Settings names count only where a module assigns them: code that merely reads
# ``settings.INSTALLED_APPS`` cannot matter, and is everywhere in large projects.
SETTINGS_ASSIGNMENT = re.compile(
    rb"^(?:CACHES|STORAGES|STATICFILES_STORAGE|DEFAULT_FILE_STORAGE|MIDDLEWARE(?:_CLASSES)?|SESSION_ENGINE|"
    rb"INSTALLED_APPS|REST_FRAMEWORK|WHITENOISE_\w+|TEMPLATES|DEBUG|CELERY_\w+|BROKER_URL|"
    rb"CHANNEL_LAYERS|STATIC_URL|USE_I18N|ROOT_URLCONF|CACHE_\w+)\s*(?:=|\+=|:|\[|\.(?:append|extend|insert|update)\()",
    re.MULTILINE,
)
# A URLconf can give a class-based view its template: ``Page.as_view(template_name=...)``
# (other arguments before it may hold one level of brackets).
AS_VIEW_WITH_TEMPLATE = re.compile(rb"as_view\((?:[^()]|\([^()]*\))*?template_name")
_SUPPRESSION_MARKER = re.compile(rb"noqa|cachelint:", re.IGNORECASE)
MAX_BRACKET_DEPTH = 200  # CPython's parser limit for nested brackets
_BRACKET = re.compile(rb"[()\[\]{}]")
# Bytes of Python to parse below which worker processes cost more than they save, unless
# templates are lexed meanwhile (measured on the benchmark corpus: Python alone pays for a pool
# from about 100-200 KB).
# CACHELINT_PARALLEL_MIN_BYTES overrides it (tests force the pool with 0).
# Settings data (lock files, manifests) may be larger than a source file: read up to this much.
DATA_MAX_BYTES = 64 * 1024 * 1024
PARALLEL_MIN_BYTES = int(os.environ.get("CACHELINT_PARALLEL_MIN_BYTES", "150000"))


@dataclass
class Result:
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    suppressed: int = 0
    digests: dict[str, str] = field(default_factory=dict)  # path -> content digest the facts come from
    warnings: list[str] = field(default_factory=list)  # the run went on, but the user should know
    project: ProjectModel | None = None  # the last project's model (for --show-settings)


@dataclass(frozen=True)
class _Task:
    source: SourceFile
    max_size: int
    force: bool = False  # parse even if the byte pre-filter finds nothing of interest
    rule_tokens: tuple[bytes, ...] = ()  # what the selected rules add to the pre-filter


def may_matter(data: bytes, rule_tokens: tuple[bytes, ...] = ()) -> bool:
    """The byte pre-filter: could a rule care about this Python file on its own?"""
    return (
        any(token in data for token in PYTHON_TOKENS)
        or any(token in data for token in rule_tokens)
        or SETTINGS_ASSIGNMENT.search(data) is not None
        or (b"as_view(" in data and AS_VIEW_WITH_TEMPLATE.search(data) is not None)
    )


def _load(task: _Task) -> tuple[bytes, os.stat_result] | Problem:
    """The file's bytes and its stat before reading, or a Problem (too large, not a regular
    file, unreadable)."""
    source = task.source
    try:
        return read_bytes(source.path, task.max_size)
    except TooLarge:
        return Problem(Location(source.display), f"skipped: file is larger than {task.max_size} bytes")
    except OSError as error:
        return Problem(Location(source.display), f"cannot read file: {reason(error)}")


def _needs_analysis(task: _Task, data: bytes) -> bool:
    """The byte pre-filter: False for a file that cannot matter to any rule."""
    source = task.source
    if source.kind == "python":
        return task.force or source.settings_like or may_matter(data, task.rule_tokens)
    if source.kind == "bundler":
        return True
    if source.kind == "deployment":
        from cachelint.facts.deploy import may_matter as deployment_may_matter

        return deployment_may_matter(data)
    if source.kind == "data":
        return True  # cheap substring tests decide inside (facts/settings_evidence.py)
    return b"{%" in data or b"{{" in data or b"/static" in data  # template code, or CL504


def _analyse(task: _Task, data: bytes) -> object:
    """Facts of one file that needs analysing, or a Problem."""
    with quiet_warnings():
        return _facts(task, data)


@contextlib.contextmanager
def quiet_warnings() -> Iterator[None]:
    """Evaluating a string literal of the scanned code can warn (an invalid escape such as
    ``"\\d"``); under ``PYTHONWARNINGS=error`` that would raise, and neither facts nor rules
    may depend on the user's warnings filter."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _facts(task: _Task, data: bytes) -> object:
    from cachelint.facts.python import ParseError, parse_python
    from cachelint.facts.templates import parse_template

    source = task.source
    if source.kind == "data":
        from cachelint.facts.settings_evidence import parse_evidence

        return parse_evidence(source.display, source.relative, data)
    try:
        if source.kind == "python":
            if b"\x00" in data:
                return Problem(Location(source.display), "cannot parse: file contains NUL bytes (binary?)")
            depth = _bracket_depth(data)
            if depth > MAX_BRACKET_DEPTH:
                # libcst's native parser overflows the C stack on such input and kills the process.
                return Problem(
                    Location(source.display),
                    f"cannot parse: brackets nested {depth} deep (Python itself allows {MAX_BRACKET_DEPTH})",
                )
            facts = parse_python(data, source.display, source.module, source.is_package, source.settings_like)
            suppressions = facts.suppressions
            if _SUPPRESSION_MARKER.search(data):
                suppressions = scan_suppressions(data.decode("utf-8", errors="replace"), template=False)
            return dataclasses.replace(facts, suppressions=suppressions, digest=content_digest(data))
        if source.kind == "bundler":  # a JavaScript config: text, never run
            from cachelint.facts.bundler import parse_bundler

            bundler = parse_bundler(data.decode("utf-8", errors="replace"), source.display)
            return dataclasses.replace(bundler, digest=content_digest(data))
        if source.kind == "deployment":
            return _deployment_facts(source, data)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            return Problem(
                Location(source.display),
                f"cannot decode template as UTF-8: {error.reason} at byte {error.start}",
            )
        return dataclasses.replace(parse_template(text, source.display), digest=content_digest(data))
    except ParseError as error:
        return Problem(Location(source.display, error.span), error.reason)
    except RecursionError:
        return Problem(Location(source.display), "too deeply nested to analyse")
    except Exception as error:  # a bug in cachelint must not stop the scan of the other files
        if os.environ.get("CACHELINT_DEBUG"):
            raise
        return Problem(
            Location(source.display),
            f"internal error while analysing this file (please report it): {type(error).__name__}: {error}",
        )


def _deployment_facts(source: SourceFile, data: bytes) -> object:
    """Facts of a web-server, proxy or chart file (read as data), or a Problem for one that is
    clearly a broken nginx or VCL file. Undecodable bytes are replaced: such a file is still
    read for what the rules look for, and a file of another program yields no facts."""
    from cachelint.facts.deploy import DeployParseError, parse_deployment

    text = data.decode("utf-8-sig", errors="replace")
    try:
        facts = parse_deployment(text, source.display, source.deploy_kind)
    except DeployParseError as error:
        return Problem(Location(source.display, Span(error.line)), f"cannot parse: {error.reason}")
    suppressions = scan_suppressions(text, template=False) if b"noqa" in data or b"cachelint:" in data else ()
    return dataclasses.replace(facts, suppressions=suppressions, digest=content_digest(data))


def _parse_in_worker(task: _Task) -> object:
    """Runs in a worker process: the file is read again there (cheaper than pickling it over)."""
    loaded = _load(task)
    return loaded if isinstance(loaded, Problem) else _analyse(task, loaded[0])


def _bracket_depth(data: bytes) -> int:
    """Deepest bracket nesting, strings included (an over-estimate only matters past 200)."""
    if data.count(b"(") + data.count(b"[") + data.count(b"{") <= MAX_BRACKET_DEPTH:
        return 0  # cannot be deeper than the number of openings; the common, cheap case
    depth = deepest = 0
    for match in _BRACKET.finditer(data):
        if match.group() in b"([{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(0, depth - 1)
    return deepest


class Progress:
    """Told how many files are to be parsed and when each is done; silent by default."""

    def add_total(self, count: int) -> None:
        pass

    def advance(self) -> None:
        pass


SILENT = Progress()


class FactMemory(Protocol):
    """Facts kept between runs by a long-lived caller (the language server, cachelint/server)."""

    def wrap(
        self, parse: Callable[[list[SourceFile], bool], list[object]]
    ) -> Callable[[list[SourceFile], bool], list[object]]:
        """A ``parse(sources, force)`` that answers from memory and calls ``parse`` for the rest."""
        ...

    def text(self, path: str) -> str | None:
        """The text of the file at (display) ``path`` when it is not the file's on disk (an open
        editor buffer), for what is read beside the facts: suppressions, baseline fingerprints."""
        ...


def facts_from_bytes(
    source: SourceFile, data: bytes, config: Config, rules: dict[str, Rule], force: bool
) -> object:
    """The facts of ``source`` as if its file held ``data`` (an editor's unsaved buffer): the byte
    pre-filter, then the parse, as for a file read from disk."""
    rule_tokens = tuple(sorted({token for rule in rules.values() for token in rule.file_tokens}))
    task = _Task(source, config.max_file_size, force, rule_tokens)
    if len(data) > config.max_file_size:
        return Problem(Location(source.display), f"skipped: file is larger than {config.max_file_size} bytes")
    if _needs_analysis(task, data):
        return _analyse(task, data)
    if source.kind == "python":
        return skipped_module(data, source.module, source.is_package)
    return None


def build_project(
    sources: list[SourceFile],
    config: Config,
    root: Path | None = None,
    progress: Progress = SILENT,
    rules: dict[str, Rule] | None = None,
    warnings: list[str] | None = None,
    memory: FactMemory | None = None,
) -> ProjectModel:
    """Parse ``sources`` (cached, in parallel when it pays) and join them into a ProjectModel.

    Parsing is demand-driven in further rounds: a module skipped by the byte pre-filter is
    parsed after all when parsed code points at it (a cached URLconf entry's view, a base class,
    a decorator, a context processor) or a selected rule asks for it, until nothing new is.
    ``memory`` (the language server's warm facts) answers for the files it knows and hands the
    others to the parser.
    """
    rules = rules or {}
    rule_tokens = tuple(sorted({token for rule in rules.values() for token in rule.file_tokens}))
    cache = (
        ResultCache(root, f"max_file_size={config.max_file_size}")
        if root is not None and config.cache
        else None
    )
    if cache is not None and cache.disabled and warnings is not None:
        warnings.append(cache.disabled)
    with _Parser(config, cache, rule_tokens, progress) as parser:
        parse = parser.parse if memory is None else memory.wrap(parser.parse)
        results = parse(sources, False)
        project = _join(sources, results, config)
        project.root = root
        forced: set[Path] = set()
        while True:
            wanted = project.referenced_modules().union(*(r.wanted_modules(project) for r in rules.values()))
            wanted -= set(project.modules)
            batch = [s for s in sources if s.kind == "python" and s.module in wanted and s.path not in forced]
            if not batch:
                break
            forced.update(s.path for s in batch)
            parsed = dict(zip((s.path for s in batch), parse(batch, True)))
            results = [parsed.get(s.path, r) for s, r in zip(sources, results)]
            project = _join(sources, results, config)
            project.root = root
    if cache is not None:
        cache.save({_cache_key(s, force, rule_tokens) for s in sources for force in (False, True)})
    return project


class _Parser:
    """Facts of source files: from the result cache, or read, pre-filtered and analysed.

    Python files go to worker processes when that pays: when there is enough Python for the
    workers' start (each imports libcst), or when templates are to be lexed here meanwhile (the
    two imports and parses then run side by side). The pool, once started, serves the demand
    rounds too.
    """

    def __init__(
        self, config: Config, cache: ResultCache | None, rule_tokens: tuple[bytes, ...], progress: Progress
    ) -> None:
        self.config, self.cache, self.rule_tokens, self.progress = config, cache, rule_tokens, progress
        self.jobs = config.jobs or available_cpus()
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> _Parser:
        return self

    def __exit__(self, *_: object) -> None:
        if self.pool is not None:
            self.pool.shutdown()

    def parse(self, sources: list[SourceFile], force: bool) -> list[object]:
        cache = self.cache
        keys = [_cache_key(s, force, self.rule_tokens) for s in sources]
        results: list[object] = [None] * len(sources)
        misses: list[int] = []
        for index, (source, key) in enumerate(zip(sources, keys)):
            # A file read from stdin (--stdin-filename) is never looked up nor stored by its stat.
            use_cache = cache is not None and not overridden(source.path)
            hit, cached = cache.get(key, source.path) if use_cache else (False, None)
            if hit:
                results[index] = cached
            else:
                misses.append(index)
        # What was read: its stat before reading and its digest (the cache keys the entry by them,
        # so a file edited meanwhile is not remembered with its new stat but the facts of its old
        # text). The bytes themselves are kept only until the file is analysed or handed to a
        # worker (which reads it again): a skipped file's are dropped at once.
        read: dict[int, tuple[os.stat_result, str]] = {}
        python: dict[int, tuple[_Task, bytes]] = {}
        templates: dict[int, tuple[_Task, bytes]] = {}
        for index in misses:
            source = sources[index]
            limit = max(self.config.max_file_size, DATA_MAX_BYTES) if source.kind == "data" else self.config.max_file_size
            task = _Task(source, limit, force, self.rule_tokens)
            loaded = _load(task)
            if isinstance(loaded, Problem):
                results[index] = _unreadable_data(source, loaded) if source.kind == "data" else loaded
                continue
            data, stat = loaded
            read[index] = (stat, _digest(data) if cache is not None else "")
            if _needs_analysis(task, data):
                (python if task.source.kind == "python" else templates)[index] = (task, data)
            elif task.source.kind == "python":
                results[index] = skipped_module(data, task.source.module, task.source.is_package)
            del data, loaded
        self.progress.add_total(len(python) + len(templates))
        lexed = sum(1 for task, _ in templates.values() if task.source.kind == "template")
        pool = self._pool(sum(len(data) for _, data in python.values()), lexed) if python else None
        in_workers: list[int] = []
        parsed: Iterator[object] = iter(())
        if pool is not None:
            # Workers read their file again: one whose text came from stdin is analysed here.
            in_workers = [i for i, (task, _) in python.items() if not overridden(task.source.path)]
            parsed = pool.map(_parse_in_worker, [python.pop(index)[0] for index in in_workers], chunksize=4)
        for pending in (templates, python):  # what the workers do not take is analysed here
            for index in list(pending):
                task, data = pending.pop(index)
                results[index] = _analyse(task, data)
                self.progress.advance()
        for index, result in zip(in_workers, parsed):
            results[index] = result
            self.progress.advance()
        for index in misses:
            if (
                cache is not None
                and index in read
                and not isinstance(results[index], Problem)
                and not overridden(sources[index].path)
            ):
                cache.put(keys[index], results[index], *read[index])  # read errors may be transient
        return results

    def _pool(self, python_bytes: int, templates: int) -> ProcessPoolExecutor | None:
        if self.pool is None and self.jobs > 1 and (python_bytes >= PARALLEL_MIN_BYTES or templates):
            import gc
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor  # most runs need no workers: import on use

            # What the parent built so far (the loaded cache, the sources) is never collected in
            # the workers: frozen before the fork, the collector there does not touch (and so
            # copy) its pages.
            gc.freeze()
            # fork on Linux (workers start without importing anything again) unless the process
            # chose a start method itself (the language server, a threaded process, uses forkserver).
            chosen = multiprocessing.get_start_method(allow_none=True)
            fork = sys.platform == "linux" and chosen in (None, "fork")
            self.pool = ProcessPoolExecutor(
                max_workers=worker_count(python_bytes, self.jobs),
                mp_context=multiprocessing.get_context("fork") if fork else None,
            )
        return self.pool


def _unreadable_data(source: SourceFile, problem: Problem) -> object:
    """A settings data file that cannot be read is no evidence (the model reports the packaging
    files it would have consulted); never a CL001 finding."""
    from cachelint.facts.settings_evidence import SettingsEvidence

    why = problem.reason.removeprefix("cannot read file: ")
    if why.startswith("skipped"):  # too large: no evidence, silently
        why = ""
    return SettingsEvidence(source.display, source.relative, unreadable=why)


def worker_count(python_bytes: int, jobs: int) -> int:
    """Workers for ``python_bytes`` of Python to parse: one per ``2 * PARALLEL_MIN_BYTES`` (each
    pays its own start and libcst import), at least one (it parses while templates are lexed
    here), at most ``jobs``."""
    if PARALLEL_MIN_BYTES <= 0:
        return jobs
    return max(1, min(jobs, python_bytes // (2 * PARALLEL_MIN_BYTES)))


def available_cpus() -> int:
    """The CPUs this process may run on: its affinity mask, capped by a cgroup CPU quota (a
    container limited to 2 CPUs on a 64-core host), as ruff and the JVM count them."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    quota = _cgroup_cpu_quota()
    return max(1, min(count, quota)) if quota else max(1, count)


def _cgroup_cpu_quota() -> int | None:
    """``ceil(quota / period)`` from cgroup v2's ``cpu.max`` or v1's cfs files; None if unlimited."""
    try:
        with open("/sys/fs/cgroup/cpu.max") as stream:
            quota, period = stream.read().split()[:2]
        if quota != "max":
            return -(-int(quota) // int(period))
        return None
    except (OSError, ValueError):
        pass
    try:
        with open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") as q, open("/sys/fs/cgroup/cpu/cpu.cfs_period_us") as p:
            quota, period = int(q.read()), int(p.read())
        return -(-quota // period) if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


def _join(sources: list[SourceFile], results: list[object], config: Config) -> ProjectModel:
    from cachelint.facts.bundler import BundlerFacts
    from cachelint.facts.deploy import DeploymentFacts
    from cachelint.facts.settings_evidence import SettingsEvidence
    from cachelint.facts.templates import TemplateFacts

    project = ProjectModel(config=config)
    for source, result in zip(sources, results):
        if isinstance(result, SettingsEvidence):
            project.evidence[source.display] = result
        elif isinstance(result, Problem):
            project.problems.append(result)
        elif isinstance(result, PythonFacts):
            project.python[source.display] = result
        elif isinstance(result, SkippedModule):
            project.skipped[source.module] = result
        elif isinstance(result, BundlerFacts):
            project.bundlers[source.display] = result
        elif isinstance(result, TemplateFacts):
            project.templates_by_path[source.display] = result
            project.problems.extend(
                Problem(Location(source.display, span), reason) for reason, span in result.problems
            )
            # The first template found under a name wins, as with Django's loaders in order.
            project.template_names.setdefault(source.template_name, source.display)
        elif isinstance(result, DeploymentFacts):
            if result.flavour:
                project.deployment[source.display] = result
    return project


def _cache_key(source: SourceFile, force: bool, rule_tokens: tuple[bytes, ...]) -> str:
    # Facts embed the display path and depend on how the file was classified; whether a file is
    # parsed at all depends on the pre-filter.
    prefilter = "all" if force else b",".join(rule_tokens).decode("ascii", "replace")
    return f"{source.display}|{source.kind}{source.deploy_kind}|{source.module}|{source.is_package}|{source.settings_like}|{prefilter}"


def run_rules(project: ProjectModel, rules: dict[str, Rule], result: Result) -> list[Finding]:
    """Run each rule; one finding per (code, location), the first one kept."""
    findings: dict[tuple[str, Location], Finding] = {}
    for code, rule in rules.items():
        try:
            with quiet_warnings():
                for finding in rule.check(project):
                    findings.setdefault((finding.code, finding.location), finding)
        except Exception as error:  # one broken rule must not hide the others' findings
            detail = (
                traceback.format_exc()
                if os.environ.get("CACHELINT_DEBUG")
                else f"{type(error).__name__}: {error}"
            )
            result.errors.append(f"internal error in rule {code} ({rule.slug}): {detail}")
    return list(findings.values())


def check(
    paths: Iterable[Path],
    config: Config,
    rules: dict[str, Rule],
    progress: Progress = SILENT,
    workspace: Workspace | None = None,
) -> Result:
    """Scan ``paths`` in the context of their project (the nearest directory with manage.py,
    pyproject.toml or .git): the whole project is read, findings are reported for the paths.

    With a ``workspace``, each file is checked with the configuration nearest to it, and the
    Django projects of a monorepo are joined apart (see workspace.py); without one, every file
    has ``config``.
    """
    workspace = workspace or Workspace(config, rules)
    result = Result()
    groups: dict[Path, set[Path]] = {}
    roots: dict[Path, Path] = {}  # by directory: pre-commit passes thousands of files of a few
    for raw in paths:
        path = Path(os.path.abspath(raw))
        if not path.exists() and not overridden(path):
            result.errors.append(f"{raw}: no such file or directory")
            continue
        start = path if path.is_dir() else path.parent
        if start not in roots:
            roots[start] = find_project_root(start)
        groups.setdefault(roots[start], set()).add(path)
    for root, targets in groups.items():
        _check_tree(root, None if root in targets else targets, workspace, result, progress)
    result.findings.sort(key=lambda f: f.sort_key)
    return result


def _check_tree(
    root: Path, targets: set[Path] | None, workspace: Workspace, result: Result, progress: Progress
) -> None:
    """Walk ``root`` once and check each project found below it."""
    for project_root, paths, scope in tree_projects(root, targets, workspace, result.errors):
        check_sources(project_root, classify(project_root, paths, scope.config), targets, scope, result, progress)


def tree_projects(
    root: Path, targets: set[Path] | None, workspace: Workspace, errors: list[str]
) -> Iterator[tuple[Path, list[Path], Scope]]:
    """The projects below ``root`` (walked once): each one's root, files and configuration."""
    try:
        scope = workspace.scope(root)
    except ConfigError as error:
        errors.append(str(error))
        return
    config = scope.config
    excludes = (config.exclude or []) + config.extend_exclude
    config_dirs: list[str] = []
    paths = list(
        walk(
            root,
            excludes,
            skip_default_dirs=config.exclude is None,
            skip_tests=not config.check_tests,
            errors=errors,
            suffixes=config.template_extensions,
            config_dirs=config_dirs,
        )
    )
    if targets is not None and not config.force_exclude:
        # Files passed explicitly are checked even when ignored or not below a usual location
        # (with force-exclude, they are left out as the walk leaves them out).
        known = set(paths)
        paths.extend(sorted(t for t in targets if not t.is_dir() and t not in known))
    for project_root, project_paths in split_projects(root, paths, config_dirs, workspace):
        try:
            project_scope = workspace.scope(project_root)
        except ConfigError as error:
            errors.append(str(error))
            continue
        if project_scope is not scope:
            project_paths = _own_excludes(project_paths, project_scope, targets)
        yield project_root, project_paths, project_scope


def _own_excludes(paths: list[Path], scope: Scope, targets: set[Path] | None) -> list[Path]:
    """``paths`` without those the project's own configuration excludes (a file passed by name
    stays, as at the root)."""
    config = scope.config
    spec = glob_spec((config.exclude or []) + config.extend_exclude)
    if spec is None or scope.source is None:
        return paths
    base = scope.source.parent
    return [
        p
        for p in paths
        if (targets is not None and p in targets)
        or not spec.match_file(Path(os.path.relpath(p, base)).as_posix())
    ]


def classify(root: Path, paths: Iterable[Path], config: Config) -> list[SourceFile]:
    """The sources of ``paths``: each file as code or template, and as settings data too when
    it is one (an entry point such as wsgi.py is both)."""
    classifier = Classifier(root, config.template_dirs, config.settings_modules, config.template_extensions)
    return [s for p in paths for s in (classifier.classify(p), classifier.classify_data(p)) if s is not None]


def check_sources(
    root: Path,
    sources: list[SourceFile],
    targets: set[Path] | None,
    scope: Scope,
    result: Result,
    progress: Progress = SILENT,
    memory: FactMemory | None = None,
) -> ProjectModel:
    """Join the project of ``sources``, run the rules and add to ``result`` the findings in
    ``targets`` (all when None), filtered by configuration, suppressions and baseline."""
    config, rules = scope.config, scope.rules
    # Paths in the configuration (baseline, per-file-ignores) are relative to the file that
    # says them.
    config_root = scope.source.parent if scope.source is not None else root
    project = build_project(sources, config, root, progress, rules, result.warnings, memory)
    project.root = root
    result.errors.extend(project.unreadable_declarations)
    if config.django_version:
        project.django_version = parse_version(config.django_version)
    elif project.declared_django is not None:
        project.django_version = project.declared_django.version
    result.project = project
    findings = [f for f in run_rules(project, rules, result) if f.code in rules]
    for path, facts in [*project.python.items(), *project.templates_by_path.items()]:
        result.digests[path] = facts.digest
    wanted = _Targets(targets) if targets is not None else None
    if wanted is not None:
        # A finding is reported for the paths passed when it is in one of them, or when its
        # evidence is: a change to a template can make a view elsewhere leak (pre-commit passes
        # the template, the finding points at the view).
        findings = [
            f
            for f in findings
            if f.location.path in wanted or any(e.location.path in wanted for e in f.related)
        ]
    findings = _per_file_ignores(findings, config, config_root)
    text_of = memory.text if memory is not None else None
    suppressions = _suppressions(project, findings, text_of)
    kept, used = apply(findings, suppressions)
    if config.baseline:
        from cachelint import baseline

        try:
            kept = baseline.new_findings(
                kept, baseline.read(config_root / config.baseline), config_root, config.max_file_size, text_of
            )
        except baseline.BaselineError as error:
            result.errors.append(str(error))
    result.suppressed += len(findings) - len(kept)
    result.findings.extend(kept)
    if "CL002" in rules:
        unused_rule = rules["CL002"]
        for location, code in unused(suppressions, used, rules):
            if wanted is None or location.path in wanted:
                result.findings.append(
                    unused_rule.finding(location, f"unused suppression: no {code} finding on this line")
                )
    return project


class _Targets:
    """The paths passed on the command line, each resolved once into a file or a directory, so
    that testing a finding's path costs a set lookup per parent directory, however many paths
    were passed (it was a stat per finding and path: 5,000 arguments took 100 s)."""

    def __init__(self, targets: Iterable[Path]) -> None:
        self.files: set[str] = set()
        self.directories: set[str] = set()
        for target in targets:
            real = os.path.realpath(target)  # unlike Path.resolve, never raises on a symlink loop
            (self.directories if os.path.isdir(real) else self.files).add(real)
        self._known: dict[str, bool] = {}

    def __contains__(self, path: str) -> bool:
        """Is ``path`` (a finding's) one of the files, or inside one of the directories?"""
        if path not in self._known:
            real = os.path.realpath(path)
            found = real in self.files
            while not found:
                found = real in self.directories
                parent = os.path.dirname(real)
                if parent == real:
                    break
                real = parent
            self._known[path] = found
        return self._known[path]


def _per_file_ignores(findings: list[Finding], config: Config, root: Path) -> list[Finding]:
    if not config.per_file_ignores:
        return findings
    specs = [(glob_spec([pattern]), tuple(codes)) for pattern, codes in config.per_file_ignores.items()]
    kept = []
    for finding in findings:
        relative = os.path.relpath(os.path.realpath(finding.location.path), os.path.realpath(root))
        relative = Path(relative).as_posix()
        if any(spec.match_file(relative) and finding.code.startswith(codes) for spec, codes in specs if spec):
            continue
        kept.append(finding)
    return kept


def _suppressions(
    project: ProjectModel, findings: list[Finding], text_of: Callable[[str], str | None] | None = None
) -> dict[str, tuple[Suppression, ...]]:
    """Suppressions by path: from the facts, or read now for the few files that have none
    (a file that could not be parsed may still carry ``# noqa: CL001``)."""
    table = {path: facts.suppressions for path, facts in project.python.items()}
    table.update((path, facts.suppressions) for path, facts in project.templates_by_path.items())
    table.update((path, facts.suppressions) for path, facts in project.deployment.items())
    for path in {f.location.path for f in findings} - set(table):
        text = text_of(path) if text_of is not None else None
        try:  # never past max-file-size: a skipped file is not read at all
            text = read_text(path, project.config.max_file_size) if text is None else text
        except OSError:
            continue
        table[path] = scan_suppressions(text, template=not path.endswith(".py"))
    return table
