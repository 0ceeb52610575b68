"""DRF as DRF runs: the browsable API with session login is personal (CL102), a cache inside DRF's
dispatch stores responses before DRF adds ``Vary: Accept`` (CL103), and ``headers={...}`` given to a
response constructor is a header write (CL105, CL403, CL404 see it).

``tests/fixtures/drf_project`` keeps DRF's default renderers and authentication classes and puts
every leak next to its safe look-alike; the settings variants are small projects in ``tmp_path``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cachelint.cli import cli
from cachelint.config import Config
from cachelint.facts.values import UNKNOWN
from cachelint.facts.views import HeaderWrite
from cachelint.finding import Span
from cachelint.registry import all_rules
from tests.helpers import expected_markers, run, triples, write_tree
from tests.test_facts import parse
from tests.test_fixtures import fixture_files, line_of

ROOT = Path(__file__).parent / "fixtures" / "drf_project"
DEFAULT_ON = sorted(code for code, rule in all_rules().items() if rule.default_enabled)
SETTINGS = "config/settings/base.py"
DEFAULT_RENDERERS = (
    "`REST_FRAMEWORK` sets no `DEFAULT_RENDERER_CLASSES`: DRF's default renderers apply "
    "(`JSONRenderer`, `BrowsableAPIRenderer`)"
)
DEFAULT_AUTHENTICATION = (
    "`REST_FRAMEWORK` sets no `DEFAULT_AUTHENTICATION_CLASSES`: DRF's default authentication classes "
    "apply (`SessionAuthentication`, `BasicAuthentication`)"
)
BROWSABLE = (
    "`cache_page` on a DRF view with the browsable API and session login: the HTML page DRF renders "
    "for a browser shows the visitor's name and CSRF token, and the cache serves it to every visitor"
)


@pytest.fixture(scope="module")
def result():
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        return run(ROOT, DEFAULT_ON, config=Config(cache=False))


def finding(result, code, path, line):
    found = [f for f in result.findings if (f.code, f.location.path, f.location.line) == (code, path, line)]
    assert len(found) == 1, found
    return found[0]


def related(f):
    return [(e.location.path, e.location.line, e.label) for e in f.related]


def test_exactly_the_marked_findings(result):
    assert result.errors == []
    assert triples(result) == expected_markers(fixture_files(ROOT))


def test_drf_defaults_are_the_evidence(result):
    settings_line = line_of(ROOT, SETTINGS, "REST_FRAMEWORK = {")
    line = line_of(ROOT, "api/views.py", "class StatsView(") + 3
    f = finding(result, "CL102", "api/views.py", line)
    assert f.message == BROWSABLE
    assert f.hint == "use JSON-only renderers on this view (`renderer_classes = [JSONRenderer]`), or do not cache it"
    assert related(f) == [
        (SETTINGS, settings_line, DEFAULT_RENDERERS),
        (SETTINGS, settings_line, DEFAULT_AUTHENTICATION),
    ]


def test_inherited_attributes_and_a_project_session_subclass(result):
    """`TeamView` inherits both attributes; its authentication is a subclass of
    SessionAuthentication in a module that only the rule's demand gets parsed."""
    f = finding(result, "CL102", "api/views.py", line_of(ROOT, "api/views.py", "class TeamView(") - 1)
    assert related(f) == [
        (
            "api/views.py",
            line_of(ROOT, "api/views.py", "renderer_classes = (JSONRenderer, BrowsableAPIRenderer)"),
            "`renderer_classes` sets the renderers here",
        ),
        (
            "api/views.py",
            line_of(ROOT, "api/views.py", "authentication_classes = [CsrfExemptSessionAuthentication]"),
            "`authentication_classes` sets the authentication classes here",
        ),
    ]


def test_api_view_above_cache_page_is_a_cl103(result):
    api_view = line_of(ROOT, "api/functions.py", "def leaderboard(") - 2
    f = finding(result, "CL103", "api/functions.py", api_view + 1)
    assert f.message == (
        "`cache_page` is applied inside DRF's `@api_view`: it stores the response before DRF adds "
        "`Vary: Accept`, so the first client's format (the browsable HTML page or JSON) is served to all"
    )
    assert related(f) == [
        ("api/functions.py", api_view, "DRF negotiates the format and adds `Vary: Accept` here"),
        (SETTINGS, line_of(ROOT, SETTINGS, "REST_FRAMEWORK = {"), DEFAULT_RENDERERS),
    ]
    # The CL102 beside it names the decorator a function view uses.
    hint = finding(result, "CL102", "api/functions.py", api_view + 1).hint
    assert hint == (
        "use JSON-only renderers on this view (`@renderer_classes([JSONRenderer])` below `@api_view`), "
        "or do not cache it"
    )


def test_action_cached_inside_the_viewset(result):
    line = line_of(ROOT, "api/views.py", "def featured(") - 1
    f = finding(result, "CL103", "api/views.py", line)
    assert "`APIView.dispatch`" in f.message
    assert related(f)[0] == (
        "api/views.py",
        line_of(ROOT, "api/views.py", "class ProductViewSet("),
        "DRF negotiates the format and adds `Vary: Accept` here",
    )


def test_cl103_fix_leaves_drf_findings_alone(tmp_path, monkeypatch):
    """The decorator-moving fix is for `vary_on_*`; a cache inside DRF has no mechanical fix."""
    views = """from django.views.decorators.cache import cache_page
from django.views.decorators.vary import vary_on_cookie
from rest_framework.decorators import api_view


@api_view(["GET"])
@cache_page(60)
def feed(request):
    return None


@vary_on_cookie
@cache_page(60)
def home(request):
    return None
"""
    write_tree(tmp_path, {"manage.py": "", "app/views.py": views, "mysite/settings.py": "DEBUG = False\n"})
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(cli, ["check", "--no-cache", "--select", "CL103", "--fix", "."])
    assert "fixed 1 finding" in out.output
    assert (tmp_path / "app/views.py").read_text() == views.replace(
        "@vary_on_cookie\n@cache_page(60)\n", "@cache_page(60)\n@vary_on_cookie\n"
    )
    assert "app/views.py:7:2: CL103" in out.output  # the DRF finding stays


# --- settings variants ----------------------------------------------------------------------------

VIEWS = """from django.utils.decorators import method_decorator
from django.views.decorators.cache import cache_page
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework.views import APIView


class Stats(APIView):
    @method_decorator(cache_page(60))
    def get(self, request):
        return Response({})


@cache_page(60)
@api_view(["GET"])
def feed(request):
    return Response([])
"""


def scan(tmp_path, monkeypatch, files):
    write_tree(tmp_path, {"manage.py": "", "app/__init__.py": "", "app/views.py": VIEWS, **files})
    monkeypatch.chdir(tmp_path)
    return [t for t in triples(run(tmp_path, ["CL102", "CL103"])) if t[0] == "app/views.py"]


BOTH = [("app/views.py", 9, "CL102"), ("app/views.py", 9, "CL103"), ("app/views.py", 14, "CL102")]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        pytest.param("DEBUG = False\n", BOTH, id="no-REST_FRAMEWORK"),
        pytest.param(
            'REST_FRAMEWORK = {"DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}\n',
            [],
            id="json-only",
        ),
        pytest.param(
            'REST_FRAMEWORK = {"DEFAULT_RENDERER_CLASSES": ("rest_framework.renderers.JSONRenderer",'
            ' "rest_framework.renderers.BrowsableAPIRenderer")}\n',
            BOTH,
            id="browsable-listed",
        ),
        pytest.param(
            'REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": ['
            '"rest_framework.authentication.TokenAuthentication",'
            ' "rest_framework_simplejwt.authentication.JWTAuthentication"]}\n',
            [("app/views.py", 9, "CL103")],
            id="token-and-jwt-only",
        ),
        pytest.param("from .helpers import api_settings\nREST_FRAMEWORK = api_settings()\n", [], id="unknown"),
        pytest.param(
            'REST_FRAMEWORK = {"DEFAULT_RENDERER_CLASSES": RENDERERS}\n', [], id="unknown-renderers"
        ),
        pytest.param(
            'REST_FRAMEWORK = {"DEFAULT_RENDERER_CLASSES": ["app.renderers.Pretty"]}\n',
            [("app/views.py", 9, "CL102"), ("app/views.py", 14, "CL102")],
            id="project-subclass-alone",
        ),
    ],
)
def test_rest_framework_setting(tmp_path, monkeypatch, settings, expected):
    files = {
        "mysite/settings.py": settings,
        "app/renderers.py": "from rest_framework.renderers import BrowsableAPIRenderer\n\n\n"
        "class Pretty(BrowsableAPIRenderer):\n    template = 'pretty.html'\n",
    }
    assert scan(tmp_path, monkeypatch, files) == expected


def test_no_settings_module_is_unknown(tmp_path, monkeypatch):
    assert scan(tmp_path, monkeypatch, {}) == []


def test_production_settings_decide(tmp_path, monkeypatch):
    """The browsable renderer only in development: production runs JSON only."""
    files = {
        "mysite/settings/__init__.py": "",
        "mysite/settings/base.py": "DEBUG = True\nREST_FRAMEWORK = {}\n",
        "mysite/settings/dev.py": "from .base import *\n",
        "mysite/settings/production.py": "from .base import *\nDEBUG = False\n"
        'REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["rest_framework.renderers.JSONRenderer"]\n',
    }
    assert scan(tmp_path, monkeypatch, files) == []
    # JSON only in development, DRF's defaults in production: production is what visitors get.
    files["mysite/settings/dev.py"] = files["mysite/settings/production.py"].replace("DEBUG = False\n", "")
    files["mysite/settings/production.py"] = "from .base import *\nDEBUG = False\n"
    assert scan(tmp_path, monkeypatch, files) == BOTH
    # Without a production module every leaf may run: they must all be browsable.
    files["mysite/settings/dev.py"] = "from .base import *\n"
    del files["mysite/settings/production.py"]
    (tmp_path / "mysite/settings/production.py").unlink()
    files["mysite/settings/staging.py"] = (
        "from .base import *\n"
        'REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["rest_framework.renderers.JSONRenderer"]\n'
    )
    assert scan(tmp_path, monkeypatch, files) == []


def test_view_choices_the_model_cannot_read_are_unknown(tmp_path, monkeypatch):
    views = """from django.utils.decorators import method_decorator
from django.views.decorators.cache import cache_page
from rest_framework.decorators import action, api_view, renderer_classes
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework.viewsets import ViewSet


class Computed(APIView):
    renderer_classes = api_settings.DEFAULT_RENDERER_CLASSES + EXTRA

    @method_decorator(cache_page(60))
    def get(self, request):
        return Response({})


class Chooses(APIView):
    def get_renderers(self):
        return []

    @method_decorator(cache_page(60))
    def get(self, request):
        return Response({})


class PerAction(ViewSet):
    @action(detail=False, renderer_classes=RENDERERS)
    @method_decorator(cache_page(60))
    def recent(self, request):
        return Response([])


@cache_page(60)
@api_view(["GET"])
@renderer_classes(RENDERERS)
def feed(request):
    return Response([])
"""
    write_tree(tmp_path, {"manage.py": "", "app/views.py": views, "mysite/settings.py": "DEBUG = False\n"})
    monkeypatch.chdir(tmp_path)
    assert triples(run(tmp_path, ["CL102", "CL103"])) == []


# --- headers= -------------------------------------------------------------------------------------


def test_headers_kwarg_is_a_header_write():
    facts = parse(
        """from django.http import JsonResponse
from django.template.response import TemplateResponse
from rest_framework.response import Response


def view(request, extra):
    JsonResponse({}, headers={"Cache-Control": "public, max-age=60", "X-Other": "1"})
    TemplateResponse(request, "t.html", headers={"vary": "Accept, Cookie"})
    Response({}, headers={"Cache-Control": VALUE})
    Response({}, headers=extra)
    dict(headers={"Cache-Control": "no-store"})
"""
    )
    (function,) = facts.views.functions
    assert function.header_writes == (
        HeaderWrite("cache-control", {"public": True, "max_age": "60"}, Span(7, 31, 7, 68), "headers-kwarg"),
        HeaderWrite("vary", ("accept", "cookie"), Span(8, 50, 8, 74), "headers-kwarg"),
        HeaderWrite("cache-control", UNKNOWN, Span(9, 27, 9, 49), "headers-kwarg"),
    )
