"""Output is a pure function of the tree: byte-identical JSON and SARIF across runs, hash seeds,
worker counts, and cold/warm/absent result caches.

The tree is the leaky fixture project plus generated apps, so that it holds more files than
worker processes get real work (``CACHELINT_PARALLEL_MIN_BYTES=0`` forces them) and ``--jobs 2``
really parses in a process pool. Every run is a
subprocess with the project root as working directory (SARIF embeds the working directory's
URI, so it stays the same within each comparison), each with its own ``PYTHONHASHSEED`` so that
an output depending on set or dict-of-set order shows up.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import write_tree

FIXTURE = Path(__file__).parent / "fixtures" / "leaky_project"
FORMATS = ["json", "sarif"]
GENERATED_APPS = 3
MODULES_PER_APP = 8


def generated_files() -> dict[str, str]:
    """Apps whose views and templates produce several findings per file, several codes on one
    line, and evidence that spans files (views -> templates -> includes)."""
    files: dict[str, str] = {}
    for app in range(GENERATED_APPS):
        name = f"gen{app}"
        files[f"{name}/__init__.py"] = ""
        for number in range(MODULES_PER_APP):
            page, partial = f"{name}/page_{number}.html", f"{name}/_part_{(number + 1) % MODULES_PER_APP}.html"
            files[f"{name}/views_{number}.py"] = f'''\
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.shortcuts import render
from django.views.decorators.cache import cache_page
from django.views.decorators.vary import vary_on_cookie


@login_required
@cache_page(60 * {number + 1})
def private_{number}(request):
    cache.set("orders", request.user.pk, timeout=None)
    return render(request, "{page}", {{"name": request.user.username}})


@vary_on_cookie
@cache_page(60)
def public_{number}(request):
    request.session.accessed = False
    return render(request, "{partial}")
'''
            files[f"{name}/templates/{page}"] = f'''\
{{% extends "base.html" %}}
{{% load cache %}}
{{% block content %}}
{{% cache 300 sidebar_{number} %}}
  <p>{{{{ user.username }}}} {{{{ request.user.email }}}}</p>
  <form method="post">{{% csrf_token %}}</form>
  {{% include "{partial}" %}}
{{% endcache %}}
{{% endblock %}}
'''
            files[f"{name}/templates/{partial}"] = (
                "{% load cache %}{% cache 60 part " + "user.pk %}{{ user.first_name }}{% csrf_token %}{% endcache %}\n"
            )
    return files


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("determinism") / "project"
    shutil.copytree(FIXTURE, root)
    write_tree(root, generated_files())
    python_and_templates = [p for p in root.rglob("*") if p.suffix in (".py", ".html", ".txt", ".xml")]
    assert len(python_and_templates) > 100
    return root


def scan(root: Path, fmt: str, *options: str, seed: int = 0) -> bytes:
    env = {
        **os.environ,
        "PYTHONHASHSEED": str(seed),
        "NO_COLOR": "1",
        "XDG_CACHE_HOME": str(root.parent / "user-cache"),  # the key that signs result caches
        "CACHELINT_PARALLEL_MIN_BYTES": "0",  # --jobs 2 really parses in worker processes
    }
    env.pop("FORCE_COLOR", None)
    proc = subprocess.run(
        [sys.executable, "-m", "cachelint", "check", "--select", "ALL", "--format", fmt, *options, "."],
        cwd=root, capture_output=True, timeout=300, env=env,
    )
    assert proc.returncode == 1, proc.stderr.decode(errors="replace")[-2000:]
    assert proc.stderr == b""
    return proc.stdout


def assert_meaningful(output: bytes, fmt: str) -> None:
    """The report is not trivially empty: the fixture and the generated apps were checked."""
    data = json.loads(output)
    if fmt == "json":
        paths = [f["location"]["path"] for f in data["findings"]]
    else:
        results = data["runs"][0]["results"]
        paths = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results]
    assert len(paths) > 150
    assert any(p.startswith("gen2/") for p in paths) and any(p.startswith("shop/") for p in paths)


@pytest.mark.parametrize("fmt", FORMATS)
def test_two_runs_are_identical(tree: Path, fmt: str):
    first = scan(tree, fmt, "--no-cache", "--jobs", "2", seed=1)
    second = scan(tree, fmt, "--no-cache", "--jobs", "2", seed=2)
    assert_meaningful(first, fmt)
    assert first == second


@pytest.mark.parametrize("fmt", FORMATS)
def test_jobs_1_and_jobs_2_are_identical(tree: Path, fmt: str):
    serial = scan(tree, fmt, "--no-cache", "--jobs", "1", seed=3)
    parallel = scan(tree, fmt, "--no-cache", "--jobs", "2", seed=4)
    assert_meaningful(serial, fmt)
    assert serial == parallel


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
def test_result_cache_does_not_change_the_output(tree: Path, fmt: str):
    shutil.rmtree(tree / ".cachelint_cache", ignore_errors=True)
    uncached = scan(tree, fmt, "--no-cache", "--jobs", "2", seed=5)
    assert not (tree / ".cachelint_cache").exists()
    cold = scan(tree, fmt, "--jobs", "2", seed=6)
    assert list((tree / ".cachelint_cache").glob("facts-*.pickle"))
    warm = scan(tree, fmt, "--jobs", "2", seed=7)
    warm_serial = scan(tree, fmt, "--jobs", "1", seed=8)
    assert_meaningful(uncached, fmt)
    assert cold == uncached
    assert warm == uncached
    assert warm_serial == uncached


@pytest.mark.slow
def test_warm_cache_after_edits_matches_a_fresh_scan(tmp_path: Path):
    """What pre-commit does all day: edit, re-check with the cache. Edits, additions,
    deletions, a file that starts to matter, and a config change must all be picked up."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    write_tree(root, generated_files())
    scan(root, "json", "--jobs", "2", seed=9)  # warm the cache
    views = root / "gen0" / "views_0.py"
    views.write_text(views.read_text().replace("@login_required\n", ""))  # one leak fixed
    (root / "gen1" / "views_1.py").unlink()
    page = root / "gen2" / "templates" / "gen2" / "page_3.html"
    page.write_text(page.read_text().replace("{% endcache %}", "{{ perms.shop }}{% endcache %}"))
    write_tree(root, {
        "gen2/views_new.py": generated_files()["gen0/views_4.py"].replace("private_4", "private_new"),
        # skipped by the byte pre-filter before, now it holds a leak
        "shop/models.py": (root / "shop" / "models.py").read_text()
        + "\n\nfrom django.core.cache import cache\n\n\ndef warm():\n    cache.set('k', 1, timeout=None)\n",
    })
    edited = scan(root, "json", "--jobs", "2", seed=10)
    assert edited == scan(root, "json", "--no-cache", "--jobs", "2", seed=11)
    paths = {f["location"]["path"] for f in json.loads(edited)["findings"]}
    assert "gen2/views_new.py" in paths and "gen1/views_1.py" not in paths

    (root / "pyproject.toml").write_text(
        '[tool.cachelint]\nsettings-modules = ["shop/caching.py"]\nextend-exclude = ["gen1/"]\n'
    )
    reconfigured = scan(root, "json", "--jobs", "2", seed=12)
    assert reconfigured == scan(root, "json", "--no-cache", "--jobs", "1", seed=13)
    assert not any(f["location"]["path"].startswith("gen1/") for f in json.loads(reconfigured)["findings"])
