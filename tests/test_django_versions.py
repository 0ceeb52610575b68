"""cachelint works with the oldest supported Django (3.2) and installing it changes no Django.

The test runs scripts/django_matrix.py for Django 3.2 (a fresh virtualenv, Django 3.2 first,
then ``pip install .``): the same script checks 4.2, 5.2 and 6.0 when run by hand (see the
README). It needs the package index, so it is slow-marked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_dependency_never_pins_a_newer_django_than_3_2() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    [django] = [d for d in dependencies if d.lower().startswith("django")]
    assert django == "django>=3.2"


def test_lexer_import_is_the_one_every_supported_django_has() -> None:
    # DebugLexer and TokenType are in django.template.base from Django 2.1 to 6.x; the
    # token attributes cachelint reads (token_type, contents, position, split_contents) too.
    text = (ROOT / "cachelint" / "facts" / "templates.py").read_text(encoding="utf-8")
    assert "from django.template.base import DebugLexer, TokenType" in text


@pytest.mark.slow
def test_django_3_2_is_kept_and_works(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "django_matrix.py"), "--versions", "3.2", "--json"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    [report] = json.loads(done.stdout)
    assert report["django_before"].startswith("3.2.")
    assert report["django_after"] == report["django_before"]  # pip install . changed nothing
    assert report["lexer"]["django"] == report["django_before"]
    assert report["lexer_ok"], report["lexer"]
    assert report["cli_ok"], report["notes"]
    assert report["system_check_ok"], report["notes"]
    assert report["ok"] and done.returncode == 0, done.stdout + done.stderr
    assert "libcst" in report["installed_bytes"] and "django" not in report["installed_bytes"]
