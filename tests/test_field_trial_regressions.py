"""False positives (and one false negative) found by running cachelint on 18 public Django
projects, each pinned by a small self-contained project."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from cachelint.cli import cli
from cachelint.config import Config
from cachelint.engine import Result
from cachelint.facts.settings import NON_PRODUCTION_NAME, TEST_NAME, is_production_module
from cachelint.facts.values import Binding
from cachelint.finding import Span
from tests.helpers import run, triples, write_tree

BASE_SETTINGS = 'INSTALLED_APPS = ["django.contrib.staticfiles"]\n'
MANIFEST = """STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
"""


def scan(root: Path, files: dict[str, str], select: list[str], config: Config | None = None) -> Result:
    write_tree(root, {path: textwrap.dedent(source) for path, source in files.items()})
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        return run(root, select, config=config or Config(cache=False))


# --- FP1: CL104 on views whose response must vary per user --------------------------------------
# Revised by the semantic-model issue: CL104 is about pages anonymous visitors reach. Behind login,
# varying per credential is per-user caching (silent); on a public view that reads the user, one
# entry per cookie is the "cache anonymous visitors" pattern, reported.

VIEWS_HEADER = """\
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_page
from django.views.decorators.vary import vary_on_cookie
"""


def test_vary_on_cookie_inside_cache_page_is_cl104_only_on_public_views(tmp_path):
    views = VIEWS_HEADER + textwrap.dedent(
        """

        @cache_page(60)
        @vary_on_cookie
        def reports(request):
            return HttpResponse(request.user.get_username())


        @login_required
        @cache_page(60)
        @vary_on_cookie
        def orders(request):
            return render(request, "app/orders.html")


        @cache_page(60)
        @vary_on_cookie
        def front(request):
            return render(request, "app/front.html")
        """
    )
    result = scan(tmp_path, {"app/__init__.py": "", "app/views.py": views}, ["CL101", "CL102", "CL104"])
    # The login-protected page is silent; both public pages keep one entry per cookie.
    assert triples(result) == [("app/views.py", 9, "CL104"), ("app/views.py", 22, "CL104")]


def test_personalized_template_does_not_silence_cl104_on_a_public_view(tmp_path):
    views = VIEWS_HEADER + textwrap.dedent(
        """

        @cache_page(60)
        @vary_on_cookie
        def inbox(request):
            return render(request, "app/inbox.html")
        """
    )
    files = {
        "app/__init__.py": "",
        "app/views.py": views,
        "app/templates/app/inbox.html": "<p>{{ request.user.username }}</p>\n",
    }
    assert triples(scan(tmp_path, files, ["CL102", "CL104"])) == [("app/views.py", 9, "CL104")]


# --- FP3: test and CI settings are not production -----------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "pytest",
        "unittests",
        "unittest",
        "testsettings",
        "settingstest",
        "settings_test",
        "travis",
        "circleci",
        "github_actions",
        "gitlab_ci",
        "jenkins",
        "ci",
    ],
)
def test_test_and_ci_settings_are_not_production(tmp_path, name):
    files = {
        f"conf/{name}.py": "DEBUG = False\n" + BASE_SETTINGS,
        "app/__init__.py": "",
        "app/views.py": "from django.core.cache import cache\n\n\ndef f():\n    cache.set('k:v1', 1, 60)\n",
    }
    assert triples(scan(tmp_path, files, ["CL302", "CL501"])) == []


@pytest.mark.parametrize("module", ["myapp.tests.settings", "tests.settings", "myapp.test.conf.base"])
def test_any_segment_of_the_module_name_says_test(tmp_path, module):
    path = module.replace(".", "/") + ".py"
    files = {path: "DEBUG = False\n" + BASE_SETTINGS}
    package = Path(path).parent
    while str(package) != ".":
        files[f"{package}/__init__.py"] = ""
        package = package.parent
    assert triples(scan(tmp_path, files, ["CL501"])) == []


def test_is_production_module_reads_every_segment_for_non_production_only():
    debug_off = {"DEBUG": Binding(False, "s.py", Span(1))}
    assert is_production_module("deploy.settings.prod", {}) is True
    assert is_production_module("deploy.settings.dev", {}) is False
    assert is_production_module("production.settings", {}) is False  # only the last segment
    assert is_production_module("myapp.tests.settings", debug_off) is False
    assert is_production_module("mysite.settings", debug_off) is True


def test_non_production_names_do_not_swallow_ordinary_words():
    for name in ("latest", "contest.settings", "testimonials.settings", "testproj.settings", "mysite.config"):
        assert not NON_PRODUCTION_NAME.search(name), name
    for name in ("testconfig", "settingstests", "pytest", "unittests", "github"):
        assert NON_PRODUCTION_NAME.search(name), name
    # One definition: the test words of CL302's "code in test modules" are the same.
    assert TEST_NAME.search("shop.tests.test_views") and TEST_NAME.search("shop.views_test")
    assert not TEST_NAME.search("shop.ci") and not TEST_NAME.search("contest.views")


def test_cl302_test_module_pattern_is_the_shared_one():
    from cachelint.rules import process_local_cache_in_production as cl302

    assert cl302.TEST_NAME is TEST_NAME
    assert not hasattr(cl302, "_TEST_MODULE")


# --- FP4: CL501 judges bases through their leaves, once per cause, and Django 5.1+ ---------------


def test_cl501_base_module_is_judged_through_its_leaves(tmp_path):
    files = {
        "mysite/__init__.py": "",
        "mysite/settings/__init__.py": "",
        "mysite/settings/base.py": "DEBUG = False\n" + BASE_SETTINGS,
        "mysite/settings/production.py": "from .base import *\n" + MANIFEST,
        "mysite/settings/development.py": "from .base import *\nDEBUG = True\n",
    }
    assert triples(scan(tmp_path, files, ["CL501"])) == []


def test_cl501_missing_storage_is_reported_once_at_the_production_leaf(tmp_path):
    files = {
        "mysite/__init__.py": "",
        "mysite/settings/__init__.py": "",
        "mysite/settings/common.py": "DEBUG = False\n" + BASE_SETTINGS,
        "mysite/settings/prod.py": "from .common import *\n",
    }
    result = scan(tmp_path, files, ["CL501"])
    assert triples(result) == [("mysite/settings/prod.py", 1, "CL501")]


def test_cl501_missing_storage_in_a_production_chain_is_reported_at_the_leaf(tmp_path):
    files = {
        "mysite/__init__.py": "",
        "mysite/settings/__init__.py": "",
        "mysite/settings/production.py": "DEBUG = False\n" + BASE_SETTINGS,
        "mysite/settings/production_eu.py": "from .production import *\n",
    }
    result = scan(tmp_path, files, ["CL501"])
    assert triples(result) == [("mysite/settings/production_eu.py", 1, "CL501")]


def test_cl501_non_hashing_storage_in_a_base_is_reported_once_at_its_definition(tmp_path):
    files = {
        "mysite/__init__.py": "",
        "mysite/settings/__init__.py": "",
        "mysite/settings/common.py": (
            "DEBUG = False\n" + BASE_SETTINGS + 'STATICFILES_STORAGE = "django.contrib.staticfiles.storage.'
            'StaticFilesStorage"\n'
        ),
        "mysite/settings/prod.py": "from .common import *\n",
        "mysite/settings/live.py": "from .common import *\n",
    }
    config = Config(cache=False, django_version="4.2")
    result = scan(tmp_path, files, ["CL501"], config)
    assert triples(result) == [("mysite/settings/common.py", 3, "CL501")]


LEGACY = (
    "DEBUG = False\n"
    + BASE_SETTINGS
    + 'STATICFILES_STORAGE = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"\n'
)


@pytest.mark.parametrize("version", ["5.1", "5.2", None])
def test_cl501_legacy_setting_is_ignored_from_django_5_1(tmp_path, version):
    config = Config(cache=False, django_version=version or "")
    result = scan(tmp_path, {"mysite/settings.py": LEGACY}, ["CL501"], config)
    assert triples(result) == [("mysite/settings.py", 3, "CL501")]
    message = result.findings[0].message
    assert "ignores the legacy `STATICFILES_STORAGE`" in message
    assert f"Django {version or '6.1'}" in message


def test_cl501_legacy_setting_counts_before_django_5_1(tmp_path):
    result = scan(
        tmp_path, {"mysite/settings.py": LEGACY}, ["CL501"], Config(cache=False, django_version="5.0")
    )
    assert triples(result) == []


def test_cl501_storages_wins_over_an_ignored_legacy_setting(tmp_path):
    source = LEGACY + MANIFEST
    assert triples(scan(tmp_path, {"mysite/settings.py": source}, ["CL501"])) == []


# --- FP5: CL110 on middleware follows MIDDLEWARE order ------------------------------------------

HTMX_MIDDLEWARE = """\
class HtmxVaryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        anonymous = request.user.is_anonymous
        response = self.get_response(request)
        response["Vary"] = "HX-Request"
        return response


class StripVaryMiddleware:
    def process_response(self, request, response):
        del response["Vary"]
        return response
"""


def middleware_settings(*names: str) -> str:
    listed = "".join(f'    "{name}",\n' for name in names)
    return f"MIDDLEWARE = [\n{listed}]\n"


SESSION = "django.contrib.sessions.middleware.SessionMiddleware"


def test_cl110_middleware_inside_session_middleware_is_not_flagged(tmp_path):
    files = {
        "app/__init__.py": "",
        "app/middleware.py": HTMX_MIDDLEWARE,
        "mysite/settings.py": middleware_settings(
            SESSION, "app.middleware.HtmxVaryMiddleware", "app.middleware.StripVaryMiddleware"
        ),
    }
    assert triples(scan(tmp_path, files, ["CL110"])) == []


def test_cl110_unlisted_middleware_is_not_flagged(tmp_path):
    files = {
        "app/__init__.py": "",
        "app/middleware.py": HTMX_MIDDLEWARE,
        "mysite/settings.py": middleware_settings(SESSION),
    }
    assert triples(scan(tmp_path, files, ["CL110"])) == []


def test_cl110_middleware_outside_session_middleware_is_flagged(tmp_path):
    files = {
        "app/__init__.py": "",
        "app/middleware.py": HTMX_MIDDLEWARE,
        "mysite/settings.py": middleware_settings(
            "app.middleware.HtmxVaryMiddleware", "app.middleware.StripVaryMiddleware", SESSION
        ),
    }
    result = scan(tmp_path, files, ["CL110"])
    assert triples(result) == [("app/middleware.py", 8, "CL110"), ("app/middleware.py", 14, "CL110")]
    labels = [(e.location.path, e.location.line, e.label) for f in result.findings for e in f.related]
    assert ("mysite/settings.py", 2, "listed in MIDDLEWARE before `SessionMiddleware` here") in labels


def test_cl110_views_keep_their_behaviour(tmp_path):
    views = """\
def home(request):
    name = request.user.username
    response = render_page(name)
    response["Vary"] = "Accept-Language"
    return response
"""
    files = {"app/__init__.py": "", "app/views.py": views, "mysite/settings.py": middleware_settings(SESSION)}
    assert triples(scan(tmp_path, files, ["CL110"])) == [("app/views.py", 4, "CL110")]


# --- FP6: CL601 on keys kept until the code invalidates them ------------------------------------


def test_cl601_skips_keys_that_are_deleted_counted_or_refreshed(tmp_path):
    source = """\
from django.core.cache import cache


def grid_version(gid):
    cache.set(f"grid:v:{gid}", 2, None)


def bump(gid):
    cache.incr(f"grid:v:{ gid }")


class Site:
    def year(self, y):
        cache.set("site:year:v1", y, timeout=None)

    def save(self):
        cache.delete('site:year:v1')


def menu(items):
    cache.set("menu:v1", items, None)


def forget_menus():
    cache.delete_many(["menu:v1", "footer:v1"])


def banner():
    cache.set("banner:v1", "Sale", None)  # expect: CL601
    cache.touch("banner:v1", None)  # expect: CL601


def forever():
    cache.set("forever:v1", 1, None)  # expect: CL601
    cache.get("forever:v1")
"""
    result = scan(tmp_path, {"app/__init__.py": "", "app/services.py": source}, ["CL601"])
    assert triples(result) == [
        ("app/services.py", 29, "CL601"),
        ("app/services.py", 30, "CL601"),
        ("app/services.py", 34, "CL601"),
    ]


def test_cl601_invalidation_in_another_module_counts(tmp_path):
    # Issue 11, point 6: a signal receiver in another module deletes the key.
    files = {
        "app/__init__.py": "",
        "app/a.py": 'from django.core.cache import cache\n\n\ndef f():\n    cache.set("k:v1", 1, None)\n',
        "app/b.py": 'from django.core.cache import cache\n\n\ndef g():\n    cache.delete("k:v1")\n',
    }
    assert triples(scan(tmp_path, files, ["CL601"])) == []


# --- G: CL301 knows django-redis-cache -----------------------------------------------------------

REDIS_CACHE = """CACHES = {
    "default": {
        "BACKEND": "redis_cache.RedisCache",
        "LOCATION": "127.0.0.1:6379",
    },
    "shards": {
        "BACKEND": "redis_cache.ShardedRedisCache",
        "LOCATION": ["127.0.0.1:6379", "127.0.0.1:6380"],
        "OPTIONS": {"DB": 2, "SOCKET_TIMEOUT": 3},
    },
    "pooled": {
        "BACKEND": "redis_cache.RedisCache",
        "OPTIONS": {"CONNECTION_POOL_CLASS_KWARGS": {"socket_timeout": 3, "socket_connect_timeout": 3}},
    },
}
"""
REDIS_CACHE_FIXED = """CACHES = {
    "default": {
        "BACKEND": "redis_cache.RedisCache",
        "LOCATION": "127.0.0.1:6379",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 5, "SOCKET_TIMEOUT": 5},
    },
    "shards": {
        "BACKEND": "redis_cache.ShardedRedisCache",
        "LOCATION": ["127.0.0.1:6379", "127.0.0.1:6380"],
        "OPTIONS": {"DB": 2, "SOCKET_TIMEOUT": 3, "SOCKET_CONNECT_TIMEOUT": 5},
    },
    "pooled": {
        "BACKEND": "redis_cache.RedisCache",
        "OPTIONS": {"CONNECTION_POOL_CLASS_KWARGS": {"socket_timeout": 3, "socket_connect_timeout": 3}},
    },
}
"""


def test_cl301_flags_django_redis_cache_without_timeouts(tmp_path):
    result = scan(tmp_path, {"mysite/settings.py": REDIS_CACHE}, ["CL301"])
    assert triples(result) == [("mysite/settings.py", 3, "CL301"), ("mysite/settings.py", 7, "CL301")]
    messages = [f.message for f in result.findings]
    assert "`SOCKET_CONNECT_TIMEOUT` or `SOCKET_TIMEOUT`" in messages[0]
    assert "`SOCKET_CONNECT_TIMEOUT`:" in messages[1]


def test_cl301_fix_adds_timeouts_to_django_redis_cache(tmp_path, monkeypatch):
    write_tree(tmp_path, {"manage.py": "", "mysite/settings.py": REDIS_CACHE})
    monkeypatch.chdir(tmp_path)
    first = CliRunner().invoke(cli, ["check", "--no-cache", "--select", "CL301", "--fix", "."])
    assert "fixed 2 findings in 1 file" in first.output, first.output
    assert first.exit_code == 0
    assert (tmp_path / "mysite/settings.py").read_text() == REDIS_CACHE_FIXED
    second = CliRunner().invoke(cli, ["check", "--no-cache", "--select", "CL301", "--fix", "."])
    assert "fixed 0 findings in 0 files" in second.output


# --- CL110: deleting the session is not reading it --------------------------------------------


def test_cl110_del_request_session_is_not_a_session_read(tmp_path):
    """A decorator that deletes ``request.session`` so that an app-shell page is never personal,
    then sets its own ``Vary``: nothing read the session, so ``Vary: Cookie`` is not dropped."""
    views = """\
from django.views.decorators.cache import cache_page


def shell(view_func):
    def inner(request, *args, **kwargs):
        del request.session
        response = view_func(request, *args, **kwargs)
        response["Vary"] = "accept-encoding, accept"
        return response

    return inner


def personal(view_func):
    def inner(request, *args, **kwargs):
        request.session["seen"] = True
        response = view_func(request, *args, **kwargs)
        response["Vary"] = "accept-encoding, accept"
        return response

    return inner
"""
    result = scan(tmp_path, {"manage.py": "", "app/__init__.py": "", "app/decorators.py": views}, ["CL110"])
    assert triples(result) == [("app/decorators.py", 18, "CL110")]


# --- CL604: a sanitizer applied to what a helper returns ---------------------------------------
# Found on a document manager (``int()`` of a query parameter read by a helper, then a model
# looked up by it) and a school intranet (``datetime.strptime`` of a query parameter).

SANITIZED_HELPERS = """\
from datetime import datetime

from django.core.cache import cache

from .models import Document


def version_param(request):
    return request.GET.get("version")


def pick_version(request):
    raw = version_param(request)
    version_id = int(raw)
    return Document.objects.filter(id=version_id).first()


def thumbnail_stamp(request, pk):
    doc = pick_version(request)
    return cache.get(f"doc_{doc.id}_thumb")


def unsanitized(request):
    raw = version_param(request)
    return cache.get(f"doc_{raw}_thumb")


def parse_day(value):
    return datetime.strptime(value, "%Y-%m-%d")


def bell_schedule(request):
    day = parse_day(request.GET["date"])
    return cache.get(f"bell:{day.strftime('%Y-%m-%d')}")


def raw_day(request):
    day = request.GET["date"].strip()
    return cache.get(f"bell:{day}")
"""


def test_cl604_sanitizer_on_a_helpers_result_drops_the_raw_input(tmp_path):
    result = scan(
        tmp_path,
        {"manage.py": "", "docs/__init__.py": "", "docs/models.py": "", "docs/views.py": SANITIZED_HELPERS},
        ["CL604"],
    )
    assert triples(result) == [("docs/views.py", 25, "CL604"), ("docs/views.py", 39, "CL604")]
    assert "raw `request.GET`" in result.findings[0].message


# --- CL301: ``CACHES = _parse_caches()`` -------------------------------------------------------
# Found on a document manager: the caches come from a module-level function that returns a dict
# literal. A parameterless ``def f(): return EXPR`` is read as EXPR; anything else stays unknown.

CACHES_FROM_FUNCTION = """\
import os

REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379")


def _parse_caches():
    \"\"\"The caches, one per role.\"\"\"
    return {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL},
    }


CACHES = _parse_caches()
"""

CACHES_FROM_SAFE_FUNCTIONS = """\
def _with_timeouts():
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "OPTIONS": {"socket_connect_timeout": 5, "socket_timeout": 5},
        },
    }


def _from(url):
    return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}


def _built():
    caches = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
    return caches


CACHES = _with_timeouts()
OTHER_CACHES = _from("redis://x")
MORE_CACHES = _built()
"""


def test_cl301_reads_caches_returned_by_a_parameterless_function(tmp_path):
    result = scan(tmp_path, {"mysite/settings.py": CACHES_FROM_FUNCTION}, ["CL301"])
    assert triples(result) == [("mysite/settings.py", 9, "CL301")]
    assert "`socket_connect_timeout` or `socket_timeout`" in result.findings[0].message


def test_cl301_function_with_timeouts_or_parameters_is_silent(tmp_path):
    files = {"mysite/settings.py": CACHES_FROM_SAFE_FUNCTIONS.replace("OTHER_CACHES", "CACHES", 1)}
    assert triples(scan(tmp_path / "a", files, ["CL301"])) == []
    files = {"mysite/settings.py": CACHES_FROM_SAFE_FUNCTIONS.replace("MORE_CACHES", "CACHES", 1)}
    assert triples(scan(tmp_path / "b", files, ["CL301"])) == []
    assert triples(scan(tmp_path / "c", {"mysite/settings.py": CACHES_FROM_SAFE_FUNCTIONS}, ["CL301"])) == []


# --- CL604: a value checked against an allow-list ----------------------------------------------
# Found on a documentation host: the domain of a URL parameter must match one of the allowed
# anchored patterns (``for ... else: return``) before it goes into a rate-limit key.

ALLOW_LISTED = """\
import re

from django.core.cache import cache
from django.http import HttpResponseBadRequest

ALLOWED_DOMAINS = [r"^docs\\\\.example\\\\.org$"]
SORTS = ("new", "old")


def embed(request):
    domain = request.GET.get("domain", "")
    for allowed in ALLOWED_DOMAINS:
        if re.match(allowed, domain):
            break
    else:
        return HttpResponseBadRequest()
    return cache.get(f"embed:{domain}")


def listing(request):
    sort = request.GET.get("sort", "new")
    if sort not in SORTS:
        return HttpResponseBadRequest()
    return cache.get(f"list:{sort}")


def listing_default(request):
    sort = request.GET.get("sort", "new")
    if sort not in SORTS:
        sort = "new"
    return cache.get(f"list:{sort}")


def embed_unchecked(request):
    domain = request.GET.get("domain", "")
    for allowed in ALLOWED_DOMAINS:
        if re.match(allowed, domain):
            print("known")
    return cache.get(f"embed:{domain}")


def listing_logged(request):
    sort = request.GET.get("sort", "new")
    if sort not in SORTS:
        print("unknown sort")
    return cache.get(f"list:{sort}")
"""


def test_cl604_allow_listed_values_are_not_raw_input(tmp_path):
    result = scan(tmp_path, {"manage.py": "", "app/__init__.py": "", "app/views.py": ALLOW_LISTED}, ["CL604"])
    assert triples(result) == [("app/views.py", 39, "CL604"), ("app/views.py", 46, "CL604")]
