"""cachelint reads the scanned project as data: it never imports, executes or configures it.

Every Python file of the project below, if it were imported or run, would drop a marker file
next to itself (``<file>.executed``, a path computed when the code runs) and exit with status 3.
The files also hold real leaks, so the rules demonstrably read them. Each scan must leave no
marker, report findings, and exit 1 (findings, not 3 and not a crash).
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path

import django
import pytest
from click.testing import CliRunner

from cachelint.cli import cli
from tests.helpers import write_tree

PARALLEL_EXTRA = 80  # generated view modules: many files through the worker processes

POISON = '''\
import sys as _poison_sys
open((globals().get("__file__") or {fallback!r}) + ".executed", "w").close()
_poison_sys.exit(3)
'''


def project_files(root: Path, extra: int = 0) -> dict[str, str]:
    fallback = str(root / "unknown-module")
    poison = POISON.format(fallback=fallback)

    def py(body: str = "") -> str:
        return poison + body

    files = {
        # Test code (conftest.py) is skipped by default; here it must be analysed, not executed.
        "pyproject.toml": "[tool.cachelint]\ncheck-tests = true\n",
        "manage.py": py(
            '''
import os


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproj.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
'''
        ),
        "setup.py": py('\nfrom setuptools import setup\n\nsetup(name="myproj", install_requires=["Django==5.1"])\n'),
        "conftest.py": py(
            '''
import pytest
from django.contrib.auth.decorators import login_required
from django.views.decorators.cache import cache_page


@login_required
@cache_page(60)
def fake_view(request):
    return None


@pytest.fixture
def view():
    return fake_view
'''
        ),
        "myproj/__init__.py": py(),
        "myproj/settings/__init__.py": py("\nfrom .base import *  # noqa: F403\n"),
        "myproj/settings/base.py": py(
            '''
SECRET_KEY = "x"
DEBUG = False
ROOT_URLCONF = "myproj.urls"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "shop",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["shop.context_processors.cart"]},
    },
]
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
    },
}
'''
        ),
        "myproj/urls.py": py(
            '''
from django.urls import include, path
from django.views.decorators.cache import cache_page

from shop import views

urlpatterns = [
    path("account/", cache_page(60)(views.account)),
    path("shop/", include("shop.urls")),
]
'''
        ),
        "myproj/wsgi.py": py(
            '''
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproj.settings")
application = get_wsgi_application()
'''
        ),
        "shop/__init__.py": py(),
        "shop/apps.py": py(
            '''
from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"

    def ready(self):
        from django.core.cache import cache

        cache.set("ready", 1, timeout=None)
'''
        ),
        "shop/models.py": py("\nfrom django.db import models\n\n\nclass Item(models.Model):\n    name = models.CharField(max_length=10)\n"),
        "shop/migrations/__init__.py": py(),
        "shop/urls.py": py(
            '''
from django.urls import path

from shop import views

urlpatterns = [
    path("dashboard/", views.dashboard),
    path("orders/", views.Orders.as_view()),
]
'''
        ),
        "shop/views.py": py(
            '''
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views.decorators.cache import cache_page
from django.views.generic import TemplateView


@login_required
@cache_page(60)
def dashboard(request):
    return render(request, "shop/dashboard.html", {})


@login_required
def account(request):
    return render(request, "shop/dashboard.html", {"name": request.user.username})


@method_decorator(cache_page(60), name="dispatch")
class Orders(LoginRequiredMixin, TemplateView):
    template_name = "shop/dashboard.html"
'''
        ),
        "shop/context_processors.py": py(
            '''
from django.core.cache import cache


def cart(request):
    cache.set(f"cart-{request.user.pk}", [], timeout=None)
    return {"cart": request.session.get("cart")}
'''
        ),
        "shop/templatetags/__init__.py": py(),
        "shop/templatetags/shop_tags.py": py(
            '''
from django import template
from django.core.cache import cache

register = template.Library()


@register.simple_tag
def popular():
    cache.set("popular", [], timeout=None)
    return ""
'''
        ),
        "shop/templates/shop/dashboard.html": (
            "{% load cache shop_tags %}\n"
            "<h1>Dashboard</h1>\n"
            "{% cache 500 sidebar %}\n"
            "  <p>{{ user.username }}</p>\n"
            "  <form method=\"post\">{% csrf_token %}</form>\n"
            "{% endcache %}\n"
        ),
    }
    if extra:
        files["shop/generated/__init__.py"] = py()
        for number in range(extra):
            files[f"shop/generated/view_{number:03d}.py"] = py(
                f'''
from django.contrib.auth.decorators import login_required
from django.views.decorators.cache import cache_page


@login_required
@cache_page(60)
def view_{number:03d}(request):
    return None
'''
            )
    return files


# Findings that prove each kind of file was read: settings, URLconf, views, class views, app
# config, context processor, template tag library, conftest.py, template.
REQUIRED = {
    ("conftest.py", "CL101"),
    ("myproj/settings/base.py", "CL301"),
    ("myproj/urls.py", "CL101"),
    ("shop/apps.py", "CL601"),
    ("shop/context_processors.py", "CL601"),
    ("shop/templatetags/shop_tags.py", "CL601"),
    ("shop/views.py", "CL101"),
    ("shop/views.py", "CL108"),
    ("shop/templates/shop/dashboard.html", "CL201"),
    ("shop/templates/shop/dashboard.html", "CL202"),
    ("shop/templates/shop/dashboard.html", "CL203"),
}
PROJECT_PACKAGES = {"conftest", "manage", "myproj", "setup", "shop"}


def required(extra: int) -> set[tuple[str, str]]:
    return REQUIRED | {(f"shop/generated/view_{n:03d}.py", "CL101") for n in range(extra)}


def markers(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.executed"))


def found(findings: list[dict]) -> set[tuple[str, str]]:
    return {(f["location"]["path"], f["code"]) for f in findings}


@pytest.fixture
def hostile(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """The working directory is the project root, the project is importable (on sys.path, with
    DJANGO_SETTINGS_MODULE pointing at its settings), so any accidental import or settings
    access would run the poisoned code; django.setup raises."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "myproj.settings")
    monkeypatch.setenv("NO_COLOR", "1")
    user_cache = tmp_path_factory.mktemp("user-cache")  # holds the key that signs result caches
    monkeypatch.setenv("XDG_CACHE_HOME", str(user_cache))
    calls: list[tuple] = []

    def forbidden_setup(*args, **kwargs):
        calls.append(args)
        raise AssertionError("cachelint called django.setup()")

    monkeypatch.setattr(django, "setup", forbidden_setup)

    def make(extra: int = 0) -> Path:
        write_tree(tmp_path, project_files(tmp_path, extra))
        return tmp_path

    make.setup_calls = calls  # type: ignore[attr-defined]
    make.user_cache = user_cache  # type: ignore[attr-defined]
    return make


def test_poison_works(tmp_path: Path):
    """Guard for the test itself: running a poisoned file really drops its marker and exits 3."""
    write_tree(tmp_path, project_files(tmp_path))
    proc = subprocess.run([sys.executable, "manage.py", "check"], cwd=tmp_path, capture_output=True, timeout=60)
    assert proc.returncode == 3
    assert markers(tmp_path) == ["manage.py.executed"]
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", "import shop.templatetags.shop_tags"], cwd="/", env=env, capture_output=True, timeout=60
    )
    assert proc.returncode == 3
    assert "shop/__init__.py.executed" in markers(tmp_path)


@pytest.mark.parametrize("extra, jobs", [(0, 1), (PARALLEL_EXTRA, 2)], ids=["serial", "process-pool"])
def test_in_process_scan_never_executes_the_project(hostile, monkeypatch, extra, jobs):
    import concurrent.futures

    from django.apps import apps
    from django.conf import settings

    import cachelint.engine as engine

    root = hostile(extra)
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)  # any amount of work goes to workers
    pools: list[int] = []

    class CountingPool(concurrent.futures.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", CountingPool)
    settings_configured, apps_ready = settings.configured, apps.ready
    before = set(sys.modules)
    runner = CliRunner()
    # Twice: a cold result cache, then a warm one (facts read back from .cachelint_cache/).
    for _ in range(2):
        result = runner.invoke(
            cli, ["check", "--select", "ALL", "--format", "json", "--jobs", str(jobs), "."], catch_exceptions=False
        )
        assert markers(root) == []
        assert result.exit_code == 1, result.output
        data = json.loads(result.stdout)
        assert data["errors"] == []
        assert required(extra) <= found(data["findings"])
    assert (root / ".cachelint_cache").is_dir()
    assert bool(pools) == (jobs > 1)  # the files really went through worker processes
    new = set(sys.modules) - before
    from_project = sorted(
        name
        for name in new
        if name.split(".")[0] in PROJECT_PACKAGES
        or str(getattr(sys.modules.get(name), "__file__", None) or "").startswith(str(root))
    )
    assert from_project == []
    assert hostile.setup_calls == []
    assert (settings.configured, apps.ready) == (settings_configured, apps_ready)


def test_engine_check_never_executes_the_project(hostile):
    """The library entry point, without the CLI around it."""
    from cachelint.config import Config
    from cachelint.engine import check
    from cachelint.registry import all_rules, select_rules

    root = hostile(PARALLEL_EXTRA)
    before = set(sys.modules)
    import cachelint.engine as engine

    engine.PARALLEL_MIN_BYTES, saved = 0, engine.PARALLEL_MIN_BYTES
    try:
        result = check([root], Config(cache=False, jobs=2, check_tests=True), select_rules(all_rules(), ["ALL"], None))
    finally:
        engine.PARALLEL_MIN_BYTES = saved
    assert markers(root) == []
    assert result.errors == []
    assert required(PARALLEL_EXTRA) <= {(f.location.path, f.code) for f in result.findings}
    assert not {n for n in set(sys.modules) - before if n.split(".")[0] in PROJECT_PACKAGES}
    assert hostile.setup_calls == []


def run_module(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "DJANGO_SETTINGS_MODULE": "myproj.settings",
        "PYTHONPATH": str(root),
        "XDG_CACHE_HOME": str(root.parent / f"{root.name}-user-cache"),
        "CACHELINT_PARALLEL_MIN_BYTES": "0",  # --jobs 2 really uses worker processes
    }
    return subprocess.run(
        [sys.executable, "-m", "cachelint", "check", "--select", "ALL", "--format", "json", *args],
        cwd=root, capture_output=True, text=True, timeout=300, env=env,
    )


@pytest.mark.parametrize(
    "extra, jobs, cache",
    [(0, 1, "--no-cache"), (PARALLEL_EXTRA, 2, "--no-cache"), (PARALLEL_EXTRA, 2, None)],
    ids=["serial", "process-pool", "process-pool-cached"],
)
def test_subprocess_scan_never_executes_the_project(tmp_path, extra, jobs, cache):
    write_tree(tmp_path, project_files(tmp_path, extra))
    runs = 2 if cache is None else 1  # with the cache: cold, then warm
    for _ in range(runs):
        proc = run_module(tmp_path, "--jobs", str(jobs), *([cache] if cache else []), ".")
        assert markers(tmp_path) == []
        assert proc.returncode == 1, proc.stderr[-2000:]
        assert "Traceback" not in proc.stderr
        data = json.loads(proc.stdout)
        assert data["errors"] == []
        assert required(extra) <= found(data["findings"])


# --- holes these tests found (regression tests) ---------------------------------------------------


class _Plant:
    """Unpickling this creates ``path``: stands for any code a pickle can run."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _shards(root):
    from cachelint.cache import SHARDS

    return [root / ".cachelint_cache" / f"facts-{shard:02x}.pickle" for shard in range(SHARDS)]


def test_result_cache_from_the_scanned_tree_is_not_unpickled(hostile):
    """A repository can commit a ``.cachelint_cache/``; loading it must not run its pickle."""
    root = hostile()
    (root / ".cachelint_cache").mkdir()
    for planted in _shards(root):
        planted.write_bytes(pickle.dumps(("salt", _Plant(root / "pickle.executed"))))
    result = CliRunner().invoke(cli, ["check", "--select", "ALL", "--format", "json", "--jobs", "1", "."])
    assert result.exit_code == 1
    assert markers(root) == []


def test_result_cache_signed_with_an_empty_key_is_not_unpickled(hostile):
    """An empty key file (a concurrent first run, a full disk) is no secret: not trusted."""
    import hashlib
    import hmac

    root = hostile()
    key = hostile.user_cache / "cachelint" / "key"
    key.parent.mkdir(parents=True)
    key.write_bytes(b"")
    payload = pickle.dumps(("salt", _Plant(root / "pickle.executed")))
    (root / ".cachelint_cache").mkdir()
    for planted in _shards(root):
        planted.write_bytes(hmac.new(b"", payload, hashlib.sha256).digest() + payload)
    result = CliRunner().invoke(cli, ["check", "--select", "ALL", "--format", "json", "--jobs", "1", "."])
    assert result.exit_code == 1
    assert markers(root) == []


def test_key_inside_the_scanned_tree_is_not_trusted(hostile, monkeypatch):
    """CI often points XDG_CACHE_HOME into the checkout (GitLab caches must live there): a
    repository could then commit both the key and a cache signed with it."""
    import hashlib
    import hmac

    root = hostile()
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / ".cache"))
    key = root / ".cache" / "cachelint" / "key"
    key.parent.mkdir(parents=True)
    key.write_bytes(b"k" * 32)
    payload = pickle.dumps(("salt", _Plant(root / "pickle.executed")))
    (root / ".cachelint_cache").mkdir()
    for planted in _shards(root):
        planted.write_bytes(hmac.new(key.read_bytes(), payload, hashlib.sha256).digest() + payload)
    for _ in range(2):  # nor is a cache written with it trusted by the next run
        result = CliRunner().invoke(cli, ["check", "--select", "ALL", "--format", "json", "--jobs", "1", "."])
        assert result.exit_code == 1
        assert markers(root) == []
    assert planted.read_bytes().endswith(payload)  # untouched: no cache was written with that key


def shadowing_app(root: Path, name: str) -> None:
    """A project app named like a standard-library module, e.g. ``calendar`` or ``platform``."""
    write_tree(root, {f"{name}/__init__.py": POISON.format(fallback=str(root / name))})


def test_python_dash_m_does_not_import_project_apps_shadowing_stdlib(tmp_path):
    """``python -m`` puts the working directory first on sys.path: a project app named like a
    module that cachelint imports while scanning must not be imported instead."""
    write_tree(tmp_path, project_files(tmp_path))
    shadowing_app(tmp_path, "calendar")
    proc = run_module(tmp_path, "--jobs", "1", "--no-cache", ".")
    assert markers(tmp_path) == []
    assert proc.returncode == 1


# Modules that `import cachelint.cli` (click and the standard library) loads and that a plain
# interpreter has not imported at startup; Django projects do have apps with such names.
STARTUP_SHADOWED = ["platform", "token", "uuid", "locale"]


@pytest.mark.parametrize("name", STARTUP_SHADOWED)
def test_python_dash_m_does_not_import_apps_shadowing_modules_of_the_cli_import(tmp_path, name):
    """sys.path is made safe before ``cachelint.cli`` (click, platform, token...) is imported."""
    write_tree(tmp_path, project_files(tmp_path))
    shadowing_app(tmp_path, name)
    proc = run_module(tmp_path, "--jobs", "1", "--no-cache", ".")
    assert markers(tmp_path) == []
    assert proc.returncode == 1


CONSOLE_SCRIPT = Path(sys.executable).with_name("cachelint")


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="cachelint console script not installed")
def test_console_script_with_pythonpath_does_not_import_shadowing_apps(tmp_path):
    """PYTHONPATH pointing into the project (common in Django CI) is dropped just as early."""
    write_tree(tmp_path, project_files(tmp_path))
    shadowing_app(tmp_path, "platform")
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(tmp_path)}
    proc = subprocess.run(
        [str(CONSOLE_SCRIPT), "check", "--select", "ALL", "--format", "json", "--no-cache", "."],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env,
    )
    assert markers(tmp_path) == []
    assert proc.returncode == 1


# --- the entry points: the full matrix of modules a run imports ----------------------------------
#
# Every module a real run imports (found with PYTHONPROFILEIMPORTTIME, which also lists imports
# that fail, such as optional ``re2`` or ``_winapi``) is planted in the scanned tree as a shadow
# that appends a byte to ``<markers>/<name>`` each time it is executed, then puts the real module
# in its place so the run goes on. For both entry points (the ``cachelint`` command and ``python
# -m cachelint``), with the working directory in the tree and with PYTHONPATH=<tree>, a run may
# execute only what the interpreter itself imports before cachelint's first line, i.e. what a
# probe program that imports nothing executes (``-c pass`` for the command, a script run by path;
# ``-m this`` for ``python -m``): start-up (site, .pth files, sitecustomize) and runpy. Each of
# those runs once: the fresh interpreter cachelint re-executes into imports none of them again.

SHADOW = '''\
import posix as _posix
import sys as _sys

_fd = _posix.open({marker!r}, _posix.O_WRONLY | _posix.O_CREAT | _posix.O_APPEND, 0o644)
_posix.write(_fd, b"x")
_posix.close(_fd)


def _become_the_real_module(name, tree):
    saved = _sys.path[:]
    _sys.path[:] = [p for p in saved if p not in ("", ".", tree)]
    try:
        spec = None
        for finder in _sys.meta_path:
            spec = finder.find_spec(name, None) if hasattr(finder, "find_spec") else None
            if spec is not None:
                break
    finally:
        _sys.path[:] = saved
    if spec is not None:  # else nothing by that name exists (an optional module): stay empty
        module = _sys.modules["_frozen_importlib"].module_from_spec(spec)
        _sys.modules[name] = module
        spec.loader.exec_module(module)


_become_the_real_module(__name__, {tree!r})
'''

IMPORT_TIME = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", re.M)


def imported_names(stderr: str) -> set[str]:
    """Top-level names of the modules listed by ``-X importtime``."""
    return {name.split(".")[0] for name in IMPORT_TIME.findall(stderr)} - {"__main__"}


def plant_shadows(root: Path, markers_dir: Path, names: set[str]) -> None:
    markers_dir.mkdir(exist_ok=True)
    write_tree(root, {f"{name}.py": SHADOW.format(marker=str(markers_dir / name), tree=str(root)) for name in names})


def executed(markers_dir: Path) -> dict[str, int]:
    """Shadow name -> how many times it ran."""
    return {p.name: p.stat().st_size for p in markers_dir.iterdir()}


class Install:
    """An environment cachelint is installed in: its interpreter and its ``cachelint`` command."""

    def __init__(self, label: str, python: Path) -> None:
        self.label, self.python, self.command = label, python, python.with_name("cachelint")

    def argv(self, entry: str) -> list[str]:
        return [str(self.command)] if entry == "command" else [str(self.python), "-m", "cachelint"]

    def probe(self, entry: str) -> list[str]:
        """A program that imports nothing, started the way ``argv(entry)`` starts."""
        return [str(self.python), "-c", "pass"] if entry == "command" else [str(self.python), "-m", "this"]


def _source_copy(target: Path) -> Path:
    """What a wheel is built from (a copy: setuptools writes build/ and *.egg-info into it)."""
    root = Path(__file__).resolve().parent.parent
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(root / name, target / name)
    for name in ("cachelint", "scripts"):
        shutil.copytree(root / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture(scope="module")
def wheel_install(tmp_path_factory: pytest.TempPathFactory) -> Install:
    """cachelint installed from its wheel into a fresh virtualenv, as users and pre-commit do."""
    base = tmp_path_factory.mktemp("wheel-install")
    (base / "src").mkdir()
    source = _source_copy(base / "src")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    for command in (
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(base / "dist"), str(source)],
        [sys.executable, "-m", "venv", str(base / "venv")],
    ):
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    python = base / "venv" / "bin" / "python"
    (wheel,) = (base / "dist").glob("django_cachelint-*.whl")
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True, timeout=600, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return Install("wheel", python)


def dev_install() -> Install:
    """The environment running the tests (an editable install of this checkout)."""
    install = Install("editable", Path(sys.executable))
    launcher = (Path(__file__).resolve().parent.parent / "scripts" / "cachelint").read_text(encoding="utf-8")
    installed = install.command.read_text(encoding="utf-8") if install.command.exists() else ""
    if installed.partition("\n")[2] != launcher.partition("\n")[2]:
        pytest.skip("the cachelint command next to python is not this checkout's launcher: pip install -e .")
    return install


@pytest.fixture(params=["editable", "wheel"])
def install(request: pytest.FixtureRequest) -> Install:
    return dev_install() if request.param == "editable" else request.getfixturevalue("wheel_install")


def entry_env(root: Path, where: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") or k == "PYTHONDONTWRITEBYTECODE"}
    env.update(
        NO_COLOR="1",
        XDG_CACHE_HOME=str(root.parent / f"{root.name}-user-cache"),
        CACHELINT_PARALLEL_MIN_BYTES="0",  # --jobs 2 really starts worker processes
        **extra,
    )
    if where == "pythonpath":
        env["PYTHONPATH"] = str(root)
    return env


def run_entry(install: Install, entry: str, root: Path, where: str, *args: str, **extra: str):
    # With PYTHONPATH=<tree> the run starts elsewhere, so that only PYTHONPATH points at the tree.
    cwd = root if where == "cwd" else root.parent
    target = "." if where == "cwd" else str(root)
    return subprocess.run(
        [*install.argv(entry), "check", "--select", "ALL", "--jobs", "2", *args, target],
        cwd=cwd, capture_output=True, text=True, timeout=300, env=entry_env(root, where, **extra),
    )


TEXT_FINDING = re.compile(r"^(\S+):\d+:\d+: (CL\d+) ", re.M)


@pytest.mark.slow
def test_entry_points_never_import_the_tree_for_any_module_a_run_imports(install: Install, tmp_path: Path):
    clean = tmp_path / "clean"
    clean.mkdir()
    write_tree(clean, project_files(clean))
    names: set[str] = set()
    for entry in ("command", "module"):
        for fmt in ("text", "json"):
            proc = run_entry(install, entry, clean, "pythonpath", "--format", fmt, PYTHONPROFILEIMPORTTIME="1")
            assert proc.returncode == 1, proc.stderr[-3000:]
            names |= imported_names(proc.stderr)
    assert {"re", "enum", "functools", "click", "rich", "libcst", "django", "cachelint"} <= names
    for entry in ("command", "module"):
        for where in ("cwd", "pythonpath"):
            root, markers_dir = tmp_path / f"{entry}-{where}", tmp_path / f"{entry}-{where}-markers"
            root.mkdir()
            write_tree(root, project_files(root))
            # A cachelint module in the tree replaces the package for ``python -m cachelint``
            # (the documented exception, tested below), so it is planted for the command only.
            plant_shadows(root, markers_dir, names if entry == "command" else names - {"cachelint"})
            probe = subprocess.run(
                install.probe(entry), cwd=root if where == "cwd" else root.parent,
                capture_output=True, timeout=60, env=entry_env(root, where),
            )
            assert probe.returncode == 0, probe.stderr
            before_cachelint = executed(markers_dir)
            for marker in markers_dir.iterdir():
                marker.unlink()
            proc = run_entry(install, entry, root, where)
            assert proc.returncode == 1, proc.stderr[-3000:]
            assert "Traceback" not in proc.stderr
            prefix = "" if where == "cwd" else f"{root.name}/"
            found_text = {(path.removeprefix(prefix), code) for path, code in TEXT_FINDING.findall(proc.stdout)}
            assert REQUIRED <= found_text, proc.stdout[-3000:]
            assert markers(root) == []
            ran = executed(markers_dir)
            assert ran == before_cachelint, (install.label, entry, where)
            assert set(ran.values()) <= {1}  # the fresh interpreter imported none of them again
            if entry == "command" and where == "cwd":
                assert ran == {}
            if install.label == "wheel" and entry == "command":
                # The issue's reproduction: pip's entry-point wrapper ran these from PYTHONPATH.
                issue = {"re", "enum", "types", "functools", "operator", "keyword", "reprlib", "copyreg", "collections"}
                assert not ran.keys() & (issue | {"cachelint"})


def test_python_m_runs_a_cachelint_package_in_the_working_directory_as_documented(tmp_path):
    """``python -m`` imports the package it runs from the working directory first: nothing in
    cachelint can prevent a tree's ``cachelint/`` from running (the README says so and recommends
    the ``cachelint`` command or ``python -I -m cachelint``, which do not run it)."""
    write_tree(tmp_path, project_files(tmp_path))
    write_tree(tmp_path, {"cachelint/__init__.py": POISON.format(fallback=str(tmp_path / "cachelint"))})
    env = entry_env(tmp_path, "cwd")
    proc = subprocess.run(
        [sys.executable, "-m", "cachelint", "check", "."], cwd=tmp_path, capture_output=True, timeout=120, env=env
    )
    assert (proc.returncode, markers(tmp_path)) == (3, ["cachelint/__init__.py.executed"])
    (tmp_path / "cachelint" / "__init__.py.executed").unlink()
    for argv in ([sys.executable, "-I", "-m", "cachelint"], [str(Path(sys.executable).with_name("cachelint"))]):
        if not Path(argv[0]).exists():
            continue
        proc = subprocess.run([*argv, "check", "."], cwd=tmp_path, capture_output=True, timeout=120, env=env)
        assert (proc.returncode, markers(tmp_path)) == (1, []), proc.stderr


def test_python_m_reexecutes_in_the_same_process_without_cwd_and_pythonpath(tmp_path):
    """The first interpreter had the tree on sys.path twice (``-c``: the working directory;
    PYTHONPATH): cachelint replaces it (same pid, stdout, exit status, arguments, interpreter
    options) with one that has neither, so the tree's sitecustomize, run at start-up by the
    first one, is not run again."""
    write_tree(tmp_path, project_files(tmp_path))
    views = (tmp_path / "shop" / "views.py").read_text(encoding="utf-8")
    write_tree(tmp_path, {"shop/old views é.py": views})  # file arguments as pre-commit passes them
    plant_shadows(tmp_path, tmp_path.parent / f"{tmp_path.name}-markers", {"sitecustomize"})
    code = "import os; print(os.getpid(), flush=True); from cachelint.__main__ import run; run()"
    args = ["check", "--format", "json", "--select", "ALL", "--no-cache", "shop/old views é.py", "shop/views.py"]
    process = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-c", code, *args], cwd=tmp_path, env=entry_env(tmp_path, "pythonpath"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
    )
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr[-3000:]
    pid, _, report = stdout.partition("\n")
    assert int(pid) == process.pid
    assert {(path, code) for path, code in found(json.loads(report)["findings"]) if code == "CL101"} == {
        ("shop/old views é.py", "CL101"), ("shop/views.py", "CL101"),
        ("myproj/urls.py", "CL101"),  # a cached URLconf entry whose evidence is in shop/views.py
    }
    # Two interpreters started (each imports encodings), the second with -X importtime too.
    assert IMPORT_TIME.findall(stderr).count("encodings") == 2
    assert "click" in imported_names(stderr)
    assert executed(tmp_path.parent / f"{tmp_path.name}-markers") == {"sitecustomize": 1}


def test_reexec_command_keeps_options_and_environment_but_pythonpath(monkeypatch, tmp_path):
    import cachelint.__main__ as entry

    calls = []

    def fake_execve(path, argv, env):
        calls.append((path, argv, env))
        raise OSError(7, "Argument list too long")

    monkeypatch.setattr(os, "execve", fake_execve)
    monkeypatch.setattr(sys, "gettrace", lambda: None)  # coverage may be tracing the tests
    monkeypatch.setattr(sys, "getprofile", lambda: None)
    monkeypatch.setattr(sys, "argv", ["/bin/cachelint", "check", "a b.py"])
    monkeypatch.setattr(sys, "warnoptions", ["error::DeprecationWarning"])
    monkeypatch.setattr(sys, "_xoptions", {"importtime": True, "int_max_str_digits": "5000"})
    for name, value in {"NO_COLOR": "1", "XDG_CACHE_HOME": "/c", "CACHELINT_DEBUG": "1", "PYTHONUTF8": "1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    entry._reexec_isolated()  # execve failed: returns, the run goes on in-process
    ((path, argv, env),) = calls
    assert path == argv[0] == sys.executable
    dash_c = argv.index("-c")
    options = argv[1:dash_c]
    assert options[-3:] == ["-Werror::DeprecationWarning", "-Ximporttime", "-Xint_max_str_digits=5000"]
    assert ("-B" in options) == bool(sys.flags.dont_write_bytecode)
    assert argv[dash_c + 1 :] == [entry.BOOTSTRAP, "", "/bin/cachelint", "check", "a b.py"]
    assert "PYTHONPATH" not in env
    assert {k: env[k] for k in ("NO_COLOR", "XDG_CACHE_HOME", "CACHELINT_DEBUG", "PYTHONUTF8")} == {
        "NO_COLOR": "1", "XDG_CACHE_HOME": "/c", "CACHELINT_DEBUG": "1", "PYTHONUTF8": "1"
    }

    calls.clear()
    monkeypatch.setattr(sys, "gettrace", lambda: fake_execve)  # a debugger or coverage: stay
    entry._reexec_isolated()
    monkeypatch.setattr(sys, "gettrace", lambda: None)
    monkeypatch.setattr(os, "name", "nt")  # no exec that keeps the process
    entry._reexec_isolated()
    monkeypatch.setattr(os, "name", "posix")
    monkeypatch.delenv("PYTHONPATH")
    monkeypatch.setattr(sys, "path", [p for p in sys.path if os.path.abspath(p) not in entry._unsafe_dirs()])
    entry._reexec_isolated()  # nothing unsafe on sys.path: nothing to do
    assert calls == []


@pytest.mark.parametrize("entry", ["module", "command"])
def test_entry_points_fall_back_to_in_process_isolation_when_exec_fails(tmp_path, entry):
    """execve failing (no interpreter path, an argument list too long): the run goes on in the
    first process, whose sys.path is cleaned before anything is imported."""
    tree, elsewhere = tmp_path / "tree", tmp_path / "elsewhere"
    elsewhere.mkdir()
    tree.mkdir()
    write_tree(tree, project_files(tree))
    shadowing_app(tree, "platform")  # imported by cachelint.cli
    if entry == "command":  # (``python -m`` itself would import it: see the test above)
        shadowing_app(tree, "cachelint")
    fail = "import os\ndef execve(*args):\n    raise OSError(7, 'Argument list too long')\nos.execve = execve\n"
    if entry == "module":
        code = fail + "from cachelint.__main__ import run\nrun()\n"
    else:
        launcher = Path(__file__).resolve().parent.parent / "scripts" / "cachelint"
        code = fail + f"__file__ = {str(launcher)!r}\nexec(compile(open(__file__).read(), __file__, 'exec'))\n"
    proc = subprocess.run(
        [sys.executable, "-c", code, "check", "--no-cache", str(tree)],
        cwd=elsewhere, capture_output=True, text=True, timeout=120, env=entry_env(tree, "pythonpath"),
    )
    assert markers(tree) == []
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "shop/views.py" in proc.stdout


def test_python_m_under_a_profiler_stays_in_process(tmp_path):
    """``python -m cProfile -m cachelint`` (bench/README.md) profiles the run itself: a re-exec
    would replace the profiler and its report would never be written."""
    write_tree(tmp_path, project_files(tmp_path))
    profile = tmp_path.parent / f"{tmp_path.name}.prof"
    proc = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "cachelint", "check", "--no-cache", "."],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=entry_env(tmp_path, "pythonpath"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]  # cProfile swallows the SystemExit
    assert "shop/views.py" in proc.stdout
    assert markers(tmp_path) == []
    assert profile.stat().st_size > 0


def test_the_script_does_nothing_when_a_worker_imports_it(monkeypatch):
    # Workers started with "spawn" or "forkserver" import the main module as __mp_main__: the
    # script must not run cachelint (or re-exec the worker) there.
    import runpy

    script = Path(__file__).parent.parent / "scripts" / "cachelint"
    monkeypatch.setenv("PYTHONPATH", "somewhere")
    monkeypatch.setattr(sys, "argv", ["cachelint", "--version"])
    namespace = runpy.run_path(str(script), run_name="__mp_main__")
    assert "run" not in namespace
