"""A tree with several Django projects: each is joined apart, with its nearest configuration."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cachelint.cli import cli
from tests.helpers import expected_markers, write_tree
from tests.test_fixtures import fixture_files

MONOREPO = Path(__file__).parent / "fixtures" / "monorepo_project"


def findings(*args: str) -> list[tuple[str, int, str]]:
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--format", "json", *args])
    assert result.exit_code in (0, 1), result.output
    return sorted(
        (f["location"]["path"], f["location"]["line"], f["code"]) for f in json.loads(result.output)["findings"]
    )


def test_each_project_of_a_monorepo_is_checked_apart_with_its_own_configuration(monkeypatch):
    # shop's cached view renders shop's page.html, not blog's (which prints the user); blog's
    # own pyproject.toml ignores CL302, the root's (extend-select CL106) holds for shop.
    monkeypatch.chdir(MONOREPO)
    expected = expected_markers(fixture_files(MONOREPO))
    assert expected == [
        ("blog/posts/views.py", 5, "CL102"),
        ("shop/shop/settings.py", 3, "CL302"),
    ]
    assert findings(".") == expected
    assert findings("shop", "blog") == expected
    assert findings("shop/catalog/views.py", "blog/posts/views.py") == [("blog/posts/views.py", 5, "CL102")]
    assert findings("blog") == [("blog/posts/views.py", 5, "CL102")]


def test_a_project_with_its_apps_beside_manage_py_stays_one_project(tmp_path, monkeypatch):
    # One manage.py in src/ with the apps in a sibling folder: one model, as before.
    write_tree(
        tmp_path,
        {
            "pyproject.toml": "[tool.cachelint]\n",
            "src/manage.py": "",
            "apps/__init__.py": "",
            "apps/shop/__init__.py": "",
            "apps/shop/views.py": (
                "from django.shortcuts import render\n"
                "from django.views.decorators.cache import cache_page\n\n\n"
                "@cache_page(60)\n"
                "def home(request):\n"
                '    return render(request, "home.html")\n'
            ),
            "src/templates/home.html": "{{ user.email }}\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    assert findings(".") == [("apps/shop/views.py", 5, "CL102")]


def test_the_nearest_configuration_holds_for_a_file_passed_by_name(tmp_path, monkeypatch):
    # A sub-project without a configuration of its own has the repository's: before, a path
    # inside it was checked with the defaults.
    write_tree(
        tmp_path,
        {
            "pyproject.toml": '[tool.cachelint]\nignore = ["CL102"]\n',
            "one/manage.py": "",
            "one/views.py": (
                "from django.views.decorators.cache import cache_page\n\n\n"
                "@cache_page(60)\n"
                "def home(request):\n"
                "    return request.user.username\n"
            ),
        },
    )
    monkeypatch.chdir(tmp_path)
    assert findings("one/views.py") == []
    assert findings("one") == []


def test_a_broken_sub_project_configuration_is_one_error_and_the_rest_is_checked(tmp_path, monkeypatch):
    views = (
        "from django.views.decorators.cache import cache_page\n\n\n"
        "@cache_page(60)\n"
        "def home(request):\n"
        "    return request.user.username\n"
    )
    write_tree(
        tmp_path,
        {
            "pyproject.toml": "[tool.cachelint]\n",
            "one/manage.py": "",
            "one/views.py": views,
            "two/manage.py": "",
            "two/pyproject.toml": '[tool.cachelint]\nignore = ["CL999X"]\n',
            "two/views.py": views,
        },
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--format", "json", "."])
    assert result.exit_code == 2
    assert [(f["location"]["path"], f["code"]) for f in json.loads(result.stdout)["findings"]] == [
        ("one/views.py", "CL102")
    ]
    assert "unknown rule code or prefix: CL999X" in result.stderr
