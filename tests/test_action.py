"""The composite GitHub Action (action.yml): its structure, and its scripts run offline.

The scripts are taken out of action.yml and run with bash the way the runner runs a
``shell: bash`` step (``bash --noprofile --norc -eo pipefail``), with the environment the
step's ``env:`` mapping would give them (``${{ }}`` expressions resolved from a fake context).
The virtualenv is really created; pip and the SARIF upload are not run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import write_tree

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
BASH = shutil.which("bash")
needs_bash = pytest.mark.skipif(BASH is None, reason="bash is not available")

LEAK_TREE = {
    "manage.py": "import sys\n\nif __name__ == '__main__':\n    pass\n",
    "app/__init__.py": "",
    "app/views.py": (
        "from django.contrib.auth.decorators import login_required\n"
        "from django.views.decorators.cache import cache_page\n"
        "\n"
        "\n"
        "@login_required\n"
        "@cache_page(60)\n"
        "def dashboard(request):\n"
        "    return None\n"
    ),
}
EXPRESSION = re.compile(r"^\$\{\{\s*(?P<expr>[^}]*?)\s*\}\}$")


@pytest.fixture(scope="module")
def action() -> dict:
    return yaml.safe_load(ACTION.read_text(encoding="utf-8"))


def step(action: dict, step_id: str) -> dict:
    [found] = [s for s in action["runs"]["steps"] if s.get("id") == step_id]
    return found


def defaults(action: dict) -> dict[str, str]:
    return {name: spec.get("default", "") for name, spec in action["inputs"].items()}


# -- structure ----------------------------------------------------------------------


def test_is_a_composite_action_with_the_documented_inputs_and_outputs(action: dict) -> None:
    assert action["name"] == "cachelint"
    assert action["runs"]["using"] == "composite"
    assert defaults(action) == {
        "paths": ".",
        "args": "",
        "sarif-file": "cachelint.sarif",
        "upload-sarif": "true",
        "category": "cachelint",
        "fail-on-findings": "true",
        "version": "",
        "annotate": "auto",
        "cache": "true",
    }
    assert all(spec.get("description") for spec in action["inputs"].values())
    assert {name: spec["value"] for name, spec in action["outputs"].items()} == {
        "exit-code": "${{ steps.check.outputs.exit-code }}",
        "sarif-file": "${{ steps.check.outputs.sarif-file }}",
        "uploaded": "${{ steps.decide.outputs.upload }}",
    }


def test_every_input_is_documented_in_the_ci_docs(action: dict) -> None:
    docs = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    for name in action["inputs"]:
        assert f"| `{name}` | " in docs, name
    assert "`uploaded`" in docs


def test_run_steps_use_bash_and_take_inputs_from_env_only(action: dict) -> None:
    run_steps = [s for s in action["runs"]["steps"] if "run" in s]
    assert len(run_steps) == 6
    for s in run_steps:
        assert s["shell"] == "bash"  # composite run steps must name their shell
        # No expression inside a script at all: inputs come in through env (script injection).
        assert "${{" not in s["run"], s["name"]
        assert "inputs." not in s["run"], s["name"]


def test_upload_step(action: dict) -> None:
    [upload] = [s for s in action["runs"]["steps"] if s.get("uses", "").startswith("github/")]
    assert upload["uses"] == "github/codeql-action/upload-sarif@v4"
    assert upload["if"] == "always() && steps.decide.outputs.upload == 'true'"
    assert upload["with"] == {
        "sarif_file": "${{ steps.check.outputs.sarif-file }}",
        "category": "${{ inputs.category }}",
    }
    steps = action["runs"]["steps"]
    # venv, pip cache, install, check, decide, upload, annotate, then the step that fails the
    # job: findings are uploaded and annotated first.
    assert [s.get("id") or s.get("uses", "").split("@")[0] or s["name"] for s in steps] == [
        "venv",
        "actions/cache",
        "install",
        "check",
        "decide",
        "github/codeql-action/upload-sarif",
        "Annotate the findings",
        "Check the result",
    ]
    assert [s.get("id") for s in steps] == ["venv", None, "install", "check", "decide", None, None, None]
    assert steps[5] is upload
    assert all(s["if"].startswith("always()") for s in steps[4:])


def test_pip_cache_step(action: dict) -> None:
    cache = action["runs"]["steps"][1]
    assert cache["uses"] == "actions/cache@v4"
    assert cache["if"] == "inputs.cache == 'true'"
    assert cache["with"]["path"] == "${{ runner.temp }}/cachelint-pip-cache"
    assert cache["with"]["key"].startswith("cachelint-pip-${{ runner.os }}-py${{ steps.venv.outputs.python-version }}-")
    assert step(action, "install")["env"]["PIP_CACHE_DIR"] == cache["with"]["path"]


def test_cachelint_runs_from_its_own_virtualenv(action: dict) -> None:
    assert "python -m venv" in step(action, "venv")["run"]
    for step_id in ("install", "check"):
        assert step(action, step_id)["env"]["CACHELINT_PYTHON"] == "${{ steps.venv.outputs.python }}"
    assert '"$CACHELINT_PYTHON" -I -m cachelint check' in step(action, "check")["run"]


# -- running the scripts ------------------------------------------------------------


def run_step(
    action: dict,
    step_id_or_index: str | int,
    cwd: Path,
    tmp_path: Path,
    *,
    inputs: dict[str, str] | None = None,
    outputs: dict[str, str] | None = None,
    path_prefix: list[Path] = (),
    context: dict[str, str] | None = None,
    python: str = sys.executable,
) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """Run one step's script; return the process and what it wrote to $GITHUB_OUTPUT.

    ``outputs`` are the earlier steps' (``steps.check.outputs.exit-code`` is ``outputs["exit-code"]``),
    ``context`` the ``github.*`` values; cachelint's virtualenv python is ``python``."""
    if isinstance(step_id_or_index, int):
        the_step = action["runs"]["steps"][step_id_or_index]
    else:
        the_step = step(action, step_id_or_index)
    github = {"event_name": "push", "repository": "acme/shop", "actor": "alice", **(context or {})}
    values = {**defaults(action), **(inputs or {})}
    github_output = tmp_path / "github_output"
    github_output.write_text("")
    env = {
        "PATH": os.pathsep.join(
            [*map(str, path_prefix), str(Path(sys.executable).parent), os.environ["PATH"]]
        ),
        "HOME": str(tmp_path),
        "NO_COLOR": "1",
        "GITHUB_OUTPUT": str(github_output),
    }
    for name, value in the_step.get("env", {}).items():
        if "${{" not in value:
            env[name] = value
            continue
        if value.startswith("${{ runner.temp }}/"):
            env[name] = str(tmp_path / "runner-temp") + value.removeprefix("${{ runner.temp }}")
            continue
        match = EXPRESSION.match(value)
        assert match, f"{name}: {value!r} is not a single expression"
        expr = match["expr"]
        if expr.startswith("inputs."):
            env[name] = values[expr.removeprefix("inputs.")]
        elif expr == "github.action_path":
            env[name] = str(ROOT)
        elif expr == "steps.venv.outputs.python":
            env[name] = python
        elif expr.startswith(("steps.check.outputs.", "steps.decide.outputs.")):
            env[name] = (outputs or {}).get(expr.split(".", 3)[3], "")
        elif expr.startswith("github."):
            env[name] = github.get(expr.removeprefix("github.").replace("event.pull_request.head.repo.full_name", "head"), "")
        elif expr.startswith("runner.temp"):
            env[name] = str(tmp_path / "runner-temp") + expr.removeprefix("runner.temp")
        elif not EXPRESSION.match(value) or "}}" not in value:
            raise AssertionError(f"unexpected expression {expr!r}")
        else:
            raise AssertionError(f"unexpected expression {expr!r}")
    script = tmp_path / "step.sh"
    script.write_text(the_step["run"], encoding="utf-8")
    process = subprocess.run(
        [BASH, "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    written = dict(line.split("=", 1) for line in github_output.read_text().splitlines() if line)
    return process, written


@pytest.fixture
def leaky_project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    write_tree(root, LEAK_TREE)
    return root


@needs_bash
def test_check_step_writes_sarif_and_exit_code(action: dict, leaky_project: Path, tmp_path: Path) -> None:
    process, outputs = run_step(action, "check", leaky_project, tmp_path)
    assert process.returncode == 0, process.stderr  # the step itself never fails
    assert outputs == {"exit-code": "1", "sarif-file": "cachelint.sarif", "sarif-written": "true"}
    log = json.loads((leaky_project / "cachelint.sarif").read_text(encoding="utf-8"))
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    [result] = run["results"]
    assert result["ruleId"] == "CL101"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "app/views.py"
    assert location["region"]["startLine"] == 6


@needs_bash
def test_check_step_splits_args_and_paths(action: dict, leaky_project: Path, tmp_path: Path) -> None:
    (leaky_project / "other").mkdir()
    inputs = {
        "args": "--no-cache  --select CL101 --exit-zero",
        "paths": "app/views.py other",
        "sarif-file": "out dir/report.sarif",  # a space is kept: the file name is quoted
    }
    (leaky_project / "out dir").mkdir()
    process, outputs = run_step(action, "check", leaky_project, tmp_path, inputs=inputs)
    assert process.returncode == 0, process.stderr
    assert outputs["exit-code"] == "0"  # --exit-zero came through
    assert outputs["sarif-file"] == "out dir/report.sarif"
    log = json.loads((leaky_project / "out dir" / "report.sarif").read_text(encoding="utf-8"))
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["CL101"]
    assert not (leaky_project / ".cachelint_cache").exists()  # --no-cache came through


@needs_bash
def test_check_step_does_not_expand_globs_or_run_input_text(
    action: dict, leaky_project: Path, tmp_path: Path
) -> None:
    inputs = {"paths": "app/*.py", "args": "$(touch pwned) `touch pwned2`"}
    process, outputs = run_step(action, "check", leaky_project, tmp_path, inputs=inputs)
    assert process.returncode == 0, process.stderr
    # The words reach cachelint literally, as paths that do not exist: nothing ran, no glob.
    assert outputs["exit-code"] == "2"
    assert "cachelint: error: app/*.py: no such file or directory" in process.stderr
    assert "cachelint: error: $(touch: no such file or directory" in process.stderr
    assert not (leaky_project / "pwned").exists()
    assert not (leaky_project / "pwned2").exists()


@needs_bash
def test_check_step_removes_a_stale_report(action: dict, leaky_project: Path, tmp_path: Path) -> None:
    (leaky_project / "cachelint.sarif").write_text("stale")
    _, outputs = run_step(action, "check", leaky_project, tmp_path, inputs={"args": "--select CL999"})
    assert outputs["exit-code"] == "2"
    assert outputs["sarif-written"] == "false"
    assert not (leaky_project / "cachelint.sarif").exists()


@needs_bash
@pytest.mark.parametrize(
    ("exit_code", "fail_on_findings", "expected"),
    [("0", "true", 0), ("1", "true", 1), ("1", "false", 0), ("2", "true", 2), ("2", "false", 2)],
)
def test_result_step(
    action: dict, tmp_path: Path, exit_code: str, fail_on_findings: str, expected: int
) -> None:
    process, _ = run_step(
        action,
        -1,
        tmp_path,
        tmp_path,
        inputs={"fail-on-findings": fail_on_findings},
        outputs={"exit-code": exit_code},
    )
    assert process.returncode == expected
    assert ("::error::" in process.stdout) == (expected != 0)


@needs_bash
@pytest.mark.parametrize(
    ("version", "requirement"),
    [("", str(ROOT)), ("0.2.0", "django-cachelint==0.2.0"), (">=0.2,<0.3", "django-cachelint>=0.2,<0.3")],
)
def test_install_step(action: dict, tmp_path: Path, version: str, requirement: str) -> None:
    # A fake virtualenv python records its arguments and pip's cache dir instead of installing.
    record = tmp_path / "argv"
    fake = tmp_path / "fake-python"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$PIP_CACHE_DIR" "$@" > "{record}"\n')
    fake.chmod(0o755)
    process, _ = run_step(action, "install", tmp_path, tmp_path, inputs={"version": version}, python=str(fake))
    assert process.returncode == 0, process.stderr
    cache_dir, *argv = record.read_text().splitlines()
    assert cache_dir == str(tmp_path / "runner-temp" / "cachelint-pip-cache")
    assert argv[:3] == ["-m", "pip", "install"]
    assert argv[-1] == requirement


@pytest.mark.slow
@needs_bash
def test_venv_step_creates_a_virtualenv_and_reports_its_python(action: dict, tmp_path: Path) -> None:
    (tmp_path / "runner-temp").mkdir()
    process, outputs = run_step(action, "venv", tmp_path, tmp_path)
    assert process.returncode == 0, process.stderr
    python = Path(outputs["python"])
    assert python.parent.parent == tmp_path / "runner-temp" / "cachelint-venv"
    version = subprocess.run([str(python), "-c", "import sys; print(sys.prefix != sys.base_prefix)"], capture_output=True, text=True)
    assert version.stdout.strip() == "True"  # a virtualenv of its own
    assert outputs["python-version"] == f"{sys.version_info[0]}.{sys.version_info[1]}"


@needs_bash
@pytest.mark.parametrize(
    ("context", "inputs", "written", "upload", "notice"),
    [
        ({"event_name": "push"}, {}, "true", "true", ""),
        ({"event_name": "pull_request", "head": "acme/shop"}, {}, "true", "true", ""),
        ({"event_name": "pull_request", "head": "mallory/shop"}, {}, "true", "false", "pull requests from forks"),
        ({"event_name": "pull_request_target", "head": "mallory/shop"}, {}, "true", "true", ""),
        ({"event_name": "pull_request", "head": "acme/shop", "actor": "dependabot[bot]"}, {}, "true", "false", "Dependabot"),
        ({"event_name": "push"}, {"upload-sarif": "false"}, "true", "false", ""),
        ({"event_name": "push"}, {}, "false", "false", ""),
    ],
)
def test_decide_step_skips_the_upload_on_forks_with_a_notice(
    action: dict, tmp_path: Path, context: dict, inputs: dict, written: str, upload: str, notice: str
) -> None:
    process, outputs = run_step(
        action, "decide", tmp_path, tmp_path, inputs=inputs, context=context, outputs={"sarif-written": written}
    )
    assert process.returncode == 0, process.stderr  # never fails the job
    assert outputs == {"upload": upload}
    if notice:
        assert "::notice title=cachelint::SARIF upload skipped: " in process.stdout
        assert notice in process.stdout
    else:
        assert "::notice" not in process.stdout


ANNOTATE = -2  # the step before the last


@needs_bash
@pytest.mark.parametrize(
    ("annotate", "uploaded", "annotated"),
    [("auto", "false", True), ("auto", "true", False), ("true", "true", True), ("false", "false", False)],
)
def test_annotate_step(
    action: dict, leaky_project: Path, tmp_path: Path, annotate: str, uploaded: str, annotated: bool
) -> None:
    assert action["runs"]["steps"][ANNOTATE]["name"] == "Annotate the findings"
    process, _ = run_step(
        action,
        ANNOTATE,
        leaky_project,
        tmp_path,
        inputs={"annotate": annotate, "args": "--no-cache"},
        outputs={"upload": uploaded, "exit-code": "1"},
    )
    assert process.returncode == 0, process.stderr  # the result step decides
    has = "::error file=app/views.py,line=6,col=2," in process.stdout
    assert has is annotated, process.stdout
