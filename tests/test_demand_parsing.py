"""Demand-driven parsing: a module the byte pre-filter skips (no cache-related token in it) is
parsed after all when parsed code points at it, so its evidence still reaches the rules."""

from __future__ import annotations

import pytest

from cachelint import engine
from cachelint.config import Config
from tests.helpers import run, triples, write_tree

DEFAULT_RULES = ["CL101", "CL102", "CL105"]


@pytest.fixture
def tree(tmp_path, monkeypatch):
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))

    def make(files: dict[str, str]):
        write_tree(root, {"app/__init__.py": "", **files})
        return root

    return make


def parsed_modules(monkeypatch, root, select=DEFAULT_RULES) -> set[str]:
    seen: set[str] = set()
    original = engine._analyse

    def spy(task, data):
        if task.source.kind == "python":
            seen.add(task.source.module)
        return original(task, data)

    monkeypatch.setattr(engine, "_analyse", spy)
    run(root, select)
    return seen


def test_auth_decorator_in_a_module_without_cache_code(tree):
    root = tree({
        # Only login_required in it: skipped by the pre-filter, demanded as a cached view's decorator.
        "app/decorators.py": (
            "from django.contrib.auth.decorators import login_required\n\n\n"
            "def members_only(view):\n"
            "    return login_required(view)\n"
        ),
        "app/views.py": (
            "from django.shortcuts import render\n"
            "from django.views.decorators.cache import cache_page\n\n"
            "from app.decorators import members_only\n\n\n"
            "@members_only\n"
            "@cache_page(60)\n"
            "def dashboard(request):\n"
            '    return render(request, "dashboard.html")\n'
        ),
    })
    assert triples(run(root, DEFAULT_RULES)) == [("app/views.py", 8, "CL101")]


def test_template_and_mixin_from_a_base_class_module_without_cache_code(tree):
    root = tree({
        "app/base.py": (
            "from django.views.generic import TemplateView\n\n\n"
            "class AccountPage(TemplateView):\n"
            '    template_name = "account.html"\n'
        ),
        "app/views.py": (
            "from django.utils.decorators import method_decorator\n"
            "from django.views.decorators.cache import cache_page\n\n"
            "from app.base import AccountPage\n\n\n"
            '@method_decorator(cache_page(600), name="dispatch")\n'
            "class Overview(AccountPage):\n"
            "    pass\n"
        ),
        "templates/account.html": "<p>{{ user.email }}</p>\n",
    })
    assert triples(run(root, DEFAULT_RULES)) == [("app/views.py", 7, "CL102")]


def test_view_module_that_imports_a_cache_alias(tree):
    root = tree({
        "app/caching.py": "from django.views.decorators.cache import cache_page\n\ncache_day = cache_page(86400)\n",
        # No cache token here: parsed because it imports the module that defines the alias.
        "app/views.py": (
            "from django.shortcuts import render\n\n"
            "from app import caching\n\n\n"
            "@caching.cache_day\n"
            "def profile(request):\n"
            '    return render(request, "profile.html", {"name": request.user.get_full_name()})\n'
        ),
    })
    assert triples(run(root, DEFAULT_RULES)) == [("app/views.py", 6, "CL102")]


def test_unrelated_modules_stay_unparsed(tree, monkeypatch):
    root = tree({
        "app/models.py": (
            "from django.db import models\n\n\n"
            "class Page(models.Model):\n"
            "    login_required = models.BooleanField(default=False)\n"
        ),
        "app/forms.py": "from django.views.decorators.http import require_POST\n",
        # A class-based view module: its own template_name and a plain as_view() are no URLconf
        # giving a view its template.
        "app/pages.py": (
            "from django.views.generic import TemplateView\n\n\n"
            "class About(TemplateView):\n"
            '    template_name = "about.html"\n\n\n'
            "about = About.as_view()\n"
        ),
        "app/account.py": (
            "from django.views.decorators.cache import never_cache\n\n\n"
            "@never_cache\n"
            "def logout(request):\n"
            "    return None\n"
        ),
        "app/views.py": (
            "from django.views.decorators.cache import cache_page\n\n\n"
            "@cache_page(60)\n"
            "def home(request):\n"
            "    return None\n"
        ),
    })
    assert parsed_modules(monkeypatch, root) == {"app.views"}


def test_rules_that_need_every_protected_view_widen_the_prefilter(tree, monkeypatch):
    views = (
        "from django.contrib.auth.decorators import login_required\n"
        "from django.shortcuts import render\n\n\n"
        "@login_required\n"
        "def settings_page(request):\n"
        '    return render(request, "settings.html")\n'
    )
    root = tree({"app/views.py": views})
    assert "app.views" not in parsed_modules(monkeypatch, root)
    assert "app.views" in parsed_modules(monkeypatch, root, ["CL106"])


def test_result_cache_keeps_prefilter_decisions_apart(tree):
    root = tree({
        "app/views.py": (
            "from django.contrib.auth.decorators import login_required\n"
            "from django.shortcuts import render\n\n\n"
            "@login_required\n"
            "def settings_page(request):\n"
            '    return render(request, "settings.html")\n'
        )
    })
    cached = Config(cache=True)
    assert triples(run(root, DEFAULT_RULES, config=cached)) == []  # the file is skipped and cached so
    assert triples(run(root, ["CL106"], config=Config(cache=True))) == [("app/views.py", 6, "CL106")]


def test_cl106_finds_views_protected_by_project_decorators_and_mixins(tree):
    root = tree({
        "app/access.py": (
            "from django.contrib.auth.decorators import login_required\n"
            "from django.contrib.auth.mixins import LoginRequiredMixin\n\n\n"
            "def staff_only(view):\n"
            "    return login_required(view)\n\n\n"
            "class MemberMixin(LoginRequiredMixin):\n"
            "    pass\n"
        ),
        # Neither module names an auth decorator or mixin of Django's: no pre-filter token.
        "app/views.py": (
            "from django.shortcuts import render\n\n"
            "from app.access import staff_only\n\n\n"
            "@staff_only\n"
            "def report(request):\n"
            '    return render(request, "report.html")\n'
        ),
        "app/pages.py": (
            "from django.views.generic import TemplateView\n\n"
            "from app import access\n\n\n"
            "class Account(access.MemberMixin, TemplateView):\n"
            '    template_name = "account.html"\n'
        ),
        "app/public.py": (
            "from django.shortcuts import render\n\n\n"
            "def about(request):\n"
            '    return render(request, "about.html")\n'
        ),
    })
    assert triples(run(root, ["CL106"])) == [("app/pages.py", 6, "CL106"), ("app/views.py", 7, "CL106")]


def test_never_cache_view_wrapped_by_a_cached_route(tree):
    root = tree({
        "app/urls.py": (
            "from django.urls import path\n"
            "from django.views.decorators.cache import cache_page\n\n"
            "from app import views\n\n"
            'urlpatterns = [path("account/", cache_page(600)(views.account))]\n'
        ),
        # never_cache alone is no pre-filter token: the cached route points at this module.
        "app/views.py": (
            "from django.shortcuts import render\n"
            "from django.views.decorators.cache import never_cache\n\n\n"
            "@never_cache\n"
            "def account(request):\n"
            '    return render(request, "account.html")\n'
        ),
    })
    assert triples(run(root, ["CL404"])) == [("app/views.py", 5, "CL404")]
