"""The cache backend settings rules (CL302-CL307) and the static settings rules CL502/CL503:
edge cases on small projects, and a golden test on ``tests/fixtures/settings_project``."""

from __future__ import annotations

from pathlib import Path

import pytest

from cachelint.config import Config
from cachelint.engine import Result
from cachelint.finding import Finding, Severity
from cachelint.registry import all_rules
from cachelint.settings_queries import parse_redis_url
from tests.helpers import expected_markers, run, triples, write_tree

SETTINGS_PROJECT = Path(__file__).parent / "fixtures" / "settings_project"
OWN_CODES = {"CL302", "CL303", "CL304", "CL305", "CL306", "CL307", "CL308", "CL502", "CL503"}

REDIS_OPTIONS = '{"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2}'
STORAGES = """STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
"""


@pytest.fixture
def scan(tmp_path, monkeypatch):
    """Write ``files`` as a project (with manage.py) and run ``codes`` on it."""
    monkeypatch.chdir(tmp_path)

    def scan(files: dict[str, str], codes: list[str], django_version: str = "") -> Result:
        packages = {
            f"{parent}/__init__.py": "" for path in files for parent in Path(path).parents if parent.parts
        }
        write_tree(tmp_path, {"manage.py": "", **packages, **files})
        result = run(tmp_path, codes, config=Config(cache=False, django_version=django_version))
        assert result.errors == []
        return result

    return scan


def only(result: Result) -> Finding:
    assert len(result.findings) == 1, result.findings
    return result.findings[0]


def related(finding: Finding) -> list[tuple[str, int, str]]:
    return [(e.location.path, e.location.line, e.label) for e in finding.related]


# --- the golden fixture ---------------------------------------------------------------------------


def fixture_files(root: Path) -> dict[str, str]:
    """The project's Python sources by relative path (where the expectation markers are)."""
    return {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(root.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def settings_project() -> Result:
    """Every rule, the opt-in CL503 included (its marker is in production.py)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(SETTINGS_PROJECT)  # finding paths are relative to the working directory
        return run(SETTINGS_PROJECT, ["ALL"], config=Config(cache=False))


def test_settings_project_has_markers_for_every_rule():
    codes = {code for _, _, code in expected_markers(fixture_files(SETTINGS_PROJECT))}
    assert codes == OWN_CODES


def test_settings_project_yields_exactly_the_marked_findings(settings_project):
    assert settings_project.errors == []
    assert triples(settings_project) == expected_markers(fixture_files(SETTINGS_PROJECT))


def test_rule_metadata():
    rules = all_rules()
    assert {code: rules[code].severity for code in OWN_CODES} == {
        "CL302": Severity.WARNING,
        "CL303": Severity.WARNING,
        "CL304": Severity.WARNING,
        "CL305": Severity.WARNING,
        "CL306": Severity.WARNING,
        "CL307": Severity.ERROR,
        "CL308": Severity.WARNING,
        "CL502": Severity.ERROR,
        "CL503": Severity.WARNING,
    }
    assert [code for code in sorted(OWN_CODES) if not rules[code].default_enabled] == ["CL503"]


# --- CL302 process-local-cache-in-production ------------------------------------------------------

LOCMEM = '{"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}'


def test_cl302_base_backend_is_reported_at_its_definition(scan):
    result = scan(
        {
            "proj/settings/base.py": f"X = 1\nCACHES = {LOCMEM}\n",
            "proj/settings/production.py": f"from .base import *\nDEBUG = False\n{STORAGES}",
            "proj/settings/dev.py": "from .base import *\nDEBUG = True\n",
        },
        ["CL302"],
    )
    finding = only(result)
    assert (finding.location.path, finding.location.line, finding.location.col) == (
        "proj/settings/base.py",
        2,
        23,
    )
    assert finding.message == (
        "the default cache of production settings `proj.settings.production` is `LocMemCache`, "
        "which keeps a separate cache in every worker process: invalidation, throttling and rate "
        "limits do not hold across workers"
    )
    assert related(finding) == [
        ("proj/settings/production.py", 2, "production settings: DEBUG is False here"),
        ("proj/settings/production.py", 1, "`proj.settings.production` star-imports it and keeps it"),
    ]


def test_cl302_override_env_default_and_unknown_backends_are_silent(scan):
    result = scan(
        {
            "proj/settings/base.py": f"CACHES = {LOCMEM}\n",
            # overrides the base's CACHES
            "proj/settings/production.py": (
                "from .base import *\nDEBUG = False\n"
                'CACHES = {"default": {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache"}}\n'
            ),
            # an environment variable's default of unknown name (reported when the name is known:
            # tests/test_settings_eval.py)
            "proj/settings/live.py": (
                "import os\nCACHES = {'default': {'BACKEND': os.environ.get(NAME, "
                "'django.core.cache.backends.locmem.LocMemCache')}}\n"
            ),
            # not evaluable
            "proj/settings/prod_eu.py": "import os\nCACHES = {'default': {'BACKEND': os.environ['CACHE']}}\n",
            # named for tests, although DEBUG is False
            "proj/settings/ci_production.py": f"DEBUG = False\nCACHES = {LOCMEM}\n",
        },
        ["CL302"],
    )
    assert triples(result) == []


def test_cl302_dummy_cache_message(scan):
    finding = only(
        scan(
            {
                "proj/settings/prod.py": 'CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}\n'
            },
            ["CL302"],
        )
    )
    assert (
        "`DummyCache`, which stores nothing at all: cached views, throttling and rate limits"
        in finding.message
    )
    assert related(finding) == [("proj/settings/prod.py", 1, "production settings `proj.settings.prod`")]


def test_cl302_missing_caches_needs_evidence_of_cache_use(scan):
    files = {
        "proj/settings/production.py": "DEBUG = False\nINSTALLED_APPS = ['shop']\n",
        # tests use the cache, production code does not
        "shop/tests.py": "from django.core.cache import cache\n\ndef test_it():\n    cache.clear()\n",
    }
    assert triples(scan(files, ["CL302"])) == []
    files["shop/views.py"] = (
        "from django.views.decorators.cache import cache_page\n\n@cache_page(60)\ndef home(request):\n    return 1\n"
    )
    finding = only(scan(files, ["CL302"]))
    assert (finding.location.path, finding.location.line) == ("proj/settings/production.py", 1)
    assert finding.message.startswith("production settings `proj.settings.production` define no `CACHES`")
    assert related(finding) == [("shop/views.py", 3, "`cache_page` caches a view here")]


@pytest.mark.parametrize(
    ("setting", "label"),
    [
        (
            'SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"',
            "sessions are stored in the cache here",
        ),
        ('INSTALLED_APPS = ["django_ratelimit"]', "django-ratelimit counts requests in the cache here"),
        (
            'RATELIMIT_USE_CACHE = "default"',
            "django-ratelimit counts requests in the cache (configured here)",
        ),
        (
            'REST_FRAMEWORK = {"DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"]}',
            "DRF throttling counts requests in the cache here",
        ),
        (
            'MIDDLEWARE = ["django.middleware.cache.CacheMiddleware"]',
            "per-site caching with `CacheMiddleware` here",
        ),
    ],
)
def test_cl302_missing_caches_settings_evidence(scan, setting, label):
    source = f'"""Prod."""\n{setting}\n'
    if not setting.startswith("INSTALLED_APPS"):
        source += 'INSTALLED_APPS = ["shop"]\n'
    finding = only(scan({"proj/settings/production.py": source}, ["CL302"]))
    assert finding.location.line == 1  # no DEBUG = False in the module: its first line
    assert related(finding) == [("proj/settings/production.py", 2, label)]


@pytest.mark.parametrize(
    ("settings", "label"),
    [
        (
            'INSTALLED_APPS = ["axes"]\nAXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"\n',
            "django-axes' cache handler counts failed logins in the cache here",
        ),
        (
            'INSTALLED_APPS = ["allauth.account"]\n',
            "django-allauth counts login attempts and rate limits in the cache here",
        ),
        (
            'INSTALLED_APPS = ["cachalot"]\n',
            "django-cachalot caches ORM query results in the cache and invalidates them there here",
        ),
        (
            'INSTALLED_APPS = ["constance"]\n'
            'CONSTANCE_BACKEND = "constance.backends.database.DatabaseBackend"\n'
            'CONSTANCE_DATABASE_CACHE_BACKEND = "default"\n',
            "django-constance caches its live settings in the cache here",
        ),
        (
            'INSTALLED_APPS = ["django_q"]\nQ_CLUSTER = {"name": "q", "django_redis": "default"}\n',
            "django-q uses the cache as its task broker here",
        ),
        (
            'INSTALLED_APPS = ["django_rq"]\nRQ_QUEUES = {"default": {"USE_REDIS_CACHE": "default"}}\n',
            "django-rq queues jobs through a cache's Redis connection here",
        ),
        (
            'INSTALLED_APPS = ["ratelimitbackend"]\n',
            "django-ratelimit-backend counts login attempts in the cache here",
        ),
    ],
)
def test_cl302_installed_apps_that_keep_state_in_the_cache(scan, settings, label):
    finding = only(scan({"proj/settings/production.py": f'"""Prod."""\n{settings}'}, ["CL302"]))
    assert related(finding) == [("proj/settings/production.py", 2, label)]


@pytest.mark.parametrize(
    "settings",
    [
        'INSTALLED_APPS = ["axes"]\n',  # the database handler (the default)
        'INSTALLED_APPS = ["axes"]\nAXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"\n',
        'INSTALLED_APPS = ["allauth.account"]\nACCOUNT_RATE_LIMITS = False\n',
        'INSTALLED_APPS = ["cachalot"]\nCACHALOT_ENABLED = False\n',
        'INSTALLED_APPS = ["constance"]\n',  # the Redis backend: not the Django cache
        'INSTALLED_APPS = ["constance"]\nCONSTANCE_BACKEND = "constance.backends.database.DatabaseBackend"\n',
        'INSTALLED_APPS = ["django_q"]\nQ_CLUSTER = {"name": "q", "orm": "default"}\n',
        'INSTALLED_APPS = ["django_rq"]\nRQ_QUEUES = {"default": {"URL": "redis://redis:6379/0"}}\n',
        # cacheops and huey use Redis themselves, not CACHES
        'INSTALLED_APPS = ["cacheops", "huey.contrib.djhuey"]\nCACHEOPS_REDIS = "redis://redis:6379/1"\n',
        # the setting of a package that is not installed
        'INSTALLED_APPS = ["shop"]\nAXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"\n',
    ],
)
def test_cl302_installed_apps_that_do_not_use_the_django_cache(scan, settings):
    assert triples(scan({"proj/settings/production.py": f'"""Prod."""\n{settings}'}, ["CL302"])) == []


def test_cl302_drf_throttling_from_a_star_imported_base_and_later_changes(scan):
    files = {
        "proj/settings/base.py": (
            'INSTALLED_APPS = ["rest_framework"]\n'
            'REST_FRAMEWORK = {"DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"]}\n'
        ),
        "proj/settings/production.py": "from .base import *\nDEBUG = False\n",
        "proj/settings/live.py": (
            'INSTALLED_APPS = ["rest_framework"]\nREST_FRAMEWORK = {}\n'
            'REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = ("rest_framework.throttling.UserRateThrottle",)\n'
        ),
    }
    result = scan(files, ["CL302"])
    assert [(f.location.path, f.location.line, related(f)) for f in result.findings] == [
        (
            "proj/settings/live.py",
            1,
            [("proj/settings/live.py", 2, "DRF throttling counts requests in the cache here")],
        ),
        (
            "proj/settings/production.py",
            2,
            [("proj/settings/base.py", 2, "DRF throttling counts requests in the cache here")],
        ),
    ]


def test_cl302_throttle_classes_on_views(scan):
    settings = {"proj/settings/production.py": 'DEBUG = False\nINSTALLED_APPS = ["api"]\n'}
    views = {
        # no cache-related token: parsed because CL302 asks for files that throttle
        "api/views.py": (
            "from rest_framework.throttling import UserRateThrottle\n"
            "from rest_framework.views import APIView\n\n"
            "class Open(APIView):\n    throttle_classes = []\n\n"
            "class Orders(APIView):\n    throttle_classes = [UserRateThrottle]\n"
        ),
    }
    finding = only(scan({**settings, **views}, ["CL302"]))
    assert related(finding) == [
        ("api/views.py", 8, "DRF throttling counts requests in the cache for `Orders` here")
    ]
    decorated = {
        "api/views.py": (
            "from rest_framework.decorators import api_view, throttle_classes\n"
            "from rest_framework.throttling import AnonRateThrottle\n\n"
            "@api_view(['GET'])\n@throttle_classes([AnonRateThrottle])\ndef ping(request):\n    return 1\n"
        ),
    }
    finding = only(scan({**settings, **decorated}, ["CL302"]))
    assert related(finding) == [
        ("api/views.py", 5, "DRF throttling counts requests in the cache for `ping` here")
    ]
    empty = {"api/views.py": "class Open:\n    throttle_classes = ()\n"}
    assert triples(scan({**settings, **empty}, ["CL302"])) == []


def test_cl302_missing_caches_silent_cases(scan):
    engine = 'SESSION_ENGINE = "django.contrib.sessions.backends.cache"\n'
    files = {
        "proj/settings/production.py": (
            'INSTALLED_APPS = []\nRATELIMIT_ENABLE = False\nSESSION_ENGINE = "django.contrib.sessions.backends.db"\n'
        ),
        "proj/settings/dev.py": f"DEBUG = False\nINSTALLED_APPS = []\n{engine}",
        # CACHES may come from what cachelint cannot read: a star import from outside the scan,
        # or django-split-settings' include() (then INSTALLED_APPS is missing too).
        "proj/settings/prod_eu.py": f"from secrets_outside import *\nINSTALLED_APPS = []\n{engine}",
        "proj/settings/prod_us.py": f'from split_settings.tools import include\ninclude("components/*.py")\n{engine}',
    }
    assert triples(scan(files, ["CL302"])) == []


# --- CL303 cache-timeout-never-expires -------------------------------------------------------------


def test_cl303_base_timeout_counts_only_through_a_used_module(scan):
    base = (
        'CACHES = {"default": {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",\n'
        '    "TIMEOUT": None}}\n'
    )
    files = {
        "proj/settings/base.py": base,
        "proj/settings/dev.py": "from .base import *\n",
        "proj/settings/production.py": (
            'from .base import *\nCACHES = {"default": {"BACKEND": "x.Cache", "TIMEOUT": 60}}\n'
        ),
    }
    assert triples(scan(files, ["CL303"])) == []
    files["proj/settings/staging.py"] = "from .base import *\n"
    finding = only(scan(files, ["CL303"]))
    assert (finding.location.path, finding.location.line, finding.location.col) == (
        "proj/settings/base.py",
        2,
        5,
    )
    assert finding.message == (
        'cache `default` has `"TIMEOUT": None`: every entry stored without its own timeout never '
        "expires, so missed invalidations stay stale forever"
    )


def test_cl303_silent_cases(scan):
    files = {
        "proj/settings.py": (
            "import os\nCACHES = {\n"
            '    "dummy": {"BACKEND": "django.core.cache.backends.dummy.DummyCache", "TIMEOUT": None},\n'
            '    "env": {"BACKEND": "x.Cache", "TIMEOUT": os.environ["TIMEOUT"]},\n'
            '    "default": {"BACKEND": "x.Cache"},\n'
            "}\n"
        ),
    }
    assert triples(scan(files, ["CL303"])) == []


def test_cl303_found_even_when_caches_is_changed_later_in_an_unknown_way(scan):
    files = {
        "proj/settings.py": (
            "import os\n"
            'CACHES = {"default": {"BACKEND": "x.Cache", "TIMEOUT": None}}\n'
            'if os.environ.get("FAST"):\n'
            '    CACHES["default"]["OPTIONS"] = {}\n'
        ),
    }
    # The later change makes CACHES unknown as a whole; the unconditional assignment still counts.
    assert triples(scan(files, ["CL303"])) == [("proj/settings.py", 2, "CL303")]
    files["proj/settings.py"] = (
        "import os\n"
        'if os.environ.get("FAST"):\n'
        '    CACHES = {"default": {"BACKEND": "x.Cache", "TIMEOUT": None}}\n'
    )
    assert triples(scan(files, ["CL303"])) == []  # only in a branch that may not run


# --- CL304 redis-shared-across-roles ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://10.0.0.1", ("tcp", "10.0.0.1", 6379, 0)),
        ("redis://10.0.0.1:6380/2", ("tcp", "10.0.0.1", 6380, 2)),
        ("rediss://user:secret@Cache.Example.com:6379/3", ("tcp", "cache.example.com", 6379, 3)),
        ("redis://10.0.0.1:6379/1?db=4", ("tcp", "10.0.0.1", 6379, 4)),
        ("redis://127.0.0.1:6379/0", ("tcp", "localhost", 6379, 0)),
        ("redis://localhost/0", ("tcp", "localhost", 6379, 0)),
        ("unix:///run/redis.sock?db=1", ("unix", "/run/redis.sock", 0, 1)),
        ("unix:///run/redis.sock", ("unix", "/run/redis.sock", 0, 0)),
        ("127.0.0.1:6379:1", None),
        ("redis://10.0.0.1:notaport/0", None),
        ("redis://10.0.0.1/x", None),
        ("amqp://guest@rabbit//", None),
        ("django-db", None),
    ],
)
def test_cl304_parse_redis_url(url, expected):
    assert parse_redis_url(url) == expected


def _redis_cache(location: str) -> str:
    return (
        f'{{"BACKEND": "django_redis.cache.RedisCache", "LOCATION": {location}, "OPTIONS": {REDIS_OPTIONS}}}'
    )


def test_cl304_celery_broker_in_the_cache_database(scan):
    settings = (
        f'CACHES = {{"default": {_redis_cache(repr("redis://10.0.0.1:6379/0"))}}}\n'
        'CELERY_BROKER_URL = "redis://10.0.0.1:6379"\n'
        'CELERY_RESULT_BACKEND = "redis://10.0.0.1:6379/1"\n'
    )
    finding = only(scan({"proj/settings.py": settings}, ["CL304"]))
    assert (finding.location.path, finding.location.line) == ("proj/settings.py", 2)
    assert finding.message == (
        "`CELERY_BROKER_URL` uses Redis `10.0.0.1:6379` database 0, like cache `default`: a cache "
        "flush or eviction also deletes queued Celery tasks"
    )
    assert related(finding) == [("proj/settings.py", 1, "cache `default` uses the same database here")]


def test_cl304_star_import_chain_and_environment_defaults(scan):
    files = {
        "proj/settings/base.py": (
            "import os\n"
            'REDIS_URL = os.environ.get("REDIS_URL", "redis://10.0.0.1:6379")\n'
            f'CACHES = {{"default": {_redis_cache(repr("redis://10.0.0.1:6379/1"))}}}\n'
        ),
        "proj/settings/common.py": "from .base import *\n",
        "proj/settings/production.py": 'from .common import *\nBROKER_URL = f"{REDIS_URL}/1"\n',
    }
    finding = only(scan(files, ["CL304"]))
    assert (finding.location.path, finding.location.line) == ("proj/settings/production.py", 2)
    assert finding.message.endswith("(as the environment-variable defaults configure it)")
    assert related(finding) == [("proj/settings/base.py", 3, "cache `default` uses the same database here")]


UNKNOWN_URL = 'os.environ["REDIS_URL"]'


def test_cl304_silent_cases(scan):
    files = {
        # Unknown values are never compared.
        "proj/settings/production.py": (
            "import os\n"
            f'CACHES = {{"default": {_redis_cache(UNKNOWN_URL)}}}\n'
            'CELERY_BROKER_URL = os.environ["REDIS_URL"]\n'
        ),
        # Celery's broker and result backend may share a database; only caches are checked.
        "proj/settings/worker.py": (
            'CELERY_BROKER_URL = "redis://10.0.0.1:6379/0"\nCELERY_RESULT_BACKEND = "redis://10.0.0.1:6379/0"\n'
        ),
        # Same host, other database; same database number, other server.
        "proj/settings/staging.py": (
            f'CACHES = {{"default": {_redis_cache(repr("redis://10.0.0.1:6379/1"))},\n'
            f'    "b": {_redis_cache(repr("redis://10.0.0.2:6379/0"))}}}\n'
            'CELERY_BROKER_URL = "redis://10.0.0.1:6379/0"\n'
            'CHANNEL_LAYERS = {"default": {"CONFIG": {"hosts": [("10.0.0.1", 6380)]}}}\n'
        ),
        # Development settings all point at one local Redis, on purpose.
        "proj/settings/local.py": (
            f'CACHES = {{"default": {_redis_cache(repr("redis://localhost:6379/0"))}}}\n'
            'CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"\n'
        ),
    }
    assert triples(scan(files, ["CL304"])) == []


def test_cl304_channels_hosts_and_cache_aliases(scan):
    settings = (
        "CACHES = {\n"
        f'    "default": {_redis_cache(repr("redis://localhost:6379/0"))},\n'
        f'    "sessions": {_redis_cache(repr("redis://127.0.0.1:6379/0"))},\n'
        "}\n"
        "CHANNEL_LAYERS = {\n"
        '    "default": {"CONFIG": {"hosts": [{"address": "redis://localhost:6379"}]}},\n'
        '    "other": {"CONFIG": {"hosts": [("localhost", 6379)]}},\n'
        "}\n"
    )
    result = scan({"proj/settings.py": settings}, ["CL304"])
    assert triples(result) == [
        ("proj/settings.py", 3, "CL304"),
        ("proj/settings.py", 6, "CL304"),
        ("proj/settings.py", 7, "CL304"),
    ]
    assert result.findings[0].message.startswith(
        "cache `sessions` uses Redis `localhost:6379` database 0, like cache `default`"
    )


# --- CL305 cache-key-collision-across-environments -----------------------------------------------


def _module(location: str, extra: str = "") -> str:
    return (
        'CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",\n'
        f'    "LOCATION": {location},{extra}\n'
        '    "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2}}}\n'
    )


def test_cl305_pair_reported_once_at_the_later_module(scan):
    files = {
        "proj/settings/production.py": _module('"redis://10.1.2.3:6379/0"'),
        "proj/settings/staging.py": _module('"redis://10.1.2.3/0"'),
        "proj/settings/uat.py": _module('"redis://10.1.2.3:6379"', ' "VERSION": 1, "KEY_PREFIX": "",'),
    }
    result = scan(files, ["CL305"])
    assert triples(result) == [("proj/settings/staging.py", 2, "CL305"), ("proj/settings/uat.py", 2, "CL305")]
    finding = result.findings[0]
    assert finding.message == (
        "cache `default` of `proj.settings.staging` and cache `default` of `proj.settings.production` "
        'use the same Redis database with the same `KEY_PREFIX` ("") and `VERSION` (1): the two '
        "environments read and overwrite each other's entries"
    )
    assert related(finding) == [
        ("proj/settings/production.py", 2, "`proj.settings.production` uses the same cache here")
    ]


def test_cl305_siblings_inheriting_one_base_cache(scan):
    files = {
        "proj/settings/base.py": 'CACHES = {"default": {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",\n'
        '    "LOCATION": "memcached.example.com:11211"}}\n',
        "proj/settings/production.py": "from .base import *\n",
        "proj/settings/staging.py": "from .base import *\n",
    }
    assert triples(scan(files, ["CL305"])) == [("proj/settings/base.py", 2, "CL305")]


@pytest.mark.parametrize(
    ("production", "staging"),
    [
        ('"redis://10.1.2.3:6379/0"', '"redis://10.1.2.3:6379/1"'),  # other database
        ('"redis://localhost:6379/0"', '"redis://localhost:6379/0"'),  # each machine's own
        ('"redis://redis:6379/0"', '"redis://redis:6379/0"'),  # a per-environment service name
        ('"unix:///run/redis.sock"', '"unix:///run/redis.sock"'),
        # environment-variable defaults
        ('os.environ.get("R", "redis://10.1.2.3/0")', 'os.environ.get("R", "redis://10.1.2.3/0")'),
        ('os.environ["R"]', 'os.environ["R"]'),
    ],
)
def test_cl305_locations_not_compared(scan, production, staging):
    files = {
        "proj/settings/production.py": "import os\n" + _module(production),
        "proj/settings/staging.py": "import os\n" + _module(staging),
    }
    assert triples(scan(files, ["CL305"])) == []


@pytest.mark.parametrize(
    "extra",
    [
        ' "KEY_PREFIX": "staging",',
        ' "VERSION": 2,',
        ' "KEY_FUNCTION": "proj.cache.make_key",',
        ' "KEY_PREFIX": os.environ.get("PREFIX", ""),',
    ],
)
def test_cl305_keys_that_differ_or_may_differ(scan, extra):
    files = {
        "proj/settings/production.py": "import os\n" + _module('"redis://10.1.2.3/0"'),
        "proj/settings/staging.py": "import os\n" + _module('"redis://10.1.2.3/0"', extra),
        "proj/settings/dev.py": _module('"redis://10.1.2.3/0"'),  # skipped by name
    }
    assert triples(scan(files, ["CL305"])) == []


def _backend_module(backend: str, location: str) -> str:
    return f'CACHES = {{"default": {{"BACKEND": "{backend}",\n    "LOCATION": "{location}"}}}}\n'


def test_cl305_locmem_cache_is_not_memcached_whatever_its_location(scan):
    """`LocMemCache` holds the letters of "memcache", but each process keeps its own entries: two
    environments naming the same (dotted) LOCATION share nothing."""
    backend = "django.core.cache.backends.locmem.LocMemCache"
    files = {
        "proj/settings/production.py": _backend_module(backend, "site.cache"),
        "proj/settings/staging.py": _backend_module(backend, "site.cache"),
    }
    assert triples(scan(files, ["CL305"])) == []


@pytest.mark.parametrize(
    ("backend", "kind"),
    [
        ("django.core.cache.backends.memcached.PyMemcacheCache", "Memcached server"),
        ("django_pylibmc.memcached.PyLibMCCache", "Memcached server"),
        ("django_bmemcached.memcached.BMemcached", "Memcached server"),
    ],
)
def test_cl305_memcached_backends_by_their_dotted_path(scan, backend, kind):
    files = {
        "proj/settings/production.py": _backend_module(backend, "cache.example.com:11211"),
        "proj/settings/staging.py": _backend_module(backend, "cache.example.com:11211"),
    }
    finding = only(scan(files, ["CL305"]))
    assert (finding.location.path, finding.location.line) == ("proj/settings/staging.py", 2)
    assert f"use the same {kind} with" in finding.message


def test_cl305_backend_kind_is_a_word_of_the_dotted_path():
    from cachelint.rules.cache_key_collision_across_environments import _backend_kind

    assert _backend_kind("django.core.cache.backends.locmem.LocMemCache") is None
    assert _backend_kind("django.core.cache.backends.db.DatabaseCache") is None
    assert _backend_kind("proj.cache.CredisCache") is None  # "redis" only inside a word
    assert _backend_kind("django_redis.cache.RedisCache") == "redis"
    assert _backend_kind("redis_cache.ShardedRedisCache") == "redis"
    assert _backend_kind("django.core.cache.backends.redis.RedisCache") == "redis"
    assert _backend_kind("django.core.cache.backends.memcached.PyLibMCCache") == "memcached"
    assert _backend_kind("proj.backends.PyMemcacheCache") == "memcached"


# --- CL306 sessions-in-evicting-cache --------------------------------------------------------------

CACHE_ENGINE = 'SESSION_ENGINE = "django.contrib.sessions.backends.cache"\n'


def test_cl306_message_and_location(scan):
    finding = only(scan({"proj/settings.py": f"X = 1\n{CACHE_ENGINE}"}, ["CL306"]))
    assert (finding.location.path, finding.location.line) == ("proj/settings.py", 2)
    assert finding.message == (
        "sessions are stored only in the cache: an eviction, a restart of the cache server or a "
        "`cache.clear()` logs users out"
    )


def test_cl306_silent_cases(scan):
    files = {
        "proj/settings/base.py": CACHE_ENGINE,
        "proj/settings/test.py": "from .base import *\n",  # the base reaches only test settings
        "proj/settings/production.py": 'SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"\n',
        "proj/settings/live.py": (
            'import os\nSESSION_ENGINE = os.environ.get(ENGINE_VARIABLE, "django.contrib.sessions.backends.cache")\n'
        ),
    }
    assert triples(scan(files, ["CL306"])) == []


# --- CL307 removed-cache-backend-or-setting --------------------------------------------------------

MEMCACHED = 'CACHES = {"default": {"BACKEND": "django.core.cache.backends.memcached.MemcachedCache"}}\n'


def test_cl307_memcached_cache_gated_by_the_declared_django_version(scan):
    files = {"proj/settings.py": MEMCACHED}
    finding = only(scan(files, ["CL307"]))
    assert finding.severity is Severity.ERROR
    assert finding.message == (
        "cache `default` uses `MemcachedCache`, which Django 4.1 removed: the first use of the "
        "cache fails with an import error (Django 6.1 assumed: no version declared)"
    )
    assert finding.hint == (
        "use `django.core.cache.backends.memcached.PyMemcacheCache` (and install its client library)"
    )
    assert triples(scan(files, ["CL307"], django_version="4.0")) == []
    assert triples(scan(files, ["CL307"], django_version="4.1")) == [("proj/settings.py", 1, "CL307")]
    files["requirements.txt"] = "Django==3.2.25\n"
    assert triples(scan(files, ["CL307"])) == []


def test_cl307_removed_settings(scan):
    files = {"proj/settings.py": 'CACHE_BACKEND = "locmem://"\nCACHE_MIDDLEWARE_ANONYMOUS_ONLY = True\n'}
    result = scan(files, ["CL307"])
    assert [f.message for f in result.findings] == [
        "`CACHE_BACKEND` was removed in Django 1.5: Django ignores it, so this cache configuration has no effect"
        " (Django 6.1 assumed: no version declared)",
        "`CACHE_MIDDLEWARE_ANONYMOUS_ONLY` was removed in Django 1.8: Django ignores it, so the "
        "per-site cache also stores the pages of logged-in users (Django 6.1 assumed: no version declared)",
    ]
    assert triples(scan(files, ["CL307"], django_version="1.4")) == []
    assert triples(scan(files, ["CL307"], django_version="1.7")) == [("proj/settings.py", 1, "CL307")]


def test_cl307_django_redis_location_without_scheme(scan):
    settings = (
        'CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache",\n'
        '    "LOCATION": ["redis://10.0.0.1:6379/1",\n'
        '                 "10.0.0.2:6380:1"]},\n'
        '    "sock": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "unix:/run/redis.sock"},\n'
        '    "builtin": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "10.0.0.2:6380"},\n'
        "}\n"
    )
    finding = only(scan({"proj/settings.py": settings}, ["CL307"]))
    assert (finding.location.line, finding.location.col) == (3, 18)  # the list item
    assert finding.hint == "write it as a URL: `redis://10.0.0.2:6380/1`"


def test_cl307_silent_for_environment_defaults_and_version_checks(scan):
    settings = (
        "import os\nimport django\n"
        'CACHES = {"default": {"BACKEND": os.environ.get("B", "django.core.cache.backends.memcached.MemcachedCache")},\n'
        '    "r": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": os.environ.get("L", "127.0.0.1:6379:1")}}\n'
        "if django.VERSION < (1, 8):\n"
        "    CACHE_MIDDLEWARE_ANONYMOUS_ONLY = True\n"
    )
    assert triples(scan({"proj/settings.py": settings}, ["CL307"])) == []


# --- CL502 legacy-storage-setting ------------------------------------------------------------------

LEGACY = (
    'STATICFILES_STORAGE = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"\n'
    'DEFAULT_FILE_STORAGE = "storages.backends.s3.S3Storage"\n'
)


def test_cl502_error_from_django_5_1_and_when_unknown(scan):
    for version in ("", "5.1", "5.2"):
        result = scan({"proj/settings.py": LEGACY}, ["CL502"], django_version=version)
        assert [(f.location.line, f.severity) for f in result.findings] == [
            (1, Severity.ERROR),
            (2, Severity.ERROR),
        ]
    first = result.findings[0]
    assert first.message == (
        "`STATICFILES_STORAGE` was removed in Django 5.1: Django ignores it and uses "
        '`STORAGES["staticfiles"]` (by default a plain file system storage) instead'
        " (Django 5.2 from the django-version setting)"
    )
    assert first.hint == (
        'set STORAGES = {..., "staticfiles": {"BACKEND": '
        '"django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}} and remove `STATICFILES_STORAGE`'
    )


def test_cl502_warning_while_deprecated(scan):
    result = scan({"proj/settings.py": LEGACY, "requirements.txt": "django==4.2.16\n"}, ["CL502"])
    assert [(f.location.line, f.severity) for f in result.findings] == [
        (1, Severity.WARNING),
        (2, Severity.WARNING),
    ]
    assert result.findings[1].message == (
        "`DEFAULT_FILE_STORAGE` is deprecated since Django 4.2 and removed in 5.1, where it is "
        'silently ignored: configure `STORAGES["default"]` instead (Django 4.2 from requirements.txt)'
    )
    assert len(scan({"proj/settings.py": LEGACY}, ["CL502"], django_version="5.0").findings) == 2


def test_cl502_not_flagged_before_storages_existed(scan):
    assert triples(scan({"proj/settings.py": LEGACY}, ["CL502"], django_version="4.1")) == []
    assert (
        triples(scan({"proj/settings.py": LEGACY, "requirements.txt": "Django>=3.2,<4\n"}, ["CL502"])) == []
    )


def test_cl502_unknown_value_flagged_version_check_not(scan):
    settings = (
        "import os\nimport django\n"
        'STATICFILES_STORAGE = os.environ["STATIC_STORAGE"]\n'
        "if django.VERSION < (4, 2):\n"
        '    DEFAULT_FILE_STORAGE = "storages.backends.s3.S3Storage"\n'
    )
    finding = only(scan({"proj/settings.py": settings}, ["CL502"]))
    assert finding.location.line == 3
    assert finding.hint == (
        'set STORAGES = {..., "staticfiles": {"BACKEND": ...}} and remove `STATICFILES_STORAGE`'
    )


# --- CL503 static-max-age-too-short ----------------------------------------------------------------


def test_cl503_is_off_by_default_and_flags_short_max_age_in_production(scan):
    files = {
        "proj/settings/production.py": f"DEBUG = False\n{STORAGES}WHITENOISE_MAX_AGE = 3600\n",
        "proj/settings/dev.py": "DEBUG = False\nWHITENOISE_MAX_AGE = 0\n",
        "proj/settings/live.py": "WHITENOISE_MAX_AGE = 86400\n",
        "proj/settings/prod_eu.py": "WHITENOISE_MAX_AGE = None\n",
        "proj/settings/staging.py": "WHITENOISE_MAX_AGE = 60\n",  # not production
    }
    assert not all_rules()["CL503"].default_enabled
    finding = only(scan(files, ["CL503"]))
    assert (finding.location.path, finding.location.line) == ("proj/settings/production.py", 6)
    assert finding.message == (
        "`WHITENOISE_MAX_AGE` is 3600 seconds in production settings `proj.settings.production`: "
        "browsers and CDNs re-fetch static files without a hashed name that often"
    )
    assert related(finding) == [
        ("proj/settings/production.py", 1, "production settings: DEBUG is False here")
    ]
