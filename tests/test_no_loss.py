"""The optimized pipeline (byte pre-filter, demand-driven parsing, result cache, worker
processes) finds exactly what parsing every file finds, on every fixture project."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cachelint import engine
from cachelint.config import Config
from cachelint.registry import all_rules
from tests.helpers import run, triples

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = [
    *sorted(p for p in (ROOT / "tests" / "fixtures").iterdir() if p.is_dir()),
    ROOT / "examples" / "demo",
]


# The default rules pre-filter more narrowly than ALL (opt-in CL106 and CL401 widen it).
DEFAULT_RULES = [code for code, rule in all_rules().items() if rule.default_enabled]


@pytest.mark.parametrize("select", [["ALL"], DEFAULT_RULES], ids=["all-rules", "default-rules"])
@pytest.mark.parametrize("source", PROJECTS, ids=lambda p: p.name)
def test_same_findings_as_parsing_everything(source, select, tmp_path, monkeypatch):
    project = tmp_path / source.name
    shutil.copytree(source, project, ignore=shutil.ignore_patterns(".cachelint_cache"))
    monkeypatch.chdir(project)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))

    optimized = triples(run(project, select, config=Config(cache=False)))
    cold = triples(run(project, select, config=Config(cache=True, jobs=2)))
    warm = triples(run(project, select, config=Config(cache=True, jobs=2)))
    with monkeypatch.context() as patch:
        patch.setattr(engine, "PYTHON_TOKENS", (b"",))  # every file contains b"": parse them all
        everything = triples(run(project, select, config=Config(cache=False)))
    # By design, the only difference: a syntax error in a file that cannot matter (it holds none
    # of the pre-filter's tokens) is left to the project's Python linter.
    skipped = [t for t in set(everything) - set(optimized)]
    assert all(code == "CL001" and not _has_token(project / path) for path, _, code in skipped), skipped
    assert set(optimized) <= set(everything)
    assert cold == warm == optimized


def _has_token(path: Path) -> bool:
    data = path.read_bytes()
    return engine.may_matter(data)
