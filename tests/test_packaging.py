"""Packaging metadata: the distribution's own name, license, changelog, classifiers, py.typed,
and install/pre-commit/Action snippets that name a version the changelog defines."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cachelint import __version__

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
SNIPPET_DOCS = ["README.md", "docs/ci.md", "docs/django-checks.md"]


def test_distribution_is_named_django_cachelint_and_installs_the_cachelint_command() -> None:
    assert PROJECT["name"] == "django-cachelint"
    assert PYPROJECT["tool"]["setuptools"]["script-files"] == ["scripts/cachelint"]
    assert (ROOT / "scripts" / "cachelint").is_file()


def test_license_file_matches_the_declared_license() -> None:
    assert PROJECT["license"] == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text


def test_changelog_defines_the_current_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "Keep a Changelog" in text
    versions = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", text, re.MULTILINE)
    assert versions[0] == __version__  # newest release first
    assert f"[{__version__}]: " in text  # with its link
    assert "## [Unreleased]" in text


@pytest.mark.parametrize("doc", SNIPPET_DOCS)
def test_snippets_name_the_changelog_version_and_the_distribution(doc: str) -> None:
    text = (ROOT / doc).read_text(encoding="utf-8")
    for rev in re.findall(r"rev: (\S+)", text):
        assert rev == f"v{__version__}", doc
    for ref in re.findall(r"uses: cachelint/cachelint@(\S+)", text):
        assert ref == f"v{__version__}", doc
    # Never the unrelated PyPI project of that name.
    assert not re.search(r"pip install (?:-U )?cachelint\b", text), doc
    assert not re.search(r"\bcachelint==", text), doc


def test_readme_install_lines_work_from_a_clone() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install . && cachelint check examples/demo" in text
    assert "pip install -e '.[test]'" in text
    assert "pip install django-cachelint" in text
    assert (ROOT / "examples" / "demo").is_dir()


def test_classifiers_are_valid_and_match_the_supported_versions() -> None:
    classifiers = PROJECT["classifiers"]
    trove = pytest.importorskip("trove_classifiers")
    assert set(classifiers) <= trove.classifiers
    pythons = [c.rsplit(" ", 1)[1] for c in classifiers if re.match(r"Programming Language :: Python :: 3\.\d+$", c)]
    assert pythons == ["3.10", "3.11", "3.12", "3.13", "3.14"]
    assert PROJECT["requires-python"] == ">=3.10"
    djangos = [c.rsplit(" ", 1)[1] for c in classifiers if c.startswith("Framework :: Django :: ")]
    assert djangos == ["3.2", "4.2", "5.2", "6.0"]
    assert "Typing :: Typed" in classifiers


def test_project_urls() -> None:
    assert set(PROJECT["urls"]) >= {"Homepage", "Repository", "Issues", "Changelog"}
    assert all(url.startswith("https://") for url in PROJECT["urls"].values())


def test_py_typed_is_package_data() -> None:
    assert (ROOT / "cachelint" / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["cachelint"]


@pytest.mark.slow
def test_wheel_contains_py_typed_license_and_the_command(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("django_cachelint-*.whl")
    assert wheel.name.startswith(f"django_cachelint-{__version__}-")
    names = zipfile.ZipFile(wheel).namelist()
    assert "cachelint/py.typed" in names
    assert any(n.endswith(".data/scripts/cachelint") for n in names)
    assert any(n.endswith("LICENSE") for n in names)
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "Name: django-cachelint" in metadata
    assert "Requires-Dist: django>=3.2" in metadata
