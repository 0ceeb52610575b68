"""The pre-commit hook, run for real with ``pre-commit try-repo`` (slow: pre-commit builds the
hook's virtualenv and pip-installs cachelint and its dependencies into it).

``try-repo`` clones the repository it is given by git. From a checkout with uncommitted work it
makes a shadow commit, but that commit holds only staged files and modified *tracked* files:
untracked files (a new ``.pre-commit-hooks.yaml``, a new rule module) are left out. So the test
does not point ``try-repo`` at the checkout itself: it commits a snapshot of the working tree
(tracked and untracked files, minus what .gitignore excludes) to a throw-away repository and
tries that. This tests exactly the code on disk, both in a developer's dirty checkout and in
CI's fresh clone, and never touches the checkout's own git index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 600  # seconds per command; the first pre-commit run pip-installs the hook's venv

VIEWS = """\
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import cache_page

@login_required
@cache_page(60)
def dashboard(request):
    return render(request, "dash.html")
"""

if shutil.which("git") is None:
    pytest.skip("git is not installed", allow_module_level=True)


def _pre_commit() -> list[str]:
    executable = Path(sys.executable).parent / ("pre-commit.exe" if os.name == "nt" else "pre-commit")
    if executable.exists():
        return [str(executable)]
    return [sys.executable, "-m", "pre_commit"]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment for git and pre-commit: no inherited GIT_* variables (the test may itself
    run inside a git hook), no user or system git config (hooks, signing), a private
    PRE_COMMIT_HOME, no colors."""
    home = tmp_path_factory.mktemp("env")
    gitconfig = home / "gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = cachelint tests\n\temail = tests@cachelint.invalid\n"
        "[commit]\n\tgpgsign = false\n[init]\n\tdefaultBranch = main\n",
        encoding="utf-8",
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    environ.update(
        GIT_CONFIG_GLOBAL=str(gitconfig),
        GIT_CONFIG_NOSYSTEM="1",
        PRE_COMMIT_HOME=str(home / "pre-commit"),
        PRE_COMMIT_COLOR="never",
        NO_COLOR="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return environ


def _git(cwd: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert done.returncode == 0, f"git {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _init_repo(path: Path, env: dict[str, str]) -> None:
    _git(path, env, "init", "-q")
    # Set locally too, so the repo does not depend on the isolated global config above.
    _git(path, env, "config", "user.name", "cachelint tests")
    _git(path, env, "config", "user.email", "tests@cachelint.invalid")
    _git(path, env, "config", "commit.gpgsign", "false")


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Path:
    """A one-commit git repository holding the working tree of this checkout."""
    if not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot tell which files belong to the project")
    listed = _git(REPO_ROOT, env, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    snapshot = tmp_path_factory.mktemp("cachelint-repo")
    for name in sorted(set(filter(None, listed.split("\0")))):
        source = REPO_ROOT / name
        if not source.is_file():  # deleted but still tracked, or a submodule
            continue
        target = snapshot / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    assert (snapshot / ".pre-commit-hooks.yaml").is_file()
    _init_repo(snapshot, env)
    _git(snapshot, env, "add", "-A")
    _git(snapshot, env, "commit", "-q", "--no-verify", "-m", "snapshot of the working tree")
    return snapshot


@pytest.fixture
def project(tmp_path: Path, env: dict[str, str]) -> Path:
    """A small Django-like project in its own git repository, its files staged."""
    root = tmp_path / "project"
    (root / "app").mkdir(parents=True)
    (root / "manage.py").write_text("# stub: marks the project root\n", encoding="utf-8")
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    (root / "app" / "views.py").write_text(VIEWS, encoding="utf-8")
    _init_repo(root, env)
    _git(root, env, "add", "-A")
    return root


def try_repo(project: Path, hook_repo: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    command = [*_pre_commit(), "try-repo", str(hook_repo), "cachelint", "--color=never", *args]
    done = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    return done.returncode, done.stdout + done.stderr


def test_all_files_fails_on_cached_login_view_then_passes_once_fixed(
    project: Path, hook_repo: Path, env: dict[str, str]
) -> None:
    code, output = try_repo(project, hook_repo, env, "--all-files")
    assert code != 0, output
    assert "cachelint" in output and "Failed" in output, output
    assert "CL101" in output, output
    assert "app/views.py" in output, output

    views = project / "app" / "views.py"
    views.write_text(VIEWS.replace("@cache_page(60)\n", ""), encoding="utf-8")
    _git(project, env, "add", "app/views.py")

    code, output = try_repo(project, hook_repo, env, "--all-files")
    assert code == 0, output
    assert "Passed" in output, output
    assert "CL101" not in output, output
    # The hook leaves nothing behind for `git status` to show (its result cache ignores itself).
    status = _git(project, env, "status", "--porcelain", "--untracked-files=all")
    untracked = [line for line in status.splitlines() if line.startswith("??")]
    assert untracked == [], untracked


def test_files_option_checks_the_staged_file(project: Path, hook_repo: Path, env: dict[str, str]) -> None:
    code, output = try_repo(project, hook_repo, env, "--files", "app/views.py")
    assert code != 0, output
    assert "Failed" in output, output
    assert "CL101" in output, output
    assert "app/views.py" in output, output

    # Only the files passed are reported on: app/views.py still has its CL101, but is not passed.
    code, output = try_repo(project, hook_repo, env, "--files", "app/__init__.py", "manage.py")
    assert code == 0, output
    assert "Passed" in output, output
    assert "CL101" not in output, output
