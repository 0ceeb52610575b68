"""Unit tests of the fact layer: what one file's parse yields, before any cross-file joining.

Positions are 1-based lines and columns, end exclusive (SARIF style).
"""

from __future__ import annotations

import pickle
import textwrap

import pytest

from cachelint.facts.python import ParseError, PythonFacts, parse_python
from cachelint.facts.settings import is_production_module, run_settings
from cachelint.facts.templates import parse_template
from cachelint.facts.values import UNKNOWN
from cachelint.finding import Span

CACHE_PAGE = "django.views.decorators.cache.cache_page"
LOGIN_REQUIRED = "django.contrib.auth.decorators.login_required"
METHOD_DECORATOR = "django.utils.decorators.method_decorator"


def parse(source: str, module: str = "app.views", *, is_package: bool = False, settings_like: bool = False,
          path: str = "app/views.py") -> PythonFacts:
    return parse_python(textwrap.dedent(source).encode(), path, module, is_package, settings_like)


def function(facts: PythonFacts, name: str):
    return next(f for f in facts.views.functions if f.name == name)


def klass(facts: PythonFacts, name: str):
    return next(c for c in facts.views.classes if c.name == name)


def decorator_names(source: str, name: str = "view", **kwargs) -> list[str]:
    return [d.name for d in function(parse(source, **kwargs), name).decorators]


# === Python: names ===============================================================================


def test_import_as_alias():
    source = """\
        from django.views.decorators.cache import cache_page as cp

        @cp(60)
        def view(request): ...
    """
    [call] = function(parse(source), "view").decorators
    assert call.name == CACHE_PAGE
    assert call.text == "cp(60)"
    assert call.called is True
    assert call.args == (60,)


def test_module_import_then_attribute():
    source = """\
        from django.views.decorators import cache

        @cache.cache_page(60)
        def view(request): ...
    """
    assert decorator_names(source) == [CACHE_PAGE]


def test_plain_and_aliased_module_imports():
    source = """\
        import django.views.decorators.cache
        import django.contrib.auth.decorators as auth

        @auth.login_required
        @django.views.decorators.cache.cache_page(1)
        def view(request): ...
    """
    assert decorator_names(source) == [LOGIN_REQUIRED, CACHE_PAGE]


def test_relative_import_in_module():
    source = """\
        from .decorators import staff_only

        @staff_only
        def view(request): ...
    """
    assert decorator_names(source, module="app.views") == ["app.decorators.staff_only"]


def test_relative_import_in_package_init():
    source = """\
        from .decorators import staff_only

        @staff_only
        def view(request): ...
    """
    assert decorator_names(source, module="app", is_package=True, path="app/__init__.py") == ["app.decorators.staff_only"]


def test_relative_imports_of_several_levels():
    source = """\
        from ..core.auth import staff_only
        from . import mixins
        from .. import shared

        @staff_only
        @mixins.cached
        @shared.deco
        def view(request): ...
    """
    assert decorator_names(source, module="app.sub.views") == [
        "app.core.auth.staff_only", "app.sub.mixins.cached", "app.shared.deco",
    ]


def test_local_definition_and_unknown_name():
    source = """\
        def staff_only(view):
            return view

        @staff_only
        @not_imported_anywhere
        def view(request): ...
    """
    assert decorator_names(source) == ["app.views.staff_only", "not_imported_anywhere"]


def test_module_level_alias_is_recorded():
    source = """\
        from django.views.decorators.cache import cache_page
        cache_hour = cache_page(3600)
    """
    [alias] = parse(source).views.aliases
    assert alias.name == "cache_hour"
    assert alias.call.name == CACHE_PAGE
    assert alias.call.args == (3600,)
    assert alias.call.span == Span(2, 14, 2, 30)


# === Python: decorators ==========================================================================


def test_decorator_order_and_spans():
    source = """\
        from django.contrib.auth.decorators import login_required
        from django.views.decorators.cache import cache_page


        @login_required
        @cache_page(60 * 15, key_prefix="site")
        def dashboard(request):
            pass
    """
    fn = function(parse(source), "dashboard")
    assert fn.span == Span(7, 5, 7, 14)  # the name
    login, cache = fn.decorators  # outermost first
    assert (login.name, login.called, login.span) == (LOGIN_REQUIRED, False, Span(5, 2, 5, 16))
    assert (cache.name, cache.called, cache.span) == (CACHE_PAGE, True, Span(6, 2, 6, 40))
    assert cache.args == (UNKNOWN,)  # 60 * 15 is not a literal the IR evaluates
    assert cache.kwargs == (("key_prefix", "site"),)
    assert cache.kwarg("key_prefix") == "site"
    assert cache.kwarg_text("key_prefix") == '"site"'
    assert cache.text == 'cache_page(60 * 15, key_prefix="site")'


def test_multiline_decorator_span_and_async_def():
    source = """\
        from django.views.decorators.cache import cache_page

        @cache_page(
            60,
            key_prefix=f"user-{x}",
        )
        async def view(request):
            pass
    """
    [call] = function(parse(source), "view").decorators
    assert call.span == Span(3, 2, 6, 2)
    assert call.kwarg("key_prefix") is UNKNOWN
    assert call.kwarg_text("key_prefix") == 'f"user-{x}"'


def test_method_decorator_inner_calls():
    source = """\
        from django.contrib.auth.decorators import login_required
        from django.utils.decorators import method_decorator
        from django.views.decorators.cache import cache_page as cp
        from django.views.generic import TemplateView


        @method_decorator([login_required, cp(60)], name="dispatch")
        @method_decorator(cp(30), name="get")
        class Page(TemplateView):
            @method_decorator(cp(10))
            def get(self, request):
                pass
    """
    cls = klass(parse(source), "Page")
    first, second = cls.decorators
    assert first.name == second.name == METHOD_DECORATOR
    assert first.kwarg("name") == "dispatch"
    assert [c.name for c in first.inner] == [LOGIN_REQUIRED, CACHE_PAGE]
    assert [c.span for c in first.inner] == [Span(7, 20, 7, 34), Span(7, 36, 7, 42)]
    assert first.inner[1].args == (60,)
    assert second.kwarg("name") == "get"
    assert [(c.name, c.args) for c in second.inner] == [(CACHE_PAGE, (30,))]
    [method_deco] = cls.method("get").decorators
    assert method_deco.name == METHOD_DECORATOR
    assert [(c.name, c.args, c.span) for c in method_deco.inner] == [(CACHE_PAGE, (10,), Span(10, 23, 10, 29))]


def test_method_decorator_tuple_and_bare_names():
    source = """\
        from django.contrib.auth.decorators import login_required
        from django.utils.decorators import method_decorator
        from django.views.decorators.vary import vary_on_cookie

        @method_decorator((vary_on_cookie, login_required), name="dispatch")
        class Page:
            pass
    """
    [call] = klass(parse(source), "Page").decorators
    assert [c.name for c in call.inner] == ["django.views.decorators.vary.vary_on_cookie", LOGIN_REQUIRED]
    assert all(c.called is False for c in call.inner)


# === Python: classes =============================================================================


def test_class_bases_and_attributes():
    source = """\
        from django.contrib.auth.mixins import LoginRequiredMixin
        from django.views import generic
        from rest_framework.permissions import IsAuthenticated, IsAdminUser
        from . import mixins


        class Page(LoginRequiredMixin, mixins.Base, generic.TemplateView):
            template_name = "app/page.html"
            permission_classes = (IsAuthenticated, IsAdminUser)
            timeout: int = 30
            other = compute()

            def get(self, request):
                pass
    """
    cls = klass(parse(source), "Page")
    assert cls.span == Span(7, 7, 7, 11)
    assert cls.bases == (
        "django.contrib.auth.mixins.LoginRequiredMixin", "app.mixins.Base", "django.views.generic.TemplateView",
    )
    template = cls.attribute("template_name")
    assert (template.value, template.span) == ("app/page.html", Span(8, 21, 8, 36))
    permissions = cls.attribute("permission_classes")
    assert permissions.names == (
        "rest_framework.permissions.IsAuthenticated", "rest_framework.permissions.IsAdminUser",
    )
    assert cls.attribute("timeout").value == 30
    assert cls.attribute("other").value is UNKNOWN
    assert [m.name for m in cls.methods] == ["get"]
    assert cls.attribute("missing") is None and cls.method("post") is None


# === Python: accesses ============================================================================


def test_accesses_in_function_views():
    source = """\
        def view(request):
            name = request.user.username
            request.session["cart"] = []
            request.COOKIES.get("x")
            other.user

        def custom(req):
            return req.user

        def nested(request):
            def inner():
                return request.session.get("k")
            return inner()
    """
    facts = parse(source)
    assert [(a.what, a.span) for a in function(facts, "view").accesses] == [
        ("request.user", Span(2, 12, 2, 24)),
        ("request.session", Span(3, 5, 3, 20)),
    ]
    assert [a.what for a in function(facts, "custom").accesses] == ["request.user"]
    assert [(a.what, a.span.line) for a in function(facts, "nested").accesses] == [("request.session", 12)]


def test_accesses_in_class_methods():
    source = """\
        class Page:
            def get(self, request, *args, **kwargs):
                self.request.session.get("x")
                return request.user

            def post(self, req):
                req.session.flush()
                self.user  # not the request
    """
    cls = klass(parse(source), "Page")
    assert [(a.what, a.span) for a in cls.method("get").accesses] == [
        ("request.session", Span(3, 9, 3, 29)),
        ("request.user", Span(4, 16, 4, 28)),
    ]
    assert [a.what for a in cls.method("post").accesses] == ["request.session"]


def test_personal_calls_are_accesses():
    source = """\
        from django.contrib import messages
        from django.middleware.csrf import get_token

        def view(request):
            token = get_token(request)
            for m in messages.get_messages(request):
                pass
    """
    assert [a.what for a in function(parse(source), "view").accesses] == ["csrf_token", "messages"]


# === Python: renders =============================================================================


def test_renders_with_literal_names():
    source = """\
        from django.shortcuts import render
        from django.template.loader import get_template, render_to_string, select_template
        from django.template.response import TemplateResponse

        def view(request):
            render(request, "app/a.html", {})
            TemplateResponse(request, "app/b.html")
            render_to_string("app/c.html", {"x": 1})
            render(request, template_name="app/d.html")
            select_template(["app/e.html", "app/f.html"])
            get_template(name_from_somewhere)
            render(request, "app/" + "g.html")
    """
    renders = function(parse(source), "view").renders
    assert [r.name for r in renders] == [
        "app/a.html", "app/b.html", "app/c.html", "app/d.html", "app/e.html", "app/f.html", "app/g.html",
    ]
    assert renders[0].span == Span(6, 21, 6, 33)  # the template name argument


def test_template_response_template_keyword():
    source = """\
        from django.template.response import SimpleTemplateResponse, TemplateResponse

        def view(request):
            TemplateResponse(request, template="app/a.html")
            return SimpleTemplateResponse(template="app/b.html")
    """
    assert [r.name for r in function(parse(source), "view").renders] == ["app/a.html", "app/b.html"]


# === Python: header writes =======================================================================


def test_header_writes():
    source = """\
        from django.utils.cache import add_never_cache_headers, patch_cache_control, patch_vary_headers

        def view(request):
            response = HttpResponse()
            response["Vary"] = "Cookie, Accept-Language"
            response.headers["Cache-Control"] = "private, max-age=0"
            patch_vary_headers(response, ("Cookie",))
            patch_cache_control(response, private=True, max_age=60)
            add_never_cache_headers(response)
            response["X-Frame-Options"] = "DENY"
            response["vary"] = computed
            return response
    """
    writes = function(parse(source), "view").header_writes
    assert [(w.header, w.value, w.how, w.span.line) for w in writes] == [
        ("vary", ("cookie", "accept-language"), "setitem", 5),
        ("cache-control", {"private": True, "max_age": "0"}, "setitem", 6),
        ("vary", ("cookie",), "patch_vary_headers", 7),
        ("cache-control", {"private": True, "max_age": 60}, "patch_cache_control", 8),
        ("cache-control", {"no_store": True, "private": True}, "django.utils.cache.add_never_cache_headers", 9),
        ("vary", UNKNOWN, "setitem", 11),
    ]
    assert writes[0].span == Span(5, 5, 5, 49)


def test_patch_vary_headers_with_non_literal_list():
    source = """\
        from django.utils.cache import patch_vary_headers

        def view(request):
            patch_vary_headers(response, HEADERS)
    """
    [write] = function(parse(source), "view").header_writes
    assert (write.header, write.value) == ("vary", UNKNOWN)


# === Python: misc ================================================================================


def test_settings_facts_only_when_settings_like_or_marked():
    assert parse("X = 1\n").settings is None
    assert parse("X = 1\n", settings_like=True).settings is not None
    assert parse("INSTALLED_APPS = []\n").settings is not None  # a marker name
    assert parse("from .base import *\n").settings is not None  # a star import


def test_facts_pickle():
    source = """\
        from django.views.decorators.cache import cache_page
        @cache_page(60)
        def view(request):
            return request.user
    """
    facts = parse(source, settings_like=True)
    assert pickle.loads(pickle.dumps(facts)) == facts


def test_syntax_error_raises_located_parse_error():
    with pytest.raises(ParseError) as info:
        parse('import os\nprint "x"\n')
    assert info.value.reason.startswith("syntax error")
    assert info.value.span == Span(2, 10)  # libcst's error position: the unexpected string


def test_python_312_syntax_parses():
    source = """\
        from django.views.decorators.cache import cache_page

        def first[T](items: list[T]) -> T:
            return items[0]

        @cache_page(60)
        def view(request):
            data = {"k": "v"}
            return f"{data["k"]} {f"{"deep"}"}"
    """
    assert decorator_names(source) == [CACHE_PAGE]


# === settings ====================================================================================


def settings(source: str, modules: dict[str, str] | None = None, module: str = "proj.settings") -> dict:
    """Run ``source`` as settings module ``module``; ``modules`` are the other project modules."""
    modules = modules or {}
    loaded: list[str] = []

    def facts_of(name: str, text: str):
        return parse(text, name, settings_like=True, path=name.replace(".", "/") + ".py")

    def load(name: str):
        loaded.append(name)
        if name not in modules:
            return None
        facts = facts_of(name, modules[name])
        return facts.path, facts.settings

    facts = facts_of(module, source)
    namespace, definitions = run_settings(facts.path, facts.settings, load, _active=frozenset({module}))
    return {"ns": namespace, "defs": definitions, "loaded": loaded, **{k: b.value for k, b in namespace.items()}}


def test_settings_literals_and_names():
    ns = settings("""\
        DEBUG = False
        SECRET = "abc"
        TIMEOUT = 300
        RATIO = -1.5
        NOTHING = None
        APPS = ["a", "b"]
        PAIR = ("x",)
        CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "TIMEOUT": TIMEOUT}}
        ALIAS = APPS
        NOT_DEBUG = not DEBUG
        SAME = TIMEOUT == 300
        IN = "a" in APPS
        MISSING = UNDEFINED_NAME
        A = B = 1
        OPTS = dict(socket_timeout=5)
        MERGED = {**OPTS, "x": 1}
        STARRED = [*APPS, "c"]
        PRODUCT = 60 * 15
    """)
    assert ns["DEBUG"] is False and ns["SECRET"] == "abc" and ns["TIMEOUT"] == 300 and ns["RATIO"] == -1.5
    assert ns["NOTHING"] is None
    assert ns["APPS"] == ["a", "b"] and list(ns["PAIR"]) == ["x"]
    assert ns["CACHES"] == {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "TIMEOUT": 300}}
    assert ns["ALIAS"] == ["a", "b"]
    assert ns["NOT_DEBUG"] is True and ns["SAME"] is True and ns["IN"] is True
    assert ns["MISSING"] is UNKNOWN
    assert ns["A"] == ns["B"] == 1
    assert ns["OPTS"] == {"socket_timeout": 5}
    assert ns["MERGED"] == {"socket_timeout": 5, "x": 1}
    assert ns["STARRED"] == ["a", "b", "c"]
    assert ns["PRODUCT"] is UNKNOWN


def test_settings_binding_locations():
    ns = settings("""\
        DEBUG = False
        CACHES = {
            "default": {"BACKEND": "x"},
        }
    """)
    binding = ns["ns"]["CACHES"]
    assert (binding.path, binding.span) == ("proj/settings.py", Span(2, 1, 4, 2))
    assert binding.value.key_spans["default"] == Span(3, 5, 3, 14)
    assert binding.value.path == "proj/settings.py"


def test_settings_environment_reads():
    ns = settings("""\
        import os
        from decouple import config

        A = os.environ.get("A", "default")
        B = os.getenv("B", "b")
        C = os.environ.get("C")
        D = os.environ["D"]
        I = config("I", default="1", cast=bool)
        K = os.environ.get("K", "off") == "on"
        L = os.environ.get("L", False)
    """)
    assert ns["A"] == "default" and ns["B"] == "b"
    assert ns["C"] is UNKNOWN and ns["D"] is UNKNOWN
    assert ns["I"] is True
    assert ns["K"] is False
    assert ns["L"] is False
    assert ns["os"] is UNKNOWN  # imports bind unknown values


DJANGO_ENVIRON = """\
    import environ

    env = environ.Env()
    E = env.bool("DEBUG", default=False)
    F = env.bool("F", "yes")
    G = env.int("G", default="5")
    H = env("H", default="h")
    J = env.bool("J")
"""


def test_settings_django_environ_reads():
    ns = settings(DJANGO_ENVIRON)
    assert ns["E"] is False and ns["F"] is True and ns["G"] == 5 and ns["H"] == "h"
    assert ns["J"] is UNKNOWN
    assert ns["env"] is UNKNOWN


def test_settings_django_environ_unbound_env_name():
    # The same calls when `env` comes from elsewhere (not assigned in this module).
    ns = settings(DJANGO_ENVIRON.replace("    env = environ.Env()\n", ""))
    assert ns["E"] is False and ns["F"] is True and ns["G"] == 5 and ns["H"] == "h"
    assert ns["J"] is UNKNOWN


def test_settings_strings():
    ns = settings("""\
        HOST = "redis"
        PORT = 6379
        URL = f"redis://{HOST}:{PORT}/0"
        JOINED = "a" + "b"
        IMPLICIT = ("x" "y")
        LISTS = ["a"] + ["b"]
        CONVERTED = f"{HOST!r}"
        FORMATTED = f"{PORT:05d}"
        MIXED = "a" + 1
        UNKNOWN_PART = f"{NOPE}/x"
    """)
    assert ns["URL"] == "redis://redis:6379/0"
    assert ns["JOINED"] == "ab" and ns["IMPLICIT"] == "xy" and ns["LISTS"] == ["a", "b"]
    assert ns["CONVERTED"] is UNKNOWN and ns["FORMATTED"] is UNKNOWN
    assert ns["MIXED"] is UNKNOWN and ns["UNKNOWN_PART"] is UNKNOWN


def test_settings_star_import_chain():
    result = settings(
        """\
        from .base import *
        DEBUG = False
        INSTALLED_APPS += ["prod_only"]
        """,
        {
            "proj.base": 'from .common import *\nDEBUG = True\nINSTALLED_APPS = COMMON_APPS + ["app"]\n',
            "proj.common": 'COMMON_APPS = ["django.contrib.admin"]\n',
        },
        module="proj.prod",
    )
    assert result["loaded"] == ["proj.base", "proj.common"]
    assert result["DEBUG"] is False
    assert result["INSTALLED_APPS"] == ["django.contrib.admin", "app", "prod_only"]
    assert result["COMMON_APPS"] == ["django.contrib.admin"]
    assert result["ns"]["COMMON_APPS"].path == "proj/common.py"
    assert result["ns"]["DEBUG"].path == "proj/prod.py"
    # Every assignment event, in execution order, with where it happened.
    assert [(d.name, d.path, d.span.line) for d in result["defs"]] == [
        ("COMMON_APPS", "proj/common.py", 1),
        ("DEBUG", "proj/base.py", 2),
        ("INSTALLED_APPS", "proj/base.py", 3),
        ("DEBUG", "proj/prod.py", 2),
        ("INSTALLED_APPS", "proj/prod.py", 3),
    ]


def test_settings_absolute_star_import_and_missing_module():
    result = settings("from proj.base import *\nfrom somewhere.other import *\nX = 1\n", {"proj.base": "Y = 2\n"})
    assert result["loaded"] == ["proj.base", "somewhere.other"]
    assert result["Y"] == 2 and result["X"] == 1


def test_settings_star_import_cycle_terminates():
    result = settings(
        "from .a import *\nMINE = 1\n",
        {"proj.a": "from .b import *\nA = 1\n", "proj.b": "from .a import *\nfrom .settings import *\nB = 2\n"},
    )
    assert result["A"] == 1 and result["B"] == 2 and result["MINE"] == 1
    assert result["loaded"] == ["proj.a", "proj.b"]


def test_settings_self_star_import_terminates():
    result = settings("X = 1\nfrom .settings import *\nY = 2\n")
    assert result["X"] == 1 and result["Y"] == 2


def test_settings_subscript_assignment():
    ns = settings("""\
        CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache"}}
        CACHES["default"]["OPTIONS"] = {"SOCKET_TIMEOUT": 5}
        CACHES["other"] = {"BACKEND": "locmem"}
        BROKEN = {"a": {}}
        BROKEN["missing"]["x"] = 1
        NEVER_DEFINED["k"] = 1
    """)
    assert ns["CACHES"] == {
        "default": {"BACKEND": "django_redis.cache.RedisCache", "OPTIONS": {"SOCKET_TIMEOUT": 5}},
        "other": {"BACKEND": "locmem"},
    }
    assert ns["BROKEN"] is UNKNOWN
    assert "NEVER_DEFINED" not in ns["ns"]


def test_settings_augmented_assignment_and_mutation():
    ns = settings("""\
        INSTALLED_APPS = ["a"]
        INSTALLED_APPS += ["b"]
        INSTALLED_APPS += ("c",)
        MIDDLEWARE = ("m1",)
        MIDDLEWARE += ("m2",)
        UNDEFINED += ["x"]
        COUNT = 1
        COUNT *= 2
        LIST = ["x"]
        LIST.append("y")
        LIST.extend(["z"])
        LIST.insert(0, "w")
        D = {"a": 1}
        D.update({"b": 2})
        D.get("a")
        WEIRD = ["a"]
        WEIRD.sort()
    """)
    assert ns["INSTALLED_APPS"] == ["a", "b", "c"]
    assert list(ns["MIDDLEWARE"]) == ["m1", "m2"]
    assert ns["UNDEFINED"] is UNKNOWN
    assert ns["COUNT"] is UNKNOWN
    assert ns["LIST"] == ["w", "x", "y", "z"]
    assert ns["D"] == {"a": 1, "b": 2}
    assert ns["WEIRD"] is UNKNOWN


def test_settings_if_with_unknown_condition_makes_names_unknown():
    ns = settings("""\
        import os
        DEBUG = False
        APPS = ["a"]
        if os.environ.get("FLAG"):
            DEBUG = True
            APPS += ["debug_toolbar"]
            ONLY_IF = 1
        else:
            ONLY_ELSE = 2
        AFTER = 3
    """)
    assert ns["DEBUG"] is UNKNOWN and ns["APPS"] is UNKNOWN
    assert ns["ONLY_IF"] is UNKNOWN and ns["ONLY_ELSE"] is UNKNOWN
    assert ns["AFTER"] == 3
    # Definition-site rules still see what each branch assigned.
    assert [(d.name, d.value) for d in ns["defs"] if d.name in ("DEBUG", "ONLY_IF")] == [
        ("DEBUG", False), ("DEBUG", True), ("ONLY_IF", 1),
    ]


def test_settings_if_with_known_condition_takes_one_branch():
    ns = settings("""\
        DEBUG = False
        if DEBUG:
            X = "dev"
        elif "a" in ["a"]:
            X = "elif"
        else:
            X = "else"
        if not DEBUG:
            Y = 1
    """)
    assert ns["X"] == "elif" and ns["Y"] == 1


def test_settings_mutation_in_unknown_branch_makes_value_unknown():
    ns = settings("""\
        import os
        MIDDLEWARE = ["a"]
        CACHES = {"default": {"BACKEND": "x"}}
        if os.environ.get("FLAG"):
            MIDDLEWARE.append("debug")
            CACHES["default"]["OPTIONS"] = {"socket_timeout": 5}
    """)
    assert ns["MIDDLEWARE"] is UNKNOWN
    # Only the key the branch changes is forgotten.
    assert ns["CACHES"]["default"]["BACKEND"] == "x"
    assert ns["CACHES"]["default"]["OPTIONS"] is UNKNOWN


def test_settings_try_except():
    ns = settings(
        """\
        X = 1
        try:
            from .local import *
        except ImportError:
            X = 2
        """,
        {"proj.local": "LOCAL = True\n"},
    )
    # An optional override: judged without it (the handler runs).
    assert "LOCAL" not in ns["ns"]
    assert ns["X"] == 2


def test_settings_unsupported_statements_bind_unknown():
    ns = settings("""\
        from pathlib import Path
        BASE_DIR = Path(__file__).resolve().parent
        def helper():
            return 1
        class Conf:
            pass
        for NAME in ["a"]:
            LOOPED = NAME
        A, B = 1, 2
    """)
    for name in ("Path", "BASE_DIR", "helper", "Conf", "NAME", "LOOPED", "A", "B"):
        assert ns[name] is UNKNOWN, name


def test_is_production_module():
    assert is_production_module("prod", {}) is True
    assert is_production_module("settings_production", {}) is True
    assert is_production_module("dev", {}) is False
    ns = settings("DEBUG = False\n")["ns"]
    assert is_production_module("settings", ns) is True
    assert is_production_module("local", ns) is False
    assert is_production_module("settings", settings("DEBUG = True\n")["ns"]) is False


# === templates ===================================================================================


def template(text: str):
    return parse_template(textwrap.dedent(text), "templates/t.html")


def uses(text: str) -> list[str]:
    """The personal uses (``kind`` set from the name alone)."""
    return [u.expression for u in template(text).uses if u.kind]


def test_template_uses_with_spans_and_kinds():
    facts = template("""\
        <p>Hello {{ user.username }}</p>
        {{ request.user.email|lower }} {{ request.session.cart }} {% csrf_token %}
        {% if perms.app.change %}{{ messages }}{% endif %}
    """)
    assert [(u.expression, u.kind, u.span) for u in facts.uses if u.kind] == [
        ("user.username", "user", Span(1, 10, 1, 29)),
        ("request.user.email", "user", Span(2, 1, 2, 31)),
        ("request.session.cart", "session", Span(2, 32, 2, 58)),
        ("csrf_token", "csrf_token", Span(2, 59, 2, 75)),
        ("perms.app.change", "perms", Span(3, 1, 3, 26)),
        ("messages", "messages", Span(3, 26, 3, 40)),
    ]
    assert all(u.block is None and u.cache is None for u in facts.uses)
    assert [u.expression for u in facts.uses if not u.kind] == []


def test_template_non_personal_names():
    assert uses('{{ userprofile.name }} {{ users.0 }} {{ "user" }} {{ request.path }} {{ obj.user }}') == []
    assert uses("{{ x|default:user }}") == ["user"]  # a filter argument is printed too


def test_template_multiline_tag_span():
    facts = template('{% if flag %}\n{{ user.name }}{% endif %}\n')
    assert [(u.expression, u.span) for u in facts.uses if u.kind] == [("user.name", Span(2, 1, 2, 16))]


def test_template_for_and_with_shadow_personal_names():
    assert uses("{% for user in users %}{{ user.name }}{% endfor %}{{ user.pk }}") == ["user.pk"]
    assert uses("{% for a, user in pairs %}{{ user }}{% endfor %}") == []
    assert uses("{% for x in request.user.orders %}{{ x }}{% endfor %}") == ["request.user.orders"]
    # A {% with %} name stands for its value: personal when the value is.
    assert uses("{% with name=user.name %}{{ name }}{% endwith %}") == ["user.name", "name"]
    assert uses("{% with user.name as name %}{{ name }}{% endwith %}") == ["user.name", "name"]
    assert uses("{% with user=post.author %}{{ user.name }}{% endwith %}{{ user }}") == ["user"]
    assert uses("{% with messages=notes %}{{ messages }}{% endwith %}{{ messages }}") == ["messages"]
    facts = template("{% with messages=notes %}{{ messages }}{% endwith %}{{ messages }}")
    assert [u.span.col for u in facts.uses if u.kind] == [53]  # the one outside the with


def test_template_include_and_blocktranslate_binding_names_are_not_uses():
    assert uses('{% include "card.html" with user=post.author %}') == []
    assert uses("{% blocktranslate with user=post.author %}{{ user }}{% endblocktranslate %}") == []


def test_template_for_empty_branch_is_not_shadowed():
    assert uses("{% for user in team %}{{ user }}{% empty %}{{ user.username }}{% endfor %}") == ["user.username"]


def test_template_extends_and_includes():
    facts = template("""\
        {% extends "base.html" %}
        {% block content %}{% include 'part.html' %}{% include dynamic_name %}{% endblock %}
        {% include "outside.html" with x=1 only %}
    """)
    assert facts.extends == ("base.html", Span(1, 1, 1, 26))
    assert [(i.name, i.span, i.block, i.cache) for i in facts.includes] == [
        ("part.html", Span(2, 20, 2, 45), "content", None),
        ("outside.html", Span(3, 1, 3, 43), None, None),
    ]
    assert template("{% extends base_template %}").extends is None


def test_template_blocks_and_super():
    facts = template("""\
        {% block outer %}{{ block.super }}
          {% block inner %}{{ user }}{% endblock inner %}
        {% endblock %}
        {% block other %}x{% endblock %}
    """)
    assert [(b.name, b.span, b.parent, b.uses_super) for b in facts.blocks] == [
        ("inner", Span(2, 3, 2, 20), "outer", False),
        ("outer", Span(1, 1, 1, 18), None, True),
        ("other", Span(4, 1, 4, 18), None, False),
    ]
    assert [(u.expression, u.block) for u in facts.uses if u.kind] == [("user", "inner")]
    assert facts.problems == ()


def test_template_cache_blocks():
    facts = template("""\
        {% load cache %}
        {% block side %}
        {% cache 500 sidebar_v1 request.user.pk LANGUAGE_CODE using="redis" %}
          {% include "menu.html" %}{{ user.name }}{% if x %}{% endif %}
        {% endcache %}
        {% endblock %}
        {% cache timeout 'quoted' %}{% endcache %}
        {% cache 60 plain using=alias_var %}{% endcache %}
    """)
    first, second, third = facts.caches
    assert first.span == Span(3, 1, 3, 71)
    assert (first.timeout, first.fragment, first.vary_on, first.using, first.block) == (
        "500", "sidebar_v1", ("request.user.pk", "LANGUAGE_CODE"), "redis", "side",
    )
    assert first.tags_inside == frozenset({"include", "if"})
    assert (second.timeout, second.fragment, second.vary_on, second.using, second.block) == (
        "timeout", "'quoted'", (), None, None,
    )
    assert (third.fragment, third.using) == ("plain", None)  # a variable alias: unknown
    # The cache tag's own arguments are not printed; what is inside the fragment is.
    assert [(u.expression, u.cache) for u in facts.uses if u.kind] == [("user.name", 0)]
    assert [(i.name, i.cache, i.block) for i in facts.includes] == [("menu.html", 0, "side")]


def test_template_verbatim_and_comments_are_not_parsed_for_uses():
    assert uses("{% verbatim %}{{ user.name }}{% endverbatim %}{# {{ user }} #}") == []


def test_template_comment_block_content_is_ignored():
    # Django skips everything up to {% endcomment %}: nothing there is printed or opened.
    facts = template('{% comment "old" %}{{ user.username }}{% cache 10 foo %}{% endcomment %}')
    assert [u for u in facts.uses if u.kind] == []
    assert facts.caches == ()
    assert facts.problems == ()


def test_template_unclosed_cache_problem():
    facts = template("{% load cache %}\n{% cache 50 x_v1 %}\n<ul></ul>\n")
    [(message, span)] = facts.problems
    assert message.startswith("`{% cache %}` is never closed")
    assert span == Span(2, 1, 2, 20)
    [cache] = facts.caches
    assert cache.fragment == "x_v1"


def test_template_endblock_with_nothing_open():
    facts = template("a\n{% endblock %}\n")
    [(message, span)] = facts.problems
    assert message.startswith("`{% endblock %}` does not close anything open here")
    assert span == Span(2, 1, 2, 15)


def test_template_misnested_tags():
    facts = template("{% block a %}{% cache 1 x_v1 %}{% endblock %}{% endcache %}")
    (first, first_span), (second, second_span) = facts.problems
    assert first.startswith("`{% endblock %}` does not close anything open here") and "endcache" in first
    assert first_span == Span(1, 32, 1, 46)
    assert second.startswith("`{% block %}` is never closed")
    assert second_span == Span(1, 1, 1, 14)


def test_template_endblock_name_mismatch_is_a_problem():
    problems = template("{% block a %}{% endblock b %}").problems
    assert [span for _, span in problems] == [Span(1, 14, 1, 30)]


def test_template_unknown_tags_are_tolerated():
    facts = template("{% load foo %}{% weird_tag user.name 'x' %}{% another %}")
    assert facts.problems == ()
    assert [u.expression for u in facts.uses if u.kind] == ["user.name"]
