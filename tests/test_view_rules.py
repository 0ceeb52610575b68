"""CL112 (CSRF token endpoints), CL113 (pages behind a CDN), CL208 (django CMS page cache),
CL209 (wagtail-cache without its mixin) and CL608 (keys from free text).

Each fixture project puts the leaks next to safe look-alikes, marked on their lines; the unit
tests pin messages, evidence and the facts the rules read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cachelint.config import Config, ConfigError, flags, load_config
from cachelint.engine import Result
from cachelint.facts.templates import parse_template
from cachelint.registry import all_rules, configured_rules
from tests.helpers import expected_markers, run, triples, write_tree
from tests.test_fixtures import fixture_files, line_of

FIXTURES = Path(__file__).parent / "fixtures"
VIEWS = FIXTURES / "viewrules_project"
CMS = FIXTURES / "cms_project"
CMS_OFF = FIXTURES / "cms_nocache_project"
WAGTAIL = FIXTURES / "wagtail_cache_project"
RULES = all_rules()
DEFAULT_ON = sorted(code for code, rule in RULES.items() if rule.default_enabled)


def scan(root: Path, select: list[str]) -> Result:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        return run(root, select, config=Config(cache=False))


def finding(result: Result, path: str, line: int, code: str):
    return next(
        f for f in result.findings if (f.location.path, f.location.line, f.code) == (path, line, code)
    )


def evidence(found) -> list[tuple[str, int, str]]:
    return [(e.location.path, e.location.line, e.label) for e in found.related]


@pytest.fixture(scope="module")
def views() -> Result:
    """The default rules plus CL113, as a project with `cdn = true` gets them."""
    return scan(VIEWS, [*DEFAULT_ON, "CL113"])


@pytest.mark.parametrize("root", [VIEWS, CMS, CMS_OFF, WAGTAIL], ids=lambda p: p.name)
def test_fixture_yields_exactly_the_marked_findings(root: Path) -> None:
    result = scan(root, [*DEFAULT_ON, "CL113"])
    assert result.errors == []
    assert triples(result) == expected_markers(fixture_files(root))


def test_fixtures_mark_every_new_rule() -> None:
    codes = {
        code for root in (VIEWS, CMS, WAGTAIL) for _, _, code in expected_markers(fixture_files(root))
    }
    assert {"CL112", "CL113", "CL208", "CL209", "CL608"} <= codes


# --- CL112 ------------------------------------------------------------------------------------


def test_csrf_endpoint_through_a_helper_names_the_chain(views: Result) -> None:
    line = line_of(VIEWS, "api/views.py", "def csrf_via_helper(request):")
    found = finding(views, "api/views.py", line, "CL112")
    assert found.message == (
        "the response carries the CSRF token in its body but may be cached: a proxy, load balancer "
        "or CDN that stores it serves one visitor's token to everyone, and their logins and form "
        "posts fail"
    )
    helper = line_of(VIEWS, "api/views.py", "    return get_token(request)")
    assert evidence(found) == [
        ("api/views.py", line + 1, "calls `_current_token` here"),
        ("api/views.py", helper, "reads the CSRF token (`get_token`) here"),
    ]


def test_token_only_template_is_the_body(views: Result) -> None:
    line = line_of(VIEWS, "api/views.py", "def csrf_template(request):")
    assert evidence(finding(views, "api/views.py", line, "CL112")) == [
        ("api/views.py", line + 1, "renders `api/token.txt`, which holds only the CSRF token")
    ]


def test_csrf_endpoint_rules_on_their_own(tmp_path: Path, monkeypatch) -> None:
    """The helper, POST-only and cookie-only views of the fixture, one by one."""
    write_tree(
        tmp_path,
        {
            "api/views.py": """from django.http import JsonResponse
from django.middleware.csrf import get_token
from django.views.decorators.cache import cache_control


def token_for(request):
    return get_token(request)


@cache_control(max_age=0, no_cache=True)
def csrf(request):
    return JsonResponse({"csrfToken": get_token(request)})


@cache_control(max_age=60)
def csrf_public(request):  # expect: CL112
    return JsonResponse({"csrfToken": get_token(request)})
""",
        },
    )
    monkeypatch.chdir(tmp_path)
    assert triples(run(tmp_path, ["CL112"])) == [("api/views.py", 16, "CL112")]


# --- CL113 ------------------------------------------------------------------------------------
def test_cl113_reads_a_subclass_of_a_project_view_the_pre_filter_skipped(tmp_path: Path) -> None:
    """``app/pages.py`` holds no pre-filter token: it is parsed because it imports a project
    view class, and its subclass renders the base's template."""
    write_tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/base.py": """from django.views.generic import TemplateView


class ContactBase(TemplateView):
    template_name = "contact.html"
""",
            "app/pages.py": """from app.base import ContactBase


class Contact(ContactBase):
    pass
""",
            "app/templates/contact.html": '<form method="post">{% csrf_token %}</form>\n',
        },
    )
    assert triples(scan(tmp_path, ["CL113"])) == [("app/base.py", 4, "CL113"), ("app/pages.py", 4, "CL113")]




def test_cdn_page_evidence_follows_the_include(views: Result) -> None:
    line = line_of(VIEWS, "pages/views.py", "def newsletter(request):")
    found = finding(views, "pages/views.py", line, "CL113")
    assert found.message == (
        "a page anonymous visitors get renders per-visitor output (a CSRF token, messages or a "
        "cookie) and is not marked private: a CDN that caches anonymous pages serves the first "
        "visitor's to everyone"
    )
    assert evidence(found) == [
        ("pages/views.py", line + 1, "renders `pages/newsletter.html`"),
        ("pages/templates/pages/newsletter.html", 3, "includes `pages/signup_form.html`"),
        ("pages/templates/pages/signup_form.html", 1, "template uses the CSRF token here"),
    ]


def test_cdn_cookie_evidence(views: Result) -> None:
    line = line_of(VIEWS, "pages/views.py", "def welcome(request):")
    cookie = line_of(VIEWS, "pages/views.py", 'response.set_cookie("seen_welcome", "1")')
    assert evidence(finding(views, "pages/views.py", line, "CL113")) == [
        ("pages/views.py", cookie, "sets a cookie here")
    ]


def test_cdn_rule_is_off_by_default_and_on_with_the_cdn_key(tmp_path: Path) -> None:
    assert not RULES["CL113"].default_enabled
    assert "CL113" not in configured_rules(RULES, [], [], [])
    (tmp_path / "pyproject.toml").write_text("[tool.cachelint]\ncdn = true\n")
    config = load_config(tmp_path)
    assert config.cdn is True and flags(config) == frozenset({"cdn"})
    chosen = configured_rules(RULES, config.select, config.extend_select, config.ignore, flags(config))
    assert "CL113" in chosen and "CL101" in chosen
    # ``ignore`` still wins, and an explicit ``select`` is the user's whole choice.
    assert "CL113" not in configured_rules(RULES, [], [], ["CL113"], flags(config))
    assert set(configured_rules(RULES, ["CL101"], [], [], flags(config))) == {"CL101"}


def test_cdn_key_must_be_a_boolean(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.cachelint]\ncdn = "yes"\n')
    with pytest.raises(ConfigError, match="`cdn` must be true or false"):
        load_config(tmp_path)


def test_cdn_key_turns_the_rule_on_from_the_command_line(tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    from cachelint.cli import cli

    write_tree(
        tmp_path,
        {
            "pyproject.toml": "[tool.cachelint]\ncdn = true\ncache = false\n",
            "pages/views.py": 'from django.shortcuts import render\n\n\ndef home(request):\n    return render(request, "pages/home.html")\n',
            "pages/templates/pages/home.html": "<form>{% csrf_token %}</form>\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", "--format", "json-lines", "."])
    assert '"CL113"' in result.output
    (tmp_path / "pyproject.toml").write_text("[tool.cachelint]\ncache = false\n")
    result = CliRunner().invoke(cli, ["check", "--format", "json-lines", "."])
    assert "CL113" not in result.output


# --- CL208 ------------------------------------------------------------------------------------


def test_cms_login_form_in_the_base_chain() -> None:
    result = scan(CMS, ["CL208"])
    found = finding(result, "site/templates/includes/login_form.html", 1, "CL208")
    assert found.message == (
        "django CMS page template `home.html` renders a CSRF token for anonymous visitors while "
        "the CMS page cache is on: the first visitor's token is cached in the page and everyone "
        "else's form posts fail"
    )
    assert evidence(found) == [
        ("config/settings.py", 13, "`home.html` is a CMS page template here"),
        ("site/templates/home.html", 1, "extends `base.html`"),
        ("site/templates/base.html", 4, "includes `includes/login_form.html`"),
        ("config/settings.py", 6, "`cms` is installed here"),
        ("config/settings.py", 6, "`CMS_PAGE_CACHE` is not set: the page cache is on"),
    ]


def test_cms_page_cache_true_is_named(tmp_path: Path, monkeypatch) -> None:
    write_tree(
        tmp_path,
        {
            "mysite/settings.py": 'INSTALLED_APPS = ["cms.apps.CMSConfig"]\nCMS_TEMPLATES = [("p.html", "P")]\nCMS_PAGE_CACHE = True\n',
            "mysite/templates/p.html": "{% csrf_token %}\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    result = run(tmp_path, ["CL208"])
    assert triples(result) == [("mysite/templates/p.html", 1, "CL208")]
    assert evidence(result.findings[0])[-1] == ("mysite/settings.py", 3, "`CMS_PAGE_CACHE = True` here")


def test_cms_without_cms_installed_is_silent(tmp_path: Path, monkeypatch) -> None:
    write_tree(
        tmp_path,
        {
            "mysite/settings.py": 'INSTALLED_APPS = ["django.contrib.sessions"]\nCMS_TEMPLATES = [("p.html", "P")]\n',
            "mysite/templates/p.html": "{% csrf_token %}\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    assert triples(run(tmp_path, ["CL208"])) == []


# --- CL209 ------------------------------------------------------------------------------------


def test_wagtail_model_without_mixin_points_at_the_middleware() -> None:
    result = scan(WAGTAIL, ["CL209"])
    line = line_of(WAGTAIL, "home/models.py", "class ReportPage(Page):")
    found = finding(result, "home/models.py", line, "CL209")
    assert found.message == (
        "page model `ReportPage` does not inherit `WagtailCacheMixin` while wagtail-cache caches "
        "pages: a private or password-protected page of this type is cached and served to "
        "visitors who are not allowed to see it"
    )
    assert evidence(found) == [("config/settings.py", 12, "wagtail-cache's middleware caches every page here")]
    legacy = finding(result, "home/models.py", line + 4, "CL209")
    assert legacy.message.startswith("page model `LegacyPage` lists `WagtailCacheMixin` after `Page`")


def test_wagtail_cache_page_on_serve_in_urls(tmp_path: Path, monkeypatch) -> None:
    write_tree(
        tmp_path,
        {
            "mysite/urls.py": """from django.urls import re_path
from wagtail import views as wagtail_views
from wagtail.urls import serve_pattern
from wagtailcache.cache import cache_page

urlpatterns = [re_path(serve_pattern, cache_page(wagtail_views.serve), name="wagtail_serve")]
""",
            "home/models.py": "from wagtail.models import Page\n\n\nclass HomePage(Page):  # expect: CL209\n    pass\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    result = run(tmp_path, ["CL209"])
    assert triples(result) == [("home/models.py", 4, "CL209")]
    assert evidence(result.findings[0]) == [
        ("mysite/urls.py", 6, "wagtail-cache's `cache_page` wraps Wagtail's `serve` here")
    ]


def test_wagtail_cache_switched_off_is_silent(tmp_path: Path, monkeypatch) -> None:
    write_tree(
        tmp_path,
        {
            "mysite/settings.py": 'MIDDLEWARE = ["wagtailcache.cache.UpdateCacheMiddleware"]\nWAGTAIL_CACHE = False\n',
            "home/models.py": "from wagtail.models import Page\n\n\nclass HomePage(Page):\n    pass\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    assert triples(run(tmp_path, ["CL209"])) == []


# --- CL608 ------------------------------------------------------------------------------------


def test_free_text_key_through_a_key_function(views: Result) -> None:
    line = line_of(VIEWS, "catalog/models.py", "return cache.get(category_key(category))")
    found = finding(views, "catalog/models.py", line, "CL608")
    assert found.message == (
        "the key of `cache.get` is built from free text (`.name`): memcached rejects keys with "
        "spaces or over 250 characters (`InvalidCacheKey`), so the request fails"
    )
    key = line_of(VIEWS, "catalog/models.py", 'return f"catalog:category:{category.name}:v1"')
    assert evidence(found) == [
        ("catalog/models.py", line, "calls `category_key` here"),
        ("catalog/models.py", key, "reads `.name` here"),
    ]


def test_lossy_username_key(views: Result) -> None:
    line = line_of(VIEWS, "catalog/models.py", 'key = f"catalog:recommended:{slugify(user.username)}"')
    found = finding(views, "catalog/models.py", line + 1, "CL608")
    assert found.message == (
        "the key of `cache.get` is built from a username passed through a lossy normaliser "
        "(`slugify`, `.lower()`): distinct users get the same key and read each other's cached data"
    )
    assert evidence(found) == [("catalog/models.py", line, "normalises the username here")]


def test_free_text_key_on_a_non_memcached_backend_says_so(tmp_path: Path, monkeypatch) -> None:
    write_tree(
        tmp_path,
        {
            "mysite/settings.py": 'CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n',
            "app/services.py": """from django.core.cache import cache


def tagged(tag):
    return cache.get("tag:" + tag.title)
""",
        },
    )
    monkeypatch.chdir(tmp_path)
    result = run(tmp_path, ["CL608"])
    assert triples(result) == [("app/services.py", 5, "CL608")]
    assert result.findings[0].message == (
        "the key of `cache.get` is built from free text (`.title`): Django warns "
        "(`CacheKeyWarning`) on keys with spaces or over 250 characters and memcached rejects "
        "them, failing the request"
    )


# --- template facts ---------------------------------------------------------------------------


def test_template_knows_output_only_logged_in_visitors_get() -> None:
    facts = parse_template(
        "{% if user.is_authenticated %}{% csrf_token %}{% else %}{{ csrf_token }}{% endif %}"
        "{% if not request.user.is_authenticated %}{{ messages }}{% else %}{% csrf_token %}{% endif %}"
        "{% if user.is_anonymous %}{% csrf_token %}{% elif x %}{{ csrf_token }}{% endif %}",
        "t.html",
    )
    marked = [(u.expression, u.authenticated_only) for u in facts.uses if u.kind]
    assert marked == [
        ("user.is_authenticated", True),
        ("csrf_token", True),
        ("csrf_token", False),
        ("request.user.is_authenticated", False),
        ("messages", False),
        ("csrf_token", True),
        ("user.is_anonymous", False),
        ("csrf_token", False),
        ("csrf_token", False),
    ]


@pytest.mark.parametrize(
    ("text", "only"),
    [
        ("{{ csrf_token }}\n", True),
        ("{% csrf_token %}", True),
        ("<p>{{ csrf_token }}</p>", False),
        ('{% extends "b.html" %}{{ csrf_token }}', False),
        ("{{ csrf_token }}{{ user }}", False),
        ("", False),
    ],
)
def test_token_only_template(text: str, only: bool) -> None:
    assert parse_template(text, "t.html").only_csrf_token is only


@pytest.mark.parametrize(
    ("condition", "only"),
    [
        ("user.is_authenticated and not user.has_accepted_policies", True),
        ("not user.is_authenticated and show_form", False),
        ("user.is_authenticated or preview", False),
        ("request.user.is_anonymous", False),
    ],
)
def test_conjunctions_with_an_auth_test(condition: str, only: bool) -> None:
    facts = parse_template(f"{{% if {condition} %}}{{% csrf_token %}}{{% else %}}{{% csrf_token %}}{{% endif %}}", "t.html")
    tokens = [u.authenticated_only for u in facts.uses if u.kind == "csrf_token"]
    # The else of a pure ``is_anonymous`` test is for logged-in visitors; no other else is.
    assert tokens == [only, condition == "request.user.is_anonymous"]


def test_lossy_username_through_a_key_method(views: Result) -> None:
    """django-wiki's per-user article key: ``slugify("{key}-{user.get_username()}")``."""
    line = line_of(VIEWS, "catalog/models.py", "return cache.get(self.content_key(user))")
    slug = line_of(VIEWS, "catalog/models.py", "return slugify(raw)")
    assert evidence(finding(views, "catalog/models.py", line, "CL608")) == [
        ("catalog/models.py", line, "calls `content_key` here"),
        ("catalog/models.py", slug, "normalises the username here"),
    ]
