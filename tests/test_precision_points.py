"""Precision points of the semantic-model issue: CL104's scope (pages anonymous visitors reach),
CL201's short-lived fragments (``fragment-min-timeout``), and test utilities as test code."""

from __future__ import annotations

import textwrap

import pytest

from cachelint.config import Config, ConfigError, load_config
from cachelint.discovery import walk
from cachelint.facts.python import parse_python
from tests.helpers import run, triples, write_tree


def scan(root, monkeypatch, files, select, config=None):
    write_tree(root, {path: textwrap.dedent(text) for path, text in files.items()})
    monkeypatch.chdir(root)
    return triples(run(root, select, config=config or Config(cache=False)))


# --- CL104: shared caching of pages anonymous visitors reach ------------------------------------

API = """\
from django.utils.decorators import method_decorator
from django.views.decorators.cache import cache_page
from django.views.decorators.vary import vary_on_headers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView


class SavedAPI(APIView):
    permission_classes = [{permission}]

    @method_decorator(cache_page(600))
    @method_decorator(vary_on_headers("Cookie", "Authorization"))
    def get(self, request):
        return Response(list(request.user.saved.values("pk")))
"""


def test_authenticated_api_varying_per_credential_is_not_cl104(tmp_path, monkeypatch):
    files = {"app/__init__.py": "", "app/api.py": API.format(permission="IsAuthenticated")}
    assert scan(tmp_path, monkeypatch, files, ["CL101", "CL102", "CL104"]) == []


def test_public_api_varying_per_cookie_is_cl104(tmp_path, monkeypatch):
    """The same view open to anonymous visitors: no leak (CL102 silent), one entry per cookie."""
    files = {"app/__init__.py": "", "app/api.py": API.format(permission="AllowAny")}
    assert scan(tmp_path, monkeypatch, files, ["CL101", "CL102", "CL104"]) == [("app/api.py", 13, "CL104")]


def test_cache_anonymous_visitors_pattern_is_cl104(tmp_path, monkeypatch):
    views = """\
    from django.shortcuts import render
    from django.views.decorators.cache import cache_page
    from django.views.decorators.vary import vary_on_cookie


    @cache_page(300)
    @vary_on_cookie
    def home(request):
        greeting = request.user.first_name if request.user.is_authenticated else ""
        return render(request, "home.html", {"greeting": greeting})
    """
    found = scan(tmp_path, monkeypatch, {"app/views.py": views}, ["CL101", "CL102", "CL104"])
    assert found == [("app/views.py", 7, "CL104")]


def test_cl103_hint_on_a_public_cookie_vary_puts_not_caching_first(tmp_path, monkeypatch):
    views = """\
    from django.contrib.auth.decorators import login_required
    from django.shortcuts import render
    from django.views.decorators.cache import cache_page
    from django.views.decorators.vary import vary_on_cookie


    @vary_on_cookie
    @cache_page(60)
    def public(request):
        return render(request, "a.html")


    @login_required
    @vary_on_cookie
    @cache_page(60)
    def private(request):
        return render(request, "a.html")
    """
    write_tree(tmp_path, {"app/views.py": textwrap.dedent(views)})
    monkeypatch.chdir(tmp_path)
    hints = {f.location.line: f.hint for f in run(tmp_path, ["CL103"]).findings}
    assert hints[7].startswith("do not cache this page, or cache its public fragments")
    assert hints[14] == "move `vary_on_cookie` below `cache_page` (decorators apply bottom-up)"


# --- CL201: fragment-min-timeout ----------------------------------------------------------------

FRAGMENTS = """\
{% load cache %}
{% cache 60 minute %}a{% endcache %}
{% cache "120" quoted %}b{% endcache %}
{% cache 299 almost %}c{% endcache %}
{% cache 300 five_minutes %}d{% endcache %}
{% cache timeout from_variable %}e{% endcache %}
{% cache 3600 hour %}f{% endcache %}
"""


@pytest.mark.parametrize(
    ("minimum", "lines"),
    [(None, [5, 6, 7]), (0, [2, 3, 4, 5, 6, 7]), (3600, [6, 7]), (3601, [6])],
)
def test_fragment_min_timeout(tmp_path, monkeypatch, minimum, lines):
    config = Config(cache=False)
    if minimum is not None:
        config.fragment_min_timeout = minimum
    found = scan(tmp_path, monkeypatch, {"templates/frag.html": FRAGMENTS}, ["CL201"], config)
    assert found == [("templates/frag.html", line, "CL201") for line in lines]


def test_fragment_min_timeout_is_read_from_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.cachelint]\nfragment-min-timeout = 60\n")
    config = load_config(tmp_path)
    assert config.fragment_min_timeout == 60
    assert "fragment-min-timeout = 60" in config.as_toml()
    (tmp_path / "pyproject.toml").write_text('[tool.cachelint]\nfragment-min-timeout = "5m"\n')
    with pytest.raises(ConfigError, match="`fragment-min-timeout` must be a non-negative integer"):
        load_config(tmp_path)


# --- test utilities are test code ---------------------------------------------------------------

HELPERS = """\
from django.core.cache import cache, caches
from django.test import TestCase
import unittest


class CacheResetTestCase(TestCase):
    def reset(self):
        cache.clear()


class ApiCase(unittest.TestCase):
    def setUp(self):
        caches["default"].clear()


class Mixin:
    def setUp(self):
        cache.clear()

    def teardown(self):
        cache.clear()


def tearDownModule():
    cache.clear()


def flush():
    cache.clear()
"""


def test_cache_call_facts_record_test_code():
    facts = parse_python(HELPERS.encode(), "app/helpers.py", "app.helpers", False, False)
    flags = {
        (function.name, call.span.line): call.test_code
        for function in [*facts.views.functions, *(m for c in facts.views.classes for m in c.methods)]
        for call in function.cache_calls
    }
    assert flags == {
        ("reset", 8): True,  # in a *TestCase class
        ("setUp", 13): True,  # in a unittest.TestCase class and a hook
        ("setUp", 18): True,  # a hook in a plain class
        ("teardown", 21): False,  # not a hook name
        ("tearDownModule", 25): True,
        ("flush", 29): False,
    }


def test_cl605_skips_test_classes_and_hooks_in_app_modules(tmp_path, monkeypatch):
    found = scan(tmp_path, monkeypatch, {"app/helpers.py": HELPERS}, ["CL605"])
    assert found == [("app/helpers.py", 21, "CL605"), ("app/helpers.py", 29, "CL605")]


def test_testing_packages_are_test_code(tmp_path, monkeypatch):
    files = {
        "app/testing/__init__.py": "",
        "app/testing/cache.py": "from django.core.cache import cache\n\n\ndef wipe():\n    cache.clear()\n",
        "app/services.py": "from django.core.cache import cache\n\n\ndef wipe():\n    cache.clear()\n",
    }
    assert scan(tmp_path, monkeypatch, files, ["CL605"]) == [("app/services.py", 5, "CL605")]
    walked = {p.relative_to(tmp_path).as_posix() for p in walk(tmp_path)}
    assert "app/testing/cache.py" not in walked and "app/services.py" in walked
    # Included with check-tests, the rules that skip test code still skip it.
    config = Config(cache=False, check_tests=True)
    assert scan(tmp_path, monkeypatch, files, ["CL605"], config) == [("app/services.py", 5, "CL605")]


TEST_HELPER = '''from django.core.cache import cache
from django.test import TestCase


class {name}:
    def check_search(self, request):
        return cache.get(f"search:v1:{{request.GET['q']}}")

    def remember(self, request):
        cache.set("dashboard:v1", {{"email": request.user.email}}, 60)
'''


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("SearchPagesTestCase(TestCase)", []),  # test utilities in a module of the app: not served
        ("SearchPages", [("app/support.py", 7, "CL604"), ("app/support.py", 10, "CL603")]),
    ],
)
def test_cache_calls_in_test_case_classes_are_test_code_for_every_rule(tmp_path, monkeypatch, name, expected):
    write_tree(tmp_path, {"manage.py": "", "app/__init__.py": "", "app/support.py": TEST_HELPER.format(name=name)})
    monkeypatch.chdir(tmp_path)
    result = run(tmp_path, ["CL6"], config=Config(cache=False))
    assert triples(result) == expected
