"""Shapes met in public projects that cachelint once got wrong (each captured as a pattern of our own)."""

from __future__ import annotations

from tests.helpers import run, triples, write_tree

LOGIN = "from django.contrib.auth.decorators import login_required\n"
CACHE = "from django.views.decorators.cache import cache_page\n"
RENDER = "from django.shortcuts import render\n"


def scan(tmp_path, monkeypatch, files, select=("ALL",)):
    write_tree(tmp_path, {"manage.py": "", "app/__init__.py": "", **files})
    monkeypatch.chdir(tmp_path)
    return run(tmp_path, list(select))


def test_view_rebound_with_cache_page_at_module_level(tmp_path, monkeypatch):
    views = (
        LOGIN
        + CACHE
        + RENDER
        + """from django.conf import settings


@login_required
def dashboard(request):
    return render(request, "plain.html")


dashboard = cache_page(600)(dashboard)


def page(request):
    return render(request, "page.html")


if not settings.DEBUG:
    page = cache_page(600)(page)
"""
    )
    urls = (
        CACHE
        + """from django.urls import path

from app import views

cached_dashboard = cache_page(60)(views.dashboard)
urlpatterns = [path("d/", cached_dashboard)]
"""
    )
    files = {
        "app/views.py": views,
        "app/urls.py": urls,
        "app/templates/page.html": "{{ request.user.username }}",
    }
    result = scan(tmp_path, monkeypatch, files, ["CL101", "CL102"])
    assert triples(result) == [
        ("app/urls.py", 6, "CL101"),
        ("app/views.py", 12, "CL101"),
        ("app/views.py", 20, "CL102"),
    ]


def test_drf_viewset_actions_are_cached_handlers(tmp_path, monkeypatch):
    views = (
        CACHE
        + """from django.utils.decorators import method_decorator
from rest_framework.permissions import IsAuthenticated
from rest_framework.viewsets import ReadOnlyModelViewSet


class Orders(ReadOnlyModelViewSet):
    permission_classes = [IsAuthenticated]

    @method_decorator(cache_page(60))
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


@method_decorator(cache_page(60), name="retrieve")
class Invoices(ReadOnlyModelViewSet):
    permission_classes = [IsAuthenticated]
"""
    )
    result = scan(tmp_path, monkeypatch, {"app/api.py": views}, ["CL101"])
    assert triples(result) == [("app/api.py", 10, "CL101"), ("app/api.py", 15, "CL101")]


def test_context_key_named_user_shadows_the_visitor(tmp_path, monkeypatch):
    views = (
        CACHE
        + RENDER
        + """from django.contrib.auth.models import User


@cache_page(60)
def public_profile(request, pk):
    return render(request, "profile.html", {"user": User.objects.get(pk=pk)})
"""
    )
    files = {"app/views.py": views, "app/templates/profile.html": "<h1>{{ user.username }}</h1>"}
    assert triples(scan(tmp_path, monkeypatch, files)) == []


def test_bare_request_user_statement_is_not_personalization(tmp_path, monkeypatch):
    views = (
        CACHE
        + """from django.http import JsonResponse
from django.views import View


class Base(View):
    def initial(self, request):
        request.user  # force authentication


class PublicStats(Base):
    def dispatch(self, *args, **kwargs):
        return cache_page(60)(super().dispatch)(*args, **kwargs)

    def get(self, request):
        return JsonResponse({"projects": 3})
"""
    )
    assert triples(scan(tmp_path, monkeypatch, {"app/views.py": views})) == []


def test_cache_clear_in_a_debug_only_branch(tmp_path, monkeypatch):
    apps = """from django.apps import AppConfig
from django.conf import settings
from django.core.cache import cache


class CoreConfig(AppConfig):
    name = "app"

    def ready(self):
        if settings.DEBUG:
            cache.clear()
        else:
            pass

    def reset(self):
        if not settings.DEBUG:
            return
        else:
            cache.clear()

    def wipe(self):
        cache.clear()
"""
    assert triples(scan(tmp_path, monkeypatch, {"app/apps.py": apps}, ["CL605"])) == [
        ("app/apps.py", 22, "CL605")
    ]


def test_cookiecutter_template_trees_are_not_python_yet(tmp_path, monkeypatch):
    files = {
        "{{cookiecutter.slug}}/config/settings.py": '{% if cookiecutter.use_redis == "y" %}\nCACHES = {}\n{% endif %}\n'
    }
    result = scan(tmp_path, monkeypatch, files)
    assert triples(result) == [] and result.errors == []


def test_django_split_settings_include_is_a_star_import_chain(tmp_path, monkeypatch):
    files = {
        "mysite/__init__.py": "",
        "mysite/settings/__init__.py": "from split_settings.tools import include, optional\n\n"
        'include("components/base.py", "prod.py", optional("local.py"), "components/*.py")\n',
        "mysite/settings/components/__init__.py": "",
        "mysite/settings/components/base.py": 'INSTALLED_APPS = ["django.contrib.staticfiles"]\n',
        "mysite/settings/prod.py": "DEBUG = False\n",
    }
    result = scan(tmp_path, monkeypatch, files, ["CL501"])
    assert triples(result) == [("mysite/settings/__init__.py", 1, "CL501")]
    assert "`mysite.settings`" in result.findings[0].message


def test_test_utils_packages_and_testcases_modules_are_test_code(tmp_path, monkeypatch):
    clear = "from django.core.cache import cache\n\n\ndef reset():\n    cache.clear()\n"
    files = {
        "cms/test_utils/testcases.py": clear,
        "cms/test_utils/project/templates/broken.html": "{% endspaceless %}",
        "cms/utils.py": clear,
    }
    assert triples(scan(tmp_path, monkeypatch, files, ["CL605", "CL001"])) == [("cms/utils.py", 5, "CL605")]


def test_django_environ_schema_defaults(tmp_path, monkeypatch):
    settings = (
        "import environ\n\n"
        'env = environ.FileAwareEnv(DEBUG=(bool, False), REDIS=(str, "redis://cache:6379/1"))\n'
        'DEBUG = env("DEBUG")\n'
        'INSTALLED_APPS = ["django.contrib.staticfiles"]\n'
    )
    result = scan(tmp_path, monkeypatch, {"mysite/settings.py": settings}, ["CL501"])
    assert triples(result) == [("mysite/settings.py", 1, "CL501")]  # DEBUG is False by default


CACHING_HELPERS = (
    CACHE
    + """

def cache_for(minutes):
    return cache_page(minutes * 60)


def cache_if_anonymous(timeout):
    def decorator(view):
        def wrapped(req, *args, **kwargs):
            if req.user.is_authenticated:
                return view(req, *args, **kwargs)
            return cache_page(timeout)(view)(req, *args, **kwargs)

        return wrapped

    return decorator
"""
)


def test_project_decorator_that_applies_cache_page(tmp_path, monkeypatch):
    # Pattern met in open-synthesis (a project's own caching decorator). Views in a module with
    # no cache token of its own: parsed because they import the decorator.
    views = (
        LOGIN
        + RENDER
        + """
from app.caching import cache_for, cache_if_anonymous


@login_required
@cache_for(10)
def orders(request):
    return render(request, "orders.html")


@cache_if_anonymous(600)
def home(request):
    return render(request, "home.html", {"name": request.user.get_full_name()})
"""
    )
    result = scan(tmp_path, monkeypatch, {"app/caching.py": CACHING_HELPERS, "app/views.py": views}, ["CL101", "CL102"])
    assert triples(result) == [("app/views.py", 8, "CL101")]
    (finding,) = result.findings
    assert [(e.location.path, e.location.line, e.label) for e in finding.related] == [
        ("app/views.py", 7, "`login_required` requires login here"),
        ("app/caching.py", 5, "`cache_for` applies `cache_page` here"),
    ]
