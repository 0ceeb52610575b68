"""The low-level cache API rules (CL601-CL607) and the hard-coded static URL rule (CL504).

``fixtures/cache_api_project`` mixes every leak with its safe look-alike; expected findings are
marked on their lines (``# expect: CL603``, ``{# expect: CL504 #}``), written from RULES.md.
The unit tests below pin the lexical reading of keys and values, and each rule's edges.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from cachelint.cache_calls import enclosing_callees, is_test_path, mask_strings
from cachelint.config import Config
from cachelint.engine import Result
from cachelint.facts.views import CacheCall, FunctionFacts
from cachelint.finding import Finding, Span
from cachelint.rules.cache_key_from_raw_request_input import raw_request_input
from cachelint.rules.rendered_html_cached_without_language import key_may_carry_language, renders_html
from cachelint.rules.user_data_under_shared_key import key_is_shared, user_dependency
from tests.helpers import expected_markers, run, triples, write_tree
from tests.test_fixtures import fixture_files, line_of

PROJECT = Path(__file__).parent / "fixtures" / "cache_api_project"
CODES = ["CL504", "CL601", "CL602", "CL603", "CL604", "CL605", "CL606", "CL607"]


def scan(root: Path, files: dict[str, str] | None = None, select: list[str] | None = None) -> Result:
    if files is not None:
        write_tree(root, {path: textwrap.dedent(source) for path, source in files.items()})
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        return run(root, select or CODES, config=Config(cache=False))


@pytest.fixture(scope="module")
def project() -> Result:
    return scan(PROJECT)


def finding(result: Result, code: str, path: str, line: int) -> Finding:
    matches = [f for f in result.findings if (f.code, f.location.path, f.location.line) == (code, path, line)]
    assert len(matches) == 1, f"expected one {code} at {path}:{line}, got {matches}"
    return matches[0]


def related(found: Finding) -> list[tuple[str, int, str]]:
    return [(e.location.path, e.location.line, e.label) for e in found.related]


# === golden test ==================================================================================


def test_project_has_markers_for_every_rule():
    codes = {code for _, _, code in expected_markers(fixture_files(PROJECT))}
    assert codes == set(CODES)


def test_project_yields_exactly_the_marked_findings(project):
    assert project.errors == []
    assert triples(project) == expected_markers(fixture_files(PROJECT))


def test_cl603_evidence_is_the_read_inside_the_call(project):
    line = line_of(PROJECT, "shop/views.py", "lambda: list(request.user.orders")
    found = finding(project, "CL603", "shop/views.py", line - 2)
    assert "`request.user.orders`" in found.message and '`"shop:dashboard:v1"`' in found.message
    assert related(found) == [("shop/views.py", line, "reads `request.user` here")]
    assert found.hint and "request.user.pk" in found.hint


def test_cl603_evidence_for_a_user_argument(project):
    line = line_of(PROJECT, "shop/views.py", '"shop:profile_card:v1", lambda')
    found = finding(project, "CL603", "shop/views.py", line)
    assert related(found) == [
        (
            "shop/views.py",
            line_of(PROJECT, "shop/views.py", "def profile_card(user)"),
            "`profile_card` takes the `user` argument here",
        )
    ]


def test_cl606_helper_called_from_a_view(project):
    line = line_of(PROJECT, "blog/cache_utils.py", "cache.iter_keys(")
    found = finding(project, "CL606", "blog/cache_utils.py", line)
    assert related(found) == [
        (
            "blog/views.py",
            line_of(PROJECT, "blog/views.py", "    purge_post_pages()"),
            "`publish` (on the request path) calls it here",
        )
    ]


def test_cl605_evidence_is_the_shared_backend(project):
    found = finding(project, "CL605", "blog/signals.py", line_of(PROJECT, "blog/signals.py", "cache.clear()"))
    assert related(found) == [
        (
            "config/settings.py",
            line_of(PROJECT, "config/settings.py", '"default": {'),
            "the `default` cache is `RedisCache` here",
        )
    ]


def test_cl607_evidence_is_the_locale_middleware_and_a_translated_template(project):
    found = finding(
        project, "CL607", "blog/views.py", line_of(PROJECT, "blog/views.py", '"blog:sidebar:v1", lambda')
    )
    assert related(found)[0] == (
        "config/settings.py",
        line_of(PROJECT, "config/settings.py", '"django.middleware.locale.LocaleMiddleware"'),
        "`LocaleMiddleware` picks each visitor's language here",
    )
    assert related(found)[1][2].startswith("template translates text")


def test_cl504_message_suggests_the_static_tag(project):
    found = finding(
        project, "CL504", "templates/base.html", line_of(PROJECT, "templates/base.html", "shop.css")
    )
    assert '{% static "css/shop.css" %}' in found.message
    assert (
        found.location.span.col
        == line_of_text(PROJECT / "templates/base.html", "shop.css").index("/assets/") + 1
    )
    assert related(found) == [
        (
            "config/settings.py",
            line_of(PROJECT, "config/settings.py", "STATIC_URL"),
            "`STATIC_URL` is set here",
        )
    ]


def line_of_text(path: Path, needle: str) -> str:
    return next(line for line in path.read_text(encoding="utf-8").splitlines() if needle in line)


# === lexical helpers ==============================================================================


def test_mask_strings_keeps_fstring_fields_and_positions():
    text = 'f"cart:{request.session.session_key}" + "user_count"  # user'
    masked = mask_strings(text)
    assert len(masked) == len(text)
    assert "request.session.session_key" in masked
    assert "user_count" not in masked and "# user" not in masked
    assert mask_strings("rb'\\d{user}'") == "  '" + " " * 8 + "'"
    nested = mask_strings("f\"{d['user']}:{{user}}\"")
    assert "d[" in nested and "user" not in nested


def test_enclosing_callees():
    masked = mask_strings("f\"x:{SORTS.get(request.GET.get('s'), 'new')}\"")
    assert enclosing_callees(masked, masked.index("request")) == ["SORTS.get"]


@pytest.mark.parametrize(
    ("path", "is_test"),
    [
        ("app/tests/test_views.py", True),
        ("app/tests.py", True),
        ("test_app.py", True),
        ("app/views_test.py", True),
        ("conftest.py", True),
        ("app/views.py", False),
        ("app/testimonials.py", False),
        ("latest/views.py", False),
    ],
)
def test_is_test_path(path, is_test):
    assert is_test_path(path) is is_test


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("f\"s:{request.GET.get('q')}\"", "request.GET"),
        ('"p:" + request.get_full_path()', "request.get_full_path()"),
        ("f\"h:{self.request.headers['X-Token']}\"", "request.headers"),
        ("request.path", "request.path"),
        ('f"c:{request.COOKIES}"', "request.COOKIES"),
        ("f\"ip:{request.META['HTTP_X_FORWARDED_FOR']}\"", "request.META"),
        ("f\"ip:{request.META['REMOTE_ADDR']}\"", None),
        ("f\"ip:{request.META.get('REMOTE_ADDR')}\"", None),
        ("hashlib.sha1(request.GET.urlencode().encode()).hexdigest()", None),
        ("make_template_fragment_key('list', [request.GET.get('page')])", None),
        ("f\"p:{int(request.GET.get('page', 1))}\"", None),
        ("f\"p:{int(page)}:{request.GET.get('q')}\"", "request.GET"),
        ("f\"s:{ALLOWED.get(request.GET.get('sort'), 'new')}\"", None),
        ("f\"s:{choices.get(request.GET.get('sort'))}\"", "request.GET"),
        ('"help:request.GET"', None),
        ('f"m:{request.method}"', None),
        ('f"u:{request.user.pk}"', None),
        ('f"x:{prerequest.GET}"', None),
    ],
)
def test_raw_request_input(key, raw):
    assert raw_request_input(key) == raw


def call(key_text: str | None, value_text: str | None = "1", key: object = None) -> CacheCall:
    from cachelint.facts.values import UNKNOWN

    literal = key if key is not None else UNKNOWN
    return CacheCall("set", "default", Span(1), key_text=key_text, key=literal, value_text=value_text)


@pytest.mark.parametrize(
    ("key_text", "shared"),
    [
        ('"dashboard"', True),
        ("DASHBOARD_KEY", True),
        ("settings.DASHBOARD_KEY", True),
        ('f"stats:{today}"', True),
        ('"page:%s" % request.path', True),
        ("f\"q:{request.GET.get('q')}\"", True),
        ('f"d:{request.user.pk}"', False),
        ('f"d:{user.id}"', False),
        ('f"d:{user_id}"', False),
        ('f"d:{uid}"', False),
        ('f"cart:{request.session.session_key}"', False),
        ('f"d:{session_key}"', False),
        ('"d:{}".format(request.user.username)', False),
        ("f\"d:{request.COOKIES.get('sessionid')}\"", False),
        ('f"d:{make_key(request)}"', False),
        ('f"{prefix}:dashboard"', False),
        ("key", False),
        ("self.cache_key", False),
        ("build(today)", False),
        (None, False),
    ],
)
def test_key_is_shared(key_text, shared):
    literal = key_text[1:-1] if key_text and re.fullmatch(r'"[^"]*"', key_text) else None
    assert key_is_shared(call(key_text, key=literal)) is shared


@pytest.mark.parametrize(
    ("value_text", "params", "reads_user", "dependency"),
    [
        ("request.user.orders.count()", ("request",), True, ("request.user.orders", "request.user")),
        (
            "lambda: request.session.get('cart')",
            ("request",),
            False,
            ("request.session.get", "request.session"),
        ),
        ("self.request.user", ("self",), True, ("self.request.user", "request.user")),
        ("user.profile.bio", ("user",), False, ("user.profile", "request.user")),
        ("user.profile.bio", ("team",), False, None),
        ("User.objects.count()", ("request",), True, None),
        ("order.user.email", ("request",), True, None),
        ("request.user.pk", ("request",), True, None),
        ("str(request.user.id)", ("request",), True, None),
        ("request.session.session_key", ("request",), False, None),
        ('"request.user"', ("request",), True, None),
        ("session.query(Product).count()", ("request",), True, None),
        ("users", ("request", "user"), True, None),
    ],
)
def test_user_dependency(value_text, params, reads_user, dependency):
    from cachelint.facts.views import Access

    accesses = (Access("request.user", Span(1)),) if reads_user else ()
    function = FunctionFacts("f", Span(1), accesses=accesses, params=params)
    assert user_dependency(call('"k"', value_text), function) == dependency


@pytest.mark.parametrize(
    ("value_text", "renders"),
    [
        ('render_to_string("x.html", ctx)', True),
        ('lambda: loader.render_to_string("x.html")', True),
        ("template.render(context)", True),
        ("self.email_template.render(context)", True),
        ('get_template("x.html").render({"a": (1)})', True),
        ('Template("<p>{{ x }}</p>").render(Context())', True),
        ('get_template("x.html")', False),
        ("JSONRenderer().render(data)", False),
        ("markdown.render(text)", False),
        ('"render_to_string(x)"', False),
    ],
)
def test_renders_html(value_text, renders):
    assert renders_html(value_text) is renders


@pytest.mark.parametrize(
    ("key_text", "carries"),
    [
        ('"sidebar:v1"', False),
        ('f"sidebar:v1:{today}"', False),
        ("SIDEBAR_KEY", False),
        ('f"sidebar:v1:{get_language()}"', True),
        ('f"sidebar:v1:{request.LANGUAGE_CODE}"', True),
        ('f"sidebar:v1:{lang}"', True),
        ('f"sidebar:v1:{request.path}"', True),
        ("key", True),
        ("make_template_fragment_key('sidebar', [language])", True),
        ('f"{key_prefix}:sidebar"', True),
    ],
)
def test_key_may_carry_language(key_text, carries):
    literal = key_text[1:-1] if re.fullmatch(r'"[^"]*"', key_text) else object()
    assert key_may_carry_language(literal, key_text) is carries


# === rule edges on small projects ================================================================

VIEW_RENDERING_SIDEBAR = """\
    from django.core.cache import cache
    from django.template.loader import render_to_string


    def sidebar(request):
        return cache.get_or_set("blog:sidebar:v1", lambda: render_to_string("sidebar.html"), 60)
"""


def test_cl607_silent_without_multilingual_evidence(tmp_path):
    files = {"blog/views.py": VIEW_RENDERING_SIDEBAR, "mysite/settings.py": 'MIDDLEWARE = ["x.Y"]\n'}
    assert triples(scan(tmp_path, files, ["CL607"])) == []


def test_cl607_silent_when_i18n_is_off(tmp_path):
    files = {
        "blog/views.py": VIEW_RENDERING_SIDEBAR,
        "mysite/settings.py": 'USE_I18N = False\nMIDDLEWARE = ["django.middleware.locale.LocaleMiddleware"]\n',
    }
    assert triples(scan(tmp_path, files, ["CL607"])) == []


def test_cl607_silent_in_a_single_language_project(tmp_path):
    """Without LocaleMiddleware every page renders in LANGUAGE_CODE: nothing to vary by."""
    files = {
        "blog/views.py": VIEW_RENDERING_SIDEBAR,
        "mysite/settings.py": 'MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware"]\n',
        "templates/menu.html": '{% load i18n %}{% translate "Home" %}',
    }
    assert scan(tmp_path, files, ["CL607"]).findings == []


def test_cl605_silent_for_process_local_alias_and_commands(tmp_path):
    files = {
        "mysite/settings.py": """\
            CACHES = {
                "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            }
        """,
        "app/views.py": """\
            from django.core.cache import cache


            def reset(request):
                cache.clear()
        """,
        "app/management/commands/flush_cache.py": """\
            from django.core.cache import cache


            def handle():
                cache.clear()
        """,
        "app/migrations/0002_flush.py": """\
            from django.core.cache import cache


            def forwards(apps, schema_editor):
                cache.clear()
        """,
    }
    assert triples(scan(tmp_path, files, ["CL605"])) == []


def test_cl605_silent_in_the_test_runner_the_settings_name(tmp_path):
    """``TEST_RUNNER`` makes ``app/runner.py`` test code whatever its name; the same call in a
    module the settings do not name is still reported."""
    clear = """\
        from django.core.cache import caches


        def setup_worker():
            caches["default"].clear()
    """
    files = {
        "mysite/settings.py": """\
            TEST_RUNNER = "app.runner.ParallelRunner"
            CACHES = {
                "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://cache:6379/1"},
            }
        """,
        "mysite/__init__.py": "",
        "app/__init__.py": "",
        "app/runner.py": clear,
        "app/maintenance.py": clear,
    }
    assert triples(scan(tmp_path, files, ["CL605"])) == [("app/maintenance.py", 5, "CL605")]


def test_cl605_flags_when_one_environment_shares_the_cache(tmp_path):
    files = {
        "mysite/settings/dev.py": 'CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n',
        "mysite/settings/prod.py": """\
            CACHES = {
                "default": {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache"},
            }
        """,
        "app/views.py": """\
            from django.core.cache import caches


            def reset(request):
                caches["default"].clear()
        """,
    }
    [found] = scan(tmp_path, files, ["CL605"]).findings
    assert found.message.startswith("`cache.clear()` flushes")  # caches["default"] is `cache`
    assert related(found) == [("mysite/settings/prod.py", 2, "the `default` cache is `PyMemcacheCache` here")]


@pytest.mark.parametrize(
    ("settings", "flagged"),
    [
        (None, ["/static/app.css"]),
        ('STATIC_URL = "/static/"\n', ["/static/app.css"]),
        ('STATIC_URL = "static/"\n', ["/static/app.css"]),
        ('STATIC_URL = "/assets/"\n', ["/assets/app.js"]),
        ('STATIC_URL = "https://cdn.example.com/static/"\n', []),
        ('import os\nSTATIC_URL = os.environ["STATIC_URL"]\n', []),
    ],
)
def test_cl504_static_url_from_settings(tmp_path, settings, flagged):
    files = {
        "templates/page.html": """\
            {% load static %}
            <link href="/static/app.css" rel="stylesheet">
            <script src="/assets/app.js"></script>
            <a href="/staticpages/about/">About</a>
            <img src="//cdn.example.com/static/logo.png">
        """,
    }
    if settings is not None:
        files["mysite/settings.py"] = settings
    result = scan(tmp_path, files, ["CL504"])
    assert sorted(f.message.split("`")[1] for f in result.findings) == flagged


def test_cl606_scopes(tmp_path):
    files = {
        "app/views.py": """\
            from django.core.cache import cache
            from django.views import View


            class Purge(View):
                def post(self, request):
                    self._purge()

                def _purge(self):
                    cache.delete_pattern("a:*")  # in a view class: flagged


            class Helper:
                def keys_of(self):
                    return cache.keys("b:*")  # no request anywhere: not flagged


            class Middleware:
                def __init__(self, get_response):
                    self.get_response = get_response

                def __call__(self, request):
                    self._scan()
                    return self.get_response(request)

                def _scan(self):
                    list(cache.iter_keys("c:*"))  # called from __call__(request): flagged
        """,
    }
    result = scan(tmp_path, files, ["CL606"])
    assert triples(result) == [("app/views.py", 10, "CL606"), ("app/views.py", 27, "CL606")]
    middleware = next(f for f in result.findings if f.location.line == 27)
    assert related(middleware) == [("app/views.py", 23, "`__call__` (on the request path) calls it here")]


def test_cl602_reports_each_key_once_per_file(tmp_path):
    files = {
        "app/services.py": """\
            from django.core.cache import cache


            def a():
                cache.set("totals", 1, 60)
                cache.get("totals")


            def b():
                cache.delete("totals")
                cache.get("app:totals")
                cache.get("totals_v3")
                cache.get("services_totals")  # module name, not a package: no namespace
                cache.get("app_totals")  # the app's package names it
        """,
    }
    assert triples(scan(tmp_path, files, ["CL602"])) == [
        ("app/services.py", 5, "CL602"),
        ("app/services.py", 13, "CL602"),
    ]


def test_rules_skip_test_code(tmp_path):
    files = {
        "app/tests/test_cache.py": """\
            from django.core.cache import cache


            def test_dashboard(request):
                cache.set("dashboard", request.user.orders.count(), None)
                cache.get(f"q:{request.GET['q']}")
                cache.keys("*")
                cache.clear()
        """,
    }
    assert triples(scan(tmp_path, files)) == []


def test_async_twins_are_covered_once_the_facts_carry_their_arguments():
    """``aset``/``aget_or_set`` get their value and timeout slots from the fact layer."""
    from cachelint.facts.python import PythonFacts
    from cachelint.facts.views import Access, ViewFacts
    from cachelint.project import ProjectModel
    from cachelint.registry import all_rules

    calls = (
        CacheCall(
            "aset", "default", Span(3), key_text='"news:v1"', key="news:v1", value_text="1", timeout=None
        ),
        CacheCall(
            "aget_or_set",
            "default",
            Span(4),
            key_text='"home:v1"',
            key="home:v1",
            value_text="request.user.orders.count()",
            timeout=60,
        ),
    )
    function = FunctionFacts(
        "view", Span(1), accesses=(Access("request.user", Span(4)),), cache_calls=calls, params=("request",)
    )
    model = ProjectModel(
        python={"app/views.py": PythonFacts("app/views.py", "app.views", ViewFacts((function,)), None)}
    )
    rules = all_rules()
    found = [(f.code, f.location.line) for code in ("CL601", "CL603") for f in rules[code].check(model)]
    assert found == [("CL601", 3), ("CL603", 4)]


# === CL601: invalidation found wherever it lives (issue 11, point 6) ==============================

INVALIDATION = Path(__file__).parent / "fixtures" / "invalidation_project"


def test_invalidation_project_yields_exactly_the_marked_findings(tmp_path):
    """Each unexpired key deleted elsewhere (by key function, key template, attribute, constant,
    ``delete_pattern``, ``delete_many``), rewritten by a sibling handler or by a management
    command is silent; its look-alike that nothing invalidates is found. Every rule runs: a
    ``clear()`` under ``if settings.TESTING:`` is test-only code (CL605)."""
    result = scan(INVALIDATION, select=["ALL"])
    assert result.errors == []
    assert triples(result) == expected_markers(fixture_files(INVALIDATION))
    assert len(result.findings) == 8
    assert {f.code for f in result.findings} == {"CL601"}


def shapes_of(body: str, prelude: str = "") -> list[tuple[str, ...]]:
    from cachelint.facts.python import parse_python

    body = textwrap.indent(body, "    ")
    source = f"from django.core.cache import cache\n{prelude}\n\ndef f(obj, pk):\n{body}"
    facts = parse_python(source.encode(), "app/m.py", "app.m", False, False)
    function = next(f for f in facts.views.functions if f.name == "f")
    return [call.key_shapes for call in function.cache_calls]


@pytest.mark.parametrize(
    ("prelude", "body", "shapes"),
    [
        ("", 'cache.delete("user:1")', ("s:user:1",)),
        ("", 'cache.delete(f"user:{pk}:card")', ("s:user:\x00:card",)),
        ('PREFIX = "shop"', 'cache.delete(f"{PREFIX}:{pk}")', ("s:shop:\x00",)),
        ("", 'cache.delete("user:%s:%d" % (pk, 1))', ("s:user:\x00:\x00",)),
        ("", 'cache.delete("user:{}".format(pk))', ("s:user:\x00",)),
        ("", 'cache.delete("user:" + str(pk))', ("s:user:\x00",)),
        ("", 'key = "user:%s" % pk\ncache.delete(key)', ("s:user:\x00",)),
        ("from app.keys import USER_KEY", "cache.delete(USER_KEY.format(pk))", ("n:USER_KEY",)),
        ('USER_KEY = "user:{}"', "cache.delete(USER_KEY.format(pk))", ("n:USER_KEY", "s:user:\x00")),
        ("", "cache.delete(obj.cache_key)", ("n:cache_key",)),
        ("", "cache.delete(settings.POLYGON_KEY % pk)", ("n:POLYGON_KEY",)),
        (
            "from app.keys import card_key",
            'cache.delete(card_key("big", pk))',
            ("c:card_key\x1fbig\x1f\x00",),
        ),
        ("", "cache.delete(obj.get_cache_key())", ("c:get_cache_key",)),
        ("", 'cache.delete_pattern("user:*:card")', ("s:user:\x00:card",)),
        ("", 'cache.delete_many([f"a:{pk}", "b:1"])', ("s:a:\x00", "s:b:1")),
        ("", 'keys = [f"rate:{i}" for i in pk]\ncache.delete_many(keys)', ("s:rate:\x00",)),
        ("", 'cache.set_many({f"rate:{i}": 1 for i in pk}, None)', ("s:rate:\x00",)),
        ("", 'for key in ["a:1", "b:2"]:\n    cache.delete(key)', ("s:a:1", "s:b:2")),
        ("", "cache.delete(pk)", ()),  # a parameter: only its text counts, in its own module
        (
            'def key_of(x):\n    key = f"order:{x}:v1"\n    return key',
            "cache.delete(key_of(pk))",
            ("c:key_of\x1f\x00", "s:order:\x00:v1"),
        ),
    ],
)
def test_key_shapes(prelude, body, shapes):
    assert shapes_of(body, prelude) == [shapes]


@pytest.mark.parametrize(
    ("first", "second", "match"),
    [
        ("s:user:1", "s:user:1", True),
        ("s:user:1", "s:user:2", False),
        ("s:user:\x00:card", "s:user:7:card", True),
        ("s:user:\x00:card", "s:user:\x00:badge", False),
        ("s:catalog:badge:\x00", "s:catalog:\x00", True),  # a glob whose literal prefix covers it
        ("s:catalog:banner:\x00", "s:catalog:badge:\x00", False),
        ("s:\x00:\x00", "s:user:1", False),  # too little literal text to mean anything
        ("n:USER_KEY", "n:USER_KEY", True),
        ("n:USER_KEY", "s:USER_KEY", False),
        ("c:card_key\x1fbig\x1f\x00", "c:card_key\x1f\x00\x1f\x00", True),
        ("c:card_key\x1fbig\x1f\x00", "c:card_key\x1fsmall\x1f\x00", False),
        ("c:card_key\x1fbig", "c:card_key", True),  # other arity: defaults may fill it
        ("c:card_key", "c:list_key", False),
    ],
)
def test_shapes_match(first, second, match):
    from cachelint.cache_calls import shapes_match

    assert shapes_match(first, second) is match
    assert shapes_match(second, first) is match


def test_cl601_invalidation_in_a_module_the_prefilter_would_skip(tmp_path):
    """``from django.core import cache`` has no ``core.cache``: CL601's own token gets it parsed."""
    files = {
        "app/__init__.py": "",
        "app/views.py": 'from django.core.cache import cache\n\n\n'
        'def f():\n    cache.set("news:top", 1, None)\n',
        "app/signals.py": "from django.core import cache\n\n\ndef g(**kw):\n"
        "    cache.cache.delete('news:top')\n",
    }
    assert triples(scan(tmp_path, files, ["CL601"])) == []
    files["app/signals.py"] = files["app/signals.py"].replace("news:top", "news:other")
    assert triples(scan(tmp_path, files, ["CL601"])) == [("app/views.py", 5, "CL601")]


def test_cl601_a_write_that_never_expires_counts_only_from_another_function(tmp_path):
    source = """\
        from django.core.cache import cache


        def pause(request):
            cache.set("jobs:paused", True, None)


        def resume(request):
            cache.set("jobs:paused", False, None)


        def remember(request):
            cache.set("jobs:last", 1, None)
            cache.set("jobs:last", 2, None)
    """
    result = scan(tmp_path, {"app/__init__.py": "", "app/views.py": source}, ["CL601"])
    assert triples(result) == [("app/views.py", 13, "CL601"), ("app/views.py", 14, "CL601")]


def test_cl601_writes_of_management_commands_are_silent(tmp_path):
    command = """\
        from django.core.cache import cache


        def handle(*args, **options):
            cache.set("stats:totals", {}, None)
    """
    # The command's own write is silent, and so is the app's write of the value the command
    # rewrites; another key is found.
    jobs = textwrap.dedent(command) + '    cache.set("stats:daily", {}, None)\n'
    files = {"app/__init__.py": "", "app/management/commands/stats.py": command, "app/jobs.py": jobs}
    assert triples(scan(tmp_path, files, ["CL601"])) == [("app/jobs.py", 6, "CL601")]


def test_cache_bound_to_a_name_is_a_cache_call():
    from cachelint.facts.python import parse_python

    source = """\
from django.core.cache import caches

LONG = caches["long"]


def f(pk):
    store = caches["sessions"]
    store.delete(f"cart:{pk}")
    LONG.set("totals:v1", 1, None)
    data = {}
    data.get("totals:v1")
    other = make()
    other.set("x", 1)
"""
    facts = parse_python(source.encode(), "app/m.py", "app.m", False, False)
    calls = facts.views.functions[0].cache_calls
    assert [(c.method, c.alias, c.key_shapes) for c in calls] == [
        ("delete", "sessions", ("s:cart:\x00",)),
        ("set", "long", ("s:totals:v1",)),
    ]
