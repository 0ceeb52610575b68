"""Find the files of a project and classify them, without reading more than a few bytes of each."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cachelint.facts.bundler import CONFIG_NAME as BUNDLER_CONFIG
from cachelint.reading import read_text, reason

if TYPE_CHECKING:
    import pathspec

PROJECT_MARKERS = ("manage.py", "pyproject.toml", ".git")
# Files that may configure cachelint for their directory and below, in the order they win.
CONFIG_NAMES = ("cachelint.toml", ".cachelint.toml", "pyproject.toml")
TEMPLATE_SUFFIXES = frozenset({".html", ".htm", ".txt", ".xml"})
WALKED_SUFFIXES = TEMPLATE_SUFFIXES | {".py"}
# Test packages (a test project's views and templates, ``testing/`` helpers) are never served.
TEST_DIRS = frozenset({"tests", "test_utils", "testing"})
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".env",
        "env",
        "node_modules",
        "__pycache__",
        "build",
        "dist",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".cachelint_cache",
        "site-packages",
        ".eggs",
        "bower_components",
        "htmlcov",
    }
)


@dataclass(frozen=True)
class SourceFile:
    path: Path  # absolute
    display: str  # relative to the working directory (``../`` outside it), posix slashes
    kind: str  # "python" | "template" | "bundler" | "deployment"
    module: str = ""  # dotted module name (python)
    is_package: bool = False
    settings_like: bool = False  # named settings.py or inside a settings/ package
    template_name: str = ""  # name a loader would find it by (template)
    deploy_kind: str = ""  # conf | caddy | varnish | htaccess | yaml (see deployment_kind)
    relative: str = ""  # path from the project root (settings data)


def display_path(path: Path) -> str:
    """``path`` relative to the working directory, with ``../`` for a file outside it, as a user
    would type it and as the reports show it; absolute only where no relative path exists (another
    drive on Windows). The working directory is a real path, so the ``..`` are too."""
    text = os.fspath(path)
    cwd = os.getcwd()
    # The common case, by string operations (called once per file found: pathlib cost more than
    # the rest of discovery); only for a clean absolute path, which is what the walk yields.
    if text.startswith(cwd) and text[len(cwd) : len(cwd) + 1] == os.sep and _CLEAN.search(text) is None:
        relative = text[len(cwd) + 1 :]
        if relative:
            return relative if os.sep == "/" else relative.replace(os.sep, "/")
    path = Path(path)
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        pass
    try:
        return Path(os.path.relpath(path, cwd)).as_posix()
    except ValueError:
        return path.as_posix()


# What pathlib would normalise away (``a//b``, ``a/./b``, a trailing slash): such a path takes
# the pathlib way in display_path. ``..`` is kept by pathlib, so it needs no care here.
_CLEAN = re.compile(r"//|/\./|/\.$|/$" if os.sep == "/" else r"[\\/]{2}|[\\/]\.(?:[\\/]|$)|[\\/]$")


def find_project_root(path: Path) -> Path:
    """The nearest directory holding manage.py, pyproject.toml or .git (else the file's dir)."""
    start = path if path.is_dir() else path.parent
    for candidate in (start, *start.parents):
        if any((candidate / marker).exists() for marker in PROJECT_MARKERS):
            return candidate
    return start


def _gitignore(root: Path, errors: list[str] | None = None) -> pathspec.PathSpec | None:
    path = root / ".gitignore"
    try:
        lines = read_text(path).splitlines()
    except FileNotFoundError:
        return None
    except OSError as error:
        if errors is not None:
            errors.append(f"{display_path(path)}: cannot read: {reason(error)}")
        return None
    return _spec(lines)


class _Modules:
    """Dotted module names from the package structure, as Python's import system sees them.

    Directories are strings here: this runs for every Python file found."""

    def __init__(self) -> None:
        self._packages: dict[str, str | None] = {}

    def package_of(self, directory: Path | str) -> str | None:
        directory = os.fspath(directory)
        if directory not in self._packages:
            if os.path.isfile(os.path.join(directory, "__init__.py")):
                parent_dir, name = os.path.split(directory)
                parent = self.package_of(parent_dir) if parent_dir != directory and name else None
                self._packages[directory] = f"{parent}.{name}" if parent else name
            else:
                self._packages[directory] = None
        return self._packages[directory]

    def module_of(self, path: Path | str) -> tuple[str, bool]:
        directory, name = os.path.split(os.fspath(path))
        package = self.package_of(directory)
        if name == "__init__.py":
            return package or os.path.basename(directory), True
        stem = name[: -len(".py")] if name.endswith(".py") else os.path.splitext(name)[0]
        return (f"{package}.{stem}" if package else stem), False


def glob_spec(patterns: Iterable[str]) -> pathspec.PathSpec | None:
    """Configured patterns (checked when the configuration is read: a bad one raises here)."""
    patterns = list(patterns)
    return _compile(patterns) if patterns else None


def _spec(lines: list[str]) -> pathspec.PathSpec:
    """The patterns of a .gitignore."""
    try:
        return _compile(lines)
    except (ValueError, re.error):
        # Like git, a pattern that cannot be compiled (``[z-a]``) is skipped rather than failing the run.
        return _compile([line for line in lines if _compiles(line)])


def _compile(lines: list[str]) -> pathspec.PathSpec:
    import pathspec  # only for a project with a .gitignore or patterns: it costs 20-50 ms to import

    # pathspec 1.x names git's semantics "gitignore"; older releases only know "gitwildmatch".
    try:
        return pathspec.PathSpec.from_lines("gitignore", lines)
    except (KeyError, LookupError):  # pragma: no cover - pathspec < 0.12
        return pathspec.PathSpec.from_lines("gitwildmatch", lines)


def _compiles(line: str) -> bool:
    try:
        _compile([line])
    except (ValueError, re.error):
        return False
    return True


def is_test_file(name: str) -> bool:
    """Test modules by pytest's and Django's naming: test_*.py, *_test(s).py, tests.py, conftest.py."""
    return name in ("tests.py", "conftest.py", "testcases.py") or (
        name.endswith(".py") and (name.startswith("test_") or name.endswith(("_test.py", "_tests.py")))
    )


def walk(
    root: Path,
    excludes: Iterable[str] = (),
    skip_default_dirs: bool = True,
    skip_tests: bool = True,
    errors: list[str] | None = None,
    config_dirs: list[str] | None = None,
    suffixes: Iterable[str] = WALKED_SUFFIXES,
) -> Iterator[Path]:
    """Python files and possible templates (``suffixes``) below ``root``, honouring .gitignore and ``excludes``
    (gitignore syntax).

    Test code (``tests/`` folders and test modules) is skipped unless ``skip_tests`` is False:
    it is never served, so its cached views cannot leak. Symlinked directories are not followed
    (they loop, or lead outside the project), nor are symlinked files that point outside it.
    Paths stay strings until a file is kept: this walk
    sees every file of the tree, and pathlib objects for each cost more than the rest of it.
    A directory or .gitignore that cannot be read is a line in ``errors``: what it holds is not
    checked, and a run that missed it must not pass. ``config_dirs`` collects the directories
    that hold a file named like a configuration (see workspace.py).
    """
    walked = frozenset(suffixes) | {".py"}
    ignore = _gitignore(root, errors)
    extra = glob_spec(excludes)
    real_root = os.path.realpath(root)
    stack: list[tuple[str, str]] = [(str(root), "")]  # (directory, its path relative to root + "/")
    while stack:
        directory, prefix = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except FileNotFoundError:  # removed meanwhile
            continue
        except OSError as error:
            if errors is not None:
                errors.append(f"{display_path(Path(directory))}: cannot read directory: {reason(error)}")
            continue
        if prefix and any(e.name == "pyvenv.cfg" for e in entries):
            continue  # a virtualenv
        subdirs = []
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if skip_default_dirs and (name in SKIPPED_DIRS or name.endswith(".egg-info")):
                    continue
                if "{{" in name or "{%" in name:
                    continue  # a cookiecutter/copier template tree: its files are not Python yet
                if skip_tests and name in TEST_DIRS:
                    continue
                if not _ignored(f"{prefix}{name}/", ignore, extra):
                    subdirs.append((entry.path, f"{prefix}{name}/"))
                continue
            if config_dirs is not None and name in CONFIG_NAMES and directory not in config_dirs[-1:]:
                config_dirs.append(directory)
            if (
                os.path.splitext(name)[1] not in walked
                and not BUNDLER_CONFIG.match(name)
                and deployment_kind(prefix + name) is None
                and not is_settings_data(name, prefix)
            ) or _ignored(prefix + name, ignore, extra):
                continue
            if skip_tests and is_test_file(name):
                continue
            if entry.is_symlink():
                target = os.path.realpath(entry.path)
                if os.path.isdir(target) or os.path.commonpath([real_root, target]) != real_root:
                    continue
            yield Path(entry.path)
        stack.extend(reversed(subdirs))


def _ignored(relative: str, *specs: pathspec.PathSpec | None) -> bool:
    return any(spec is not None and spec.match_file(relative) for spec in specs)


# --- settings data: files that say how Django is started, and with which version --------------
_DATA_SUFFIXES = (".yml", ".yaml", ".env", ".ini", ".cfg", ".toml", ".conf", ".sh", ".lock", ".in")
_DATA_NAMES = frozenset({"procfile", "dockerfile", "containerfile", "pipfile", ".env", "jenkinsfile"})
_DATA_PYTHON = frozenset({"wsgi.py", "asgi.py", "manage.py", "celery.py", "setup.py", "noxfile.py"})


def is_settings_data(name: str, directory: str = "") -> bool:
    """Files read as data for which settings module runs where and which Django version is
    declared (see cachelint/facts/settings_evidence.py): entry points, Dockerfiles, Procfiles,
    compose/Kubernetes/Helm YAML, ``.env`` files (and ``.envs/``, ``env.d/`` folders), pytest/tox
    configuration, shell scripts, requirements and lock files. ``directory`` is the file's
    folder relative to the root, with a trailing slash."""
    lower = name.lower()
    if lower in _DATA_PYTHON or lower in _DATA_NAMES or lower.endswith(_DATA_SUFFIXES):
        return True
    if lower.startswith(("procfile.", "dockerfile.", "containerfile.", ".env.", "requirements")) or lower.endswith(
        ".dockerfile"
    ):
        return True
    if lower.endswith(".txt") and (
        "requirements" in lower or "constraints" in lower or directory.lower().rstrip("/").endswith(("requirements", "reqs"))
    ):
        return True
    if ".yaml." in lower or ".yml." in lower or lower.endswith(".gotmpl"):
        return True  # helmfile values (values.web.yaml.gotmpl), compose overrides (x.yml.example)
    return any(f"/{folder}/" in f"/{directory.lower()}" for folder in (".envs", "envs", "env.d"))


class Classifier:
    def __init__(
        self,
        root: Path,
        template_dirs: Iterable[str] = (),
        settings_globs: Iterable[str] = (),
        template_suffixes: Iterable[str] = TEMPLATE_SUFFIXES,
    ) -> None:
        self._root = root
        self._root_text = os.fspath(root)
        self._template_suffixes = frozenset(template_suffixes)
        self._modules = _Modules()
        self._template_dirs = [(root / d).resolve() for d in template_dirs]
        self._settings = glob_spec(settings_globs)

    def relative(self, path: Path) -> str:
        text, root = os.fspath(path), self._root_text
        if text.startswith(root) and text[len(root) : len(root) + 1] == os.sep:
            return text[len(root) + 1 :].replace(os.sep, "/")  # the common case, without pathlib
        try:
            return path.relative_to(self._root).as_posix()
        except ValueError:
            return path.as_posix()

    def classify(self, path: Path) -> SourceFile | None:
        text = os.fspath(path)
        directory, name = os.path.split(text)
        suffix = os.path.splitext(name)[1]
        deploy = deployment_kind(self.relative(path))
        if deploy is not None:
            return SourceFile(path, display_path(path), "deployment", deploy_kind=deploy)
        if suffix == ".py":
            module, is_package = self._modules.module_of(text)
            settings_like = name == "settings.py" or os.path.basename(directory) == "settings"
            if self._settings is not None and self._settings.match_file(self.relative(path)):
                settings_like = True
            return SourceFile(path, display_path(path), "python", module, is_package, settings_like)
        if BUNDLER_CONFIG.match(name):  # webpack.config.js, vite.config.ts: read as text
            return SourceFile(path, display_path(path), "bundler")
        if suffix in self._template_suffixes:
            template = self._template_name(path)
            if template:
                return SourceFile(path, display_path(path), "template", template_name=template)
        return None

    def classify_data(self, path: Path) -> SourceFile | None:
        """A settings data file (see ``is_settings_data``); a Python entry point is one too,
        beside its Python classification."""
        relative = self.relative(path)
        directory = relative.rsplit("/", 1)[0] + "/" if "/" in relative else ""
        if is_settings_data(path.name, directory):
            return SourceFile(path, display_path(path), "data", relative=relative)
        return None

    def _template_name(self, path: Path) -> str | None:
        text = os.fspath(path)
        for directory in self._template_dirs:
            prefix = os.fspath(directory)
            if text.startswith(prefix) and text[len(prefix) : len(prefix) + 1] == os.sep:
                return path.relative_to(directory).as_posix()
        parts = text.split(os.sep)
        # The nearest enclosing "templates" folder (app templates or a DIRS entry).
        for index in range(len(parts) - 2, -1, -1):
            if parts[index] == "templates":
                return "/".join(parts[index + 1 :])
        return None


# --- deployment files (web-server, proxy and chart files next to the code, read as data) --------

_CONF_SUFFIXES = (
    ".conf",
    ".conf.template",
    ".conf.j2",
    ".conf.tmpl",
    ".conf.tpl",
    ".conf.erb",
    ".nginx",
    ".vhost",
)
_CONF_DIRS = frozenset(
    {"sites-available", "sites-enabled", "conf.d", "vhost.d", "vhosts.d", "nginx", "apache", "apache2"}
)
# Files in those folders that are something else: docs, scripts, data, other programs' files.
_NOT_CONF_SUFFIXES = (
    ".md",
    ".rst",
    ".txt",
    ".py",
    ".sh",
    ".json",
    ".yml",
    ".yaml",
    ".html",
    ".pem",
    ".key",
    ".crt",
)
_NOT_CONF_NAMES = (
    "dockerfile",
    "containerfile",
    "procfile",
    "makefile",
    "readme",
    "license",
    ".env",
    "docker-compose",
    "compose",
)
_CHART_DIRS = frozenset(
    {"charts", "chart", "helm", "k8s", "kubernetes", "kube", "manifests", "deploy", "deployment"}
)


def deployment_kind(relative: str) -> str | None:
    """What a deployment file is, from its name and place (``relative`` to the project root,
    posix slashes): ``conf`` (nginx or Apache, told apart by content), ``caddy``, ``varnish``,
    ``htaccess``, ``yaml`` (Kubernetes/Helm manifests that may carry ingress-nginx snippets)."""
    parts = relative.split("/")
    name, directories = parts[-1], parts[:-1]
    lowered = name.lower()
    if lowered.endswith(".vcl") or lowered.endswith(".vcl.template"):
        return "varnish"
    if lowered == "caddyfile" or lowered.startswith("caddyfile.") or lowered.endswith(".caddyfile"):
        return "caddy"
    if lowered == ".htaccess":
        return "htaccess"
    if lowered.endswith(_CONF_SUFFIXES):
        return "conf"
    if (
        directories
        and directories[-1] in _CONF_DIRS
        and not lowered.endswith(_NOT_CONF_SUFFIXES)
        and not lowered.startswith(_NOT_CONF_NAMES)
        and not name.startswith(".")
    ):
        return "conf"  # sites-available/mysite, conf.d/default, vhost.d/example.com
    if lowered.endswith((".yaml", ".yml")) and (
        "ingress" in lowered
        or (set(directories) & _CHART_DIRS)
        or (directories and directories[-1] == "templates")
    ):
        return "yaml"
    return None
