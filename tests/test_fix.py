"""--fix and --diff: the mechanical fixes, atomic writes, idempotence, refusal."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from cachelint.cli import cli
from tests.helpers import write_tree

VARY_OUTSIDE = """from django.views.decorators.cache import cache_page
from django.views.decorators.vary import vary_on_headers


@vary_on_headers("Accept-Language")  # translated per language
@cache_page(60)
def home(request):
    return None
"""
VARY_FIXED = """from django.views.decorators.cache import cache_page
from django.views.decorators.vary import vary_on_headers


@cache_page(60)
@vary_on_headers("Accept-Language")  # translated per language
def home(request):
    return None
"""
REDIS = """CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
    },
    "fragments": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "OPTIONS": {"db": 2}},
}
"""
REDIS_FIXED = """CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 5, "SOCKET_TIMEOUT": 5},
    },
    "fragments": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "OPTIONS": {"db": 2, "socket_connect_timeout": 5, "socket_timeout": 5}},
}
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    write_tree(
        tmp_path,
        {"manage.py": "", "app/__init__.py": "", "app/views.py": VARY_OUTSIDE, "mysite/settings.py": REDIS},
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args):
    return CliRunner().invoke(cli, ["check", "--no-cache", "--select", "CL103,CL301", *args])


def test_fix_rewrites_both_files_and_is_idempotent(project):
    first = invoke("--fix", ".")
    assert "fixed 3 findings in 2 files" in first.output
    assert first.exit_code == 0  # nothing of the selected rules is left
    assert (project / "app/views.py").read_text() == VARY_FIXED
    assert (project / "mysite/settings.py").read_text() == REDIS_FIXED
    second = invoke("--fix", ".")
    assert "fixed 0 findings in 0 files" in second.output
    assert (project / "app/views.py").read_text() == VARY_FIXED


def test_diff_changes_nothing_and_exits_1(project):
    result = invoke("--diff", ".")
    assert result.exit_code == 1
    assert "-@cache_page(60)\n" in result.output and "+@cache_page(60)\n" in result.output
    assert '+        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 5, "SOCKET_TIMEOUT": 5},\n' in result.output
    assert (project / "app/views.py").read_text() == VARY_OUTSIDE


def test_socket_timeout_is_configurable(project):
    (project / "pyproject.toml").write_text("[tool.cachelint]\nsocket-timeout = 2\n")
    invoke("--fix", ".")
    assert '"SOCKET_TIMEOUT": 2' in (project / "mysite/settings.py").read_text()


def test_fix_keeps_crlf_line_endings_and_file_mode(project):
    views = project / "app/views.py"
    views.write_bytes(VARY_OUTSIDE.replace("\n", "\r\n").encode())
    os.chmod(views, 0o640)
    invoke("--fix", ".")
    assert views.read_bytes() == VARY_FIXED.replace("\n", "\r\n").encode()
    assert os.stat(views).st_mode & 0o777 == 0o640
    assert not [p for p in (project / "app").iterdir() if p.name.endswith(".cachelint-fix")]


def test_options_that_are_not_a_literal_are_refused(project):
    (project / "mysite/settings.py").write_text(
        REDIS.replace('"OPTIONS": {"db": 2}', '"OPTIONS": dict(db=2)')
    )
    result = invoke("--fix", ".")
    assert "CL301 not fixed: OPTIONS is not a dict literal" in result.output
    assert "dict(db=2)" in (project / "mysite/settings.py").read_text()


def test_a_fix_whose_result_would_not_parse_is_refused(project, monkeypatch):
    from cachelint.registry import all_rules

    rule = type(all_rules()["CL103"])
    monkeypatch.setattr(rule, "fix", lambda self, text, findings, config: text + "\ndef broken(:\n")
    result = invoke("--fix", ".")
    assert "CL103 not fixed: the result would not parse" in result.output
    assert (project / "app/views.py").read_text() == VARY_OUTSIDE


LEGACY_SETTINGS = """import os

DEBUG = False

# Hashed names for long-lived caching.
STATICFILES_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"
DEFAULT_FILE_STORAGE = os.environ.get("FILES", "storages.backends.s3.S3Storage")
"""
STORAGES_FIXED = """import os

DEBUG = False

# Hashed names for long-lived caching.
STORAGES = {
    "default": {"BACKEND": os.environ.get("FILES", "storages.backends.s3.S3Storage")},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
"""


def test_cl502_rewrites_legacy_storage_settings_into_storages(tmp_path, monkeypatch):
    write_tree(tmp_path, {"manage.py": "", "mysite/settings.py": LEGACY_SETTINGS})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--select", "CL502", "--fix", "."])
    assert "fixed 2 findings in 1 file" in result.output
    assert (tmp_path / "mysite/settings.py").read_text() == STORAGES_FIXED
    assert result.exit_code == 0


def test_cl502_refuses_a_module_that_star_imports_other_settings(tmp_path, monkeypatch):
    prod = "from .base import *\n\nSTATICFILES_STORAGE = 'x.Storage'\n"
    write_tree(
        tmp_path,
        {
            "manage.py": "",
            "mysite/settings/base.py": "INSTALLED_APPS = []\n",
            "mysite/settings/prod.py": prod,
        },
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--select", "CL502", "--fix", "."])
    assert "CL502 not fixed: the module star-imports other settings" in result.output
    assert (tmp_path / "mysite/settings/prod.py").read_text() == prod


def test_cl504_uses_the_static_tag_and_loads_it_after_extends(tmp_path, monkeypatch):
    page = (
        '{% extends "base.html" %}\n'
        "{% block head %}<link href=\"/static/css/app.css?v=2\"><script src='/static/js/app.js'></script>{% endblock %}\n"
    )
    write_tree(tmp_path, {"manage.py": "", "app/templates/page.html": page})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--select", "CL504", "--fix", "."])
    assert "fixed 2 findings in 1 file" in result.output
    assert (tmp_path / "app/templates/page.html").read_text() == (
        '{% extends "base.html" %}\n{% load static %}\n'
        "{% block head %}<link href=\"{% static 'css/app.css' %}?v=2\">"
        "<script src='{% static \"js/app.js\" %}'></script>{% endblock %}\n"
    )
    again = CliRunner().invoke(cli, ["check", "--no-cache", "--select", "CL504", "--fix", "."])
    assert "fixed 0 findings in 0 files" in again.output
