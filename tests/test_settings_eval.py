"""Settings evaluation that survives real settings files (issue 12, point 2): optional local
overrides, import fallbacks, in-place changes inside ``if``, Python 2 implicit relative star
imports, ``MIDDLEWARE_CLASSES``, django-configurations classes, django-environ / decouple /
environs / django-cache-url defaults, ``if``/``else`` on the environment and Django-version
shims. A golden test on ``tests/fixtures/settings_eval_project`` (each pattern with its safe
look-alike) and unit tests of the evaluator."""

from __future__ import annotations

from pathlib import Path

import pytest

from cachelint.config import Config
from cachelint.engine import Result
from cachelint.facts.settings import MAX_OPTIONS, Override, run_settings
from cachelint.facts.values import UNKNOWN, Context, FromEnv, parse_cache_url
from cachelint.project import ProjectModel
from tests.helpers import expected_markers, run, triples
from tests.test_facts import parse
from tests.test_facts import settings as run_source
from tests.test_fixtures import fixture_files

PROJECT = Path(__file__).parent / "fixtures" / "settings_eval_project"
CODES = ["CL107", "CL301", "CL302", "CL306"]

GOLDEN = [
    ('branches/settings/prod_eu.py', 9, 'CL301', 'Redis cache `default` (when REDIS_HOST is set) has no `SOCKET_CONNECT_TIMEOUT` or `SOCKET_TIMEOUT`: when Redis stalls, every request that touches the cache hangs'),
    ('branches/settings/prod_eu.py', 21, 'CL306', 'sessions are stored only in the cache when SESSIONS_IN_CACHE is set: an eviction, a restart of the cache server or a `cache.clear()` logs users out'),
    ('branches/settings/prod_us.py', 17, 'CL301', 'Redis cache `default` has no `socket_connect_timeout` or `socket_timeout`: when Redis stalls, every request that touches the cache hangs'),
    ('branches/settings/prod_ternary.py', 9, 'CL302', 'the default cache of production settings `branches.settings.prod_ternary` is `LocMemCache` when REDIS_URL is not set, which keeps a separate cache in every worker process: invalidation, throttling and rate limits do not hold across workers'),
    ('branches/settings/production.py', 16, 'CL302', 'the default cache of production settings `branches.settings.production` is `LocMemCache` when REDIS_URL is not set, which keeps a separate cache in every worker process: invalidation, throttling and rate limits do not hold across workers'),
    ('confsite/settings.py', 9, 'CL302', 'the default cache of production settings `confsite.settings.Staging` is `LocMemCache` when CACHE_URL is not set, which keeps a separate cache in every worker process: invalidation, throttling and rate limits do not hold across workers'),
    ('confsite/settings.py', 34, 'CL306', 'sessions are stored only in the cache: an eviction, a restart of the cache server or a `cache.clear()` logs users out'),
    ('envsite/settings/live.py', 7, 'CL301', 'Redis cache `default` (when CACHE_URL is not set) has no `SOCKET_CONNECT_TIMEOUT` or `SOCKET_TIMEOUT`: when Redis stalls, every request that touches the cache hangs'),
    ('envsite/settings/live.py', 8, 'CL306', 'sessions are stored only in the cache when SESSION_ENGINE is not set: an eviction, a restart of the cache server or a `cache.clear()` logs users out'),
    ('envsite/settings/production.py', 8, 'CL302', 'the default cache of production settings `envsite.settings.production` is `LocMemCache` when CACHE_URL is not set, which keeps a separate cache in every worker process: invalidation, throttling and rate limits do not hold across workers'),
    ('fallbacks/settings.py', 13, 'CL107', '`FetchFromCacheMiddleware` comes before `LocaleMiddleware`: it serves cached pages without the headers the entry varies on'),
    ('inplace/settings/production.py', 8, 'CL302', 'the default cache of production settings `inplace.settings.production` is `LocMemCache`, which keeps a separate cache in every worker process: invalidation, throttling and rate limits do not hold across workers'),
    ('inplace/settings/production.py', 9, 'CL301', 'Redis cache `pages` has no `SOCKET_CONNECT_TIMEOUT` or `SOCKET_TIMEOUT`: when Redis stalls, every request that touches the cache hangs'),
    ('legacy/settings/base.py', 3, 'CL302', 'the default cache of production settings `legacy.settings.prod` is `LocMemCache`, which keeps a separate cache in every worker process: invalidation, throttling and rate limits do not hold across workers'),
    ('legacy/settings/base.py', 6, 'CL107', '`FetchFromCacheMiddleware` comes before `SessionMiddleware`: it serves cached pages without the headers the entry varies on'),
    ('overrides/settings/live.py', 5, 'CL306', 'sessions are stored only in the cache: an eviction, a restart of the cache server or a `cache.clear()` logs users out'),
    ('overrides/settings/live.py', 4, 'CL302', 'the default cache of production settings `overrides.settings.live` is `LocMemCache`, which keeps a separate cache in every worker process: invalidation, throttling and rate limits do not hold across workers'),
]


@pytest.fixture(scope="module")
def project() -> Result:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(PROJECT)
        return run(PROJECT, CODES, config=Config(cache=False))


def test_eval_project_yields_exactly_the_marked_findings(project):
    assert project.errors == []
    assert triples(project) == expected_markers(fixture_files(PROJECT))


def test_eval_project_messages(project):
    found = sorted(
        (f.location.path, f.location.line, f.code, f.message) for f in project.findings
    )
    assert found == sorted(GOLDEN)


def related(project: Result, path: str, line: int) -> list[tuple[str, int, str]]:
    (finding,) = [f for f in project.findings if (f.location.path, f.location.line) == (path, line)]
    return [(e.location.path, e.location.line, e.label) for e in finding.related]


def test_optional_override_is_named_in_the_finding(project):
    assert related(project, "overrides/settings/live.py", 4) == [
        ("overrides/settings/live.py", 10, "production settings: DEBUG is False here"),
        (
            "overrides/settings/live.py",
            8,
            "optional override `overrides.settings.local_live` imported here (judged without it); "
            "it may change this",
        ),
    ]
    assert related(project, "overrides/settings/live.py", 5) == [
        (
            "overrides/settings/live.py",
            8,
            "optional override `overrides.settings.local_live` imported here (judged without it); "
            "it may change this",
        ),
    ]


def test_implicit_relative_star_import_reaches_the_sibling(project):
    assert related(project, "legacy/settings/base.py", 3) == [
        ("legacy/settings/prod.py", 3, "production settings: DEBUG is False here"),
        ("legacy/settings/prod.py", 1, "`legacy.settings.prod` star-imports it and keeps it"),
    ]


# --- the model: which modules, which values ----------------------------------------------------


@pytest.fixture(scope="module")
def model() -> ProjectModel:
    """The joined model of the fixture project (captured as the rules receive it)."""
    import cachelint.engine as engine

    captured: dict[str, ProjectModel] = {}
    original = engine.run_rules

    def capture(project, rules, result):
        captured["project"] = project
        return original(project, rules, result)

    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(PROJECT)
        patch.setattr(engine, "run_rules", capture)
        run(PROJECT, CODES, config=Config(cache=False))
    return captured["project"]


def module(model: ProjectModel, name: str):
    (found,) = [m for m in model.settings_modules if m.module == name]
    return found


def test_configuration_classes_are_the_settings_modules(model):
    names = {m.module: (m.production, m.is_leaf, m.configuration) for m in model.settings_modules}
    assert {k: v for k, v in names.items() if k.startswith("confsite.")} == {
        "confsite.settings.Base": (True, False, "Base"),  # DEBUG is False, but subclassed
        "confsite.settings.Dev": (False, True, "Dev"),
        "confsite.settings.Staging": (True, True, "Staging"),
        "confsite.settings.Production": (True, False, "Production"),
        "confsite.settings.Live": (True, True, "Live"),
    }
    live = module(model, "confsite.settings.Live")
    # Inherited through Production, and ``Base.INSTALLED_APPS`` read in Production's body.
    assert live.value("INSTALLED_APPS") == ["django.contrib.sessions", "django_redis"]
    assert live.value("CACHES")["default"]["BACKEND"] == "django_redis.cache.RedisCache"
    assert live.value("DEBUG") is False
    assert module(model, "confsite.settings.Dev").value("DEBUG") is True
    staging = module(model, "confsite.settings.Staging").value("CACHES")["default"]
    assert staging["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert staging["BACKEND"].var == "CACHE_URL"


def test_optional_override_left_out(model):
    production = module(model, "overrides.settings.production")
    assert production.value("DEBUG") is False
    assert "SESSION_ENGINE" not in production.namespace  # only local.py sets it
    assert production.overrides == [
        Override("overrides.settings.local", "overrides/settings/production.py", production.overrides[0].span)
    ]
    assert production.overrides[0].span.line == 13


def test_import_fallback_keeps_the_list_known(model):
    settings = module(model, "fallbacks.settings")
    assert settings.middleware()[-1] == "debug_toolbar.middleware.DebugToolbarMiddleware"
    options = settings.options("DEBUG_MIDDLEWARE")
    assert [(list(o.value), o.describe()) for o in options] == [
        (["debug_toolbar.middleware.DebugToolbarMiddleware"], "when `debug_toolbar` is installed"),
        ([], "when `debug_toolbar` is not installed"),
    ]


def test_in_place_change_in_if_forgets_only_that_key(model):
    caches = module(model, "inplace.settings.production").value("CACHES")
    assert caches["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert caches["default"]["TIMEOUT"] is UNKNOWN
    assert caches["pages"]["KEY_PREFIX"] is UNKNOWN
    assert caches["pages"]["LOCATION"] == "redis://cache:6379/1"


def test_middleware_classes_when_middleware_is_unset(model):
    base = module(model, "legacy.settings.base")
    assert base.middleware_setting == "MIDDLEWARE_CLASSES"
    assert base.middleware()[0] == "django.middleware.cache.UpdateCacheMiddleware"
    assert module(model, "fallbacks.settings").middleware_setting == "MIDDLEWARE"


def test_environment_branches_are_options(model):
    production = module(model, "branches.settings.production")
    assert production.value("CACHES") is UNKNOWN or production.value("CACHES")["default"]["BACKEND"] is UNKNOWN
    assert [(o.value["default"]["BACKEND"].rsplit(".", 1)[-1], o.describe()) for o in production.options("CACHES")] == [
        ("RedisCache", "when REDIS_URL is set"),
        ("LocMemCache", "when REDIS_URL is not set"),
    ]
    live = module(model, "branches.settings.live")
    assert [(o.value["default"]["BACKEND"].rsplit(".", 1)[-1], o.describe(), o.debug) for o in live.options("CACHES")] == [
        ("LocMemCache", "when DJANGO_DEBUG is set", True),
        ("PyMemcacheCache", "when DJANGO_DEBUG is not set and MEMCACHED_HOST is set", False),
        ("RedisCache", "when DJANGO_DEBUG is not set and MEMCACHED_HOST is not set", False),
    ]


def test_django_version_shims_follow_the_project(model):
    assert model.django_version == (5, 1)
    deploy = module(model, "branches.settings.deploy")
    assert deploy.value("CACHES")["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert deploy.value("SESSION_ENGINE") == "django.contrib.sessions.backends.cached_db"
    assert deploy.options("CACHES")[0].when == ()




# --- the evaluator ------------------------------------------------------------------------------


def test_environment_reads_know_their_variable():
    ns = run_source("""\
        import os
        import environ
        from decouple import config

        env = environ.Env()
        A = os.environ.get("A_URL", "redis://a:6379/0")
        B = config("B_ENGINE", default="django.contrib.sessions.backends.cache")
        C = env.str("C_NAME", default="c")
        D = env.bool("D_FLAG", default=True)
        E = os.environ.get("E_MISSING")
    """)
    assert (ns["A"], ns["A"].var) == ("redis://a:6379/0", "A_URL")
    assert ns["B"].var == "B_ENGINE" and ns["C"].var == "C_NAME"
    assert ns["D"] is True
    assert ns["E"] is UNKNOWN
    assert ns["ns"]["E"].env == frozenset({"E_MISSING"}) and ns["ns"]["E"].unset_value() is None


@pytest.mark.parametrize(
    ("url", "backend", "location"),
    [
        ("locmem://", "django.core.cache.backends.locmem.LocMemCache", None),
        ("locmemcache://unique", "django.core.cache.backends.locmem.LocMemCache", "unique"),
        ("dummy://", "django.core.cache.backends.dummy.DummyCache", None),
        ("dummycache://", "django.core.cache.backends.dummy.DummyCache", None),
        ("file:///var/tmp/cache", "django.core.cache.backends.filebased.FileBasedCache", "/var/tmp/cache"),
        ("filecache:///var/tmp/cache", "django.core.cache.backends.filebased.FileBasedCache", "/var/tmp/cache"),
        ("db://cache_table", "django.core.cache.backends.db.DatabaseCache", "cache_table"),
        ("dbcache://cache_table", "django.core.cache.backends.db.DatabaseCache", "cache_table"),
        ("memcache://m:11211", "django.core.cache.backends.memcached.MemcachedCache", "m:11211"),
        ("pymemcache://m:11211", "django.core.cache.backends.memcached.PyMemcacheCache", "m:11211"),
        ("redis://r:6379/1", "django_redis.cache.RedisCache", "redis://r:6379/1"),
        ("rediss://r:6380/2", "django_redis.cache.RedisCache", "rediss://r:6380/2"),
    ],
)
def test_cache_urls_map_to_backends(url, backend, location):
    parsed = parse_cache_url(url, "CACHE_URL")
    assert parsed["BACKEND"] == backend and parsed["BACKEND"].var == "CACHE_URL"
    assert parsed.get("LOCATION") == location


def test_cache_url_query_goes_to_options_and_top_level():
    parsed = parse_cache_url("redis://r:6379/0?socket_timeout=2&key_prefix=shop&timeout=60", "")
    assert parsed["OPTIONS"] == {"SOCKET_TIMEOUT": 2}
    assert parsed["KEY_PREFIX"] == "shop" and parsed["TIMEOUT"] == 60
    assert parse_cache_url("unknown://x", "") is UNKNOWN


def test_cache_url_readers():
    ns = run_source("""\
        import django_cache_url
        import environ
        env = environ.Env()
        A = env.cache_url("A_URL", default="dummycache://")
        B = env.cache()
        C = django_cache_url.config()
        D = django_cache_url.parse("redis://r:6379/0")
        E = env.cache_url(NAME, default="locmemcache://")
    """)
    assert ns["A"]["BACKEND"].endswith("DummyCache") and ns["A"]["BACKEND"].var == "A_URL"
    assert ns["B"] is UNKNOWN  # django-environ raises when CACHE_URL is unset and has no default
    assert ns["C"]["BACKEND"].endswith("LocMemCache") and ns["C"]["BACKEND"].var == "CACHE_URL"
    assert ns["D"]["BACKEND"] == "django_redis.cache.RedisCache" and not isinstance(ns["D"]["BACKEND"], FromEnv)
    assert ns["E"] is UNKNOWN


def test_if_on_environment_with_default_keeps_the_default_branch_and_both_options():
    ns = run_source("""\
        import environ
        env = environ.Env()
        if env.bool("USE_REDIS", default=False):
            BACKEND = "redis"
        else:
            BACKEND = "locmem"
        CACHES = {"default": {"BACKEND": BACKEND}}
    """)
    assert ns["BACKEND"] == "locmem"  # what the defaults select, as before
    assert [(o.value, o.describe()) for o in ns["ns"]["BACKEND"].options] == [
        ("redis", "when USE_REDIS is set"),
        ("locmem", "when USE_REDIS is not set"),
    ]
    # A value built from it has one option per branch too.
    assert [(o.value["default"]["BACKEND"], o.describe()) for o in ns["ns"]["CACHES"].options] == [
        ("redis", "when USE_REDIS is set"),
        ("locmem", "when USE_REDIS is not set"),
    ]


def test_in_os_environ_and_boolean_tests():
    ns = run_source("""\
        import os
        if "REDIS_URL" in os.environ and not os.environ.get("NO_CACHE"):
            X = "redis"
        else:
            X = "locmem"
        if os.environ.get("Y") is None:
            Y = "unset"
        else:
            Y = "set"
    """)
    assert [(o.value, o.describe()) for o in ns["ns"]["X"].options] == [
        ("redis", "when NO_CACHE or REDIS_URL is set"),
        ("locmem", "when NO_CACHE and REDIS_URL are not set"),
    ]
    assert ns["X"] is UNKNOWN
    assert [(o.value, o.describe()) for o in ns["ns"]["Y"].options] == [
        ("unset", "when Y is not set"),
        ("set", "when Y is set"),
    ]


def test_mutation_after_a_branch_applies_to_every_option():
    ns = run_source("""\
        import os
        if os.environ.get("REDIS_URL"):
            CACHES = {"default": {"BACKEND": "redis"}}
        else:
            CACHES = {"default": {"BACKEND": "locmem"}}
        CACHES["default"]["KEY_PREFIX"] = "shop"
        MIDDLEWARE = ["a"]
        if os.environ.get("TOOLBAR"):
            MIDDLEWARE += ["toolbar"]
        MIDDLEWARE.append("z")
    """)
    assert [o.value["default"] for o in ns["ns"]["CACHES"].options] == [
        {"BACKEND": "redis", "KEY_PREFIX": "shop"},
        {"BACKEND": "locmem", "KEY_PREFIX": "shop"},
    ]
    assert [list(o.value) for o in ns["ns"]["MIDDLEWARE"].options] == [["a", "toolbar", "z"], ["a", "z"]]


def test_undecidable_if_keeps_what_branches_agree_on():
    ns = run_source("""\
        import sys
        CACHES = {"default": {"BACKEND": "x", "OPTIONS": {"a": 1}}}
        if "test" in sys.argv:
            CACHES["default"]["OPTIONS"]["a"] = 2
            CACHES["default"]["TIMEOUT"] = 1
            SAME = 1
        else:
            SAME = 1
    """)
    assert ns["CACHES"]["default"]["BACKEND"] == "x"
    assert ns["CACHES"]["default"]["OPTIONS"]["a"] is UNKNOWN
    assert ns["CACHES"]["default"]["TIMEOUT"] is UNKNOWN
    assert ns["SAME"] == 1
    assert ns["ns"]["CACHES"].options is None  # no condition to word


def test_try_import_fallback_and_other_handlers():
    ns = run_source("""\
        try:
            import sentry_sdk
            SENTRY = True
        except ImportError:
            SENTRY = False
        try:
            TIMEOUT = int(X)
        except ValueError:
            TIMEOUT = 5
    """)
    assert ns["SENTRY"] is True  # the code as written, the package installed
    assert [o.describe() for o in ns["ns"]["SENTRY"].options] == [
        "when `sentry_sdk` is installed",
        "when `sentry_sdk` is not installed",
    ]
    assert ns["TIMEOUT"] is UNKNOWN


def test_override_star_import_is_recorded_with_the_code_before_it():
    overrides: list[Override] = []
    facts = parse(
        "A = 1\ntry:\n    B = 2\n    from .local import *\n    C = 3\nexcept ImportError:\n    D = 4\n",
        "proj.settings",
        settings_like=True,
        path="proj/settings.py",
    )
    ns, _ = run_settings(facts.path, facts.settings, lambda name: None, overrides=overrides)
    assert {k: b.value for k, b in ns.items()} == {"A": 1, "B": 2, "D": 4}
    assert [(o.module, o.span.line) for o in overrides] == [("proj.local", 4)]


def run_with_version(source: str, version: tuple[int, int] | None) -> dict:
    import textwrap

    facts = parse(textwrap.dedent(source), "proj.settings", settings_like=True, path="proj/settings.py")
    ns, _ = run_settings(facts.path, facts.settings, lambda name: None, ctx=Context(django_version=version))
    return {k: b.value for k, b in ns.items()}


def test_django_version_shims():
    source = """\
        import django
        from django import VERSION
        if django.VERSION >= (4, 2):
            A = "new"
        else:
            A = "old"
        B = "new" if False else "x"
        if VERSION[0] < 4:
            C = "old"
        if django.VERSION[:2] <= (3, 2):
            D = "old"
        else:
            D = "new"
    """
    assert run_with_version(source, (5, 1))["A"] == "new"
    assert run_with_version(source, (3, 2))["A"] == "old"
    assert "C" not in run_with_version(source, (5, 1)) and run_with_version(source, (3, 2))["C"] == "old"
    assert run_with_version(source, (5, 1))["D"] == "new" and run_with_version(source, (3, 2))["D"] == "old"
    assert run_with_version(source, None)["A"] is UNKNOWN


def test_configurations_values_name_their_variable():
    ns = run_source("""\
        from configurations import values
        DEBUG = values.BooleanValue(False)
        KEY = values.Value("k", environ_prefix="MYAPP")
        NAME = values.Value("n", environ_name="OTHER", environ_prefix=None)
        SECRET = values.SecretValue()
        PLAIN = values.Value("p", environ=False)
        CACHES = values.CacheURLValue("redis://r:6379/0", alias="main")
    """)
    assert ns["DEBUG"] is False and ns["ns"]["DEBUG"].env == frozenset({"DJANGO_DEBUG"})
    assert ns["KEY"].var == "MYAPP_KEY"
    assert ns["NAME"].var == "OTHER"
    assert ns["SECRET"] is UNKNOWN
    assert ns["PLAIN"] == "p" and not isinstance(ns["PLAIN"], type(ns["KEY"]))
    assert ns["CACHES"]["main"]["BACKEND"] == "django_redis.cache.RedisCache"
    assert ns["CACHES"]["main"]["BACKEND"].var == "CACHE_URL"


def test_configuration_module_outside_a_settings_package_is_read(tmp_path, monkeypatch):
    from tests.helpers import write_tree

    monkeypatch.chdir(tmp_path)
    write_tree(
        tmp_path,
        {
            "manage.py": "",
            "shop/__init__.py": "",
            "shop/conf.py": (
                "from configurations import Configuration, values\n\n\n"
                "class Common(Configuration):\n"
                '    CACHES = values.CacheURLValue("dummy://")\n\n\n'
                "class Prod(Common):\n"
                "    DEBUG = False\n"
            ),
        },
    )
    result = run(tmp_path, ["CL302"], config=Config(cache=False))
    assert [(f.location.path, f.location.line, f.message) for f in result.findings] == [
        (
            "shop/conf.py",
            5,
            "the default cache of production settings `shop.conf.Prod` is `DummyCache` when CACHE_URL "
            "is not set, which stores nothing at all: cached views, throttling and rate limits silently do "
            "nothing",
        )
    ]


def test_conditional_expression_on_the_environment_has_an_option_per_arm():
    ns = run_source("""\
        import os
        REDIS_URL = os.environ.get("REDIS_URL")
        CACHES = {
            "default": {
                "BACKEND": "django_redis.cache.RedisCache" if REDIS_URL else "django.core.cache.backends.locmem.LocMemCache",
                "TIMEOUT": 60 if True else 0,
            },
        }
        SAME = "x" if os.environ.get("FLAG") else "x"
    """)
    assert ns["CACHES"]["default"]["BACKEND"] is UNKNOWN and ns["CACHES"]["default"]["TIMEOUT"] == 60
    assert [(o.value["default"]["BACKEND"].rsplit(".", 1)[-1], o.describe()) for o in ns["ns"]["CACHES"].options] == [
        ("RedisCache", "when REDIS_URL is set"),
        ("LocMemCache", "when REDIS_URL is not set"),
    ]
    assert ns["SAME"] == "x"


def test_many_environment_branches_stay_bounded():
    import time

    lines = ["import os", "X = []"]
    for number in range(40):
        lines += [f'if os.environ.get("V{number}"):', f"    X += [{number}]"]
    started = time.perf_counter()
    ns = run_source("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 5
    assert ns["X"] is UNKNOWN
    assert ns["ns"]["X"].options is None or len(ns["ns"]["X"].options) <= MAX_OPTIONS


def test_configuration_class_without_caches_is_read_whole(tmp_path, monkeypatch):
    from tests.helpers import write_tree

    monkeypatch.chdir(tmp_path)
    write_tree(
        tmp_path,
        {
            "manage.py": "",
            "shop/__init__.py": "",
            "shop/settings.py": (
                "from configurations import Configuration, values\n\n\n"
                "class Base(Configuration):\n"
                '    INSTALLED_APPS = ["shop"]\n'
                "    DEBUG = values.BooleanValue(False)\n\n\n"
                "class Dev(Base):\n"
                '    CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}\n\n\n'
                "class Production(Base):\n"
                "    pass\n"
            ),
            "shop/views.py": (
                "from django.views.decorators.cache import cache_page\n\n\n"
                "@cache_page(60)\n"
                "def home(request):\n"
                "    return None\n"
            ),
        },
    )
    result = run(tmp_path, ["CL302"], config=Config(cache=False))
    assert [(f.location.path, f.location.line, f.message[:70]) for f in result.findings] == [
        ("shop/settings.py", 6, "production settings `shop.settings.Production` define no `CACHES`, so "),
    ]


def test_debug_only_branch_records_no_definitions():
    ns = run_source("""\
        import environ
        env = environ.Env()
        DEBUG = env.bool("DJANGO_DEBUG", default=False)
        if DEBUG:
            CACHES = {"default": {"BACKEND": "locmem", "TIMEOUT": None}}
        else:
            CACHES = {"default": {"BACKEND": "redis"}}
    """)
    assert [(d.name, d.span.line) for d in ns["defs"] if d.name == "CACHES"] == [("CACHES", 7)]
    assert [o.debug for o in ns["ns"]["CACHES"].options] == [True, False]


@pytest.mark.parametrize("star", ["from .common import *", "from common import *"])
def test_a_module_whose_star_import_makes_it_settings_is_parsed_on_demand(tmp_path, monkeypatch, star):
    """``config/prod.py`` holds nothing the byte pre-filter looks for (no cache, no setting it
    knows): it is a settings module because it star-imports one (relatively, or as Python 2's
    implicit relative import), so it is parsed after all. A package re-exporting its parts
    with ``from .base import *`` is not."""
    from tests.helpers import write_tree

    write_tree(
        tmp_path,
        {
            "config/__init__.py": "",
            "config/common.py": 'CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n',
            "config/prod.py": f'{star}\n\nALLOWED_HOSTS = ["shop.example.com"]\n',
            "panels/__init__.py": "from .base import *\n",
            "panels/base.py": "class Panel:\n    pass\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    result = run(tmp_path, ["CL302"], config=Config(cache=False))
    assert [(f.location.path, f.location.line, f.message[:60]) for f in result.findings] == [
        ("config/common.py", 1, "the default cache of production settings `config.prod` is `L"),
    ]
    assert "config.prod" in result.project.modules and "panels" not in result.project.modules
