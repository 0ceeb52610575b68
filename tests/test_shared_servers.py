"""CL308 (shared-cache-without-key-prefix), CL309 (third-party-cache-without-failsafe), the
third-party roles of CL304, and CL501's hashed-anyway cases: golden tests on
``tests/fixtures/{shared_cache,third_party_redis,bundler}_project`` (every rule on, exact
``(path, line, code)`` equality with the ``# expect:`` markers), exact messages and evidence,
and edge cases on small projects."""

from __future__ import annotations

from pathlib import Path

import pytest

from cachelint.config import Config
from cachelint.engine import Result
from cachelint.facts.bundler import CONFIG_NAME, parse_bundler
from cachelint.finding import Finding, Severity
from cachelint.registry import all_rules
from tests.helpers import expected_markers, run, triples, write_tree

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = FIXTURES / "shared_cache_project"
THIRD_PARTY = FIXTURES / "third_party_redis_project"
BUNDLER = FIXTURES / "bundler_project"

TIMEOUTS = '{"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2}'


def _python_files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*.py"))
        if "__pycache__" not in p.parts
    }


def _scan_fixture(root: Path) -> Result:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        return run(root, ["ALL"], config=Config(cache=False))


@pytest.fixture(scope="module")
def shared() -> Result:
    return _scan_fixture(SHARED)


@pytest.fixture(scope="module")
def third_party() -> Result:
    return _scan_fixture(THIRD_PARTY)


@pytest.fixture(scope="module")
def bundler() -> Result:
    return _scan_fixture(BUNDLER)


@pytest.fixture
def scan(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def scan(files: dict[str, str], codes: list[str]) -> Result:
        packages = {
            f"{parent}/__init__.py": "" for path in files if path.endswith(".py") for parent in Path(path).parents if parent.parts
        }
        write_tree(tmp_path, {"manage.py": "", **packages, **files})
        result = run(tmp_path, codes, config=Config(cache=False))
        assert result.errors == []
        return result

    return scan


def _one(result: Result, code: str, path: str, line: int) -> Finding:
    found = [f for f in result.findings if (f.code, f.location.path, f.location.line) == (code, path, line)]
    assert len(found) == 1, result.findings
    return found[0]


def _related(finding: Finding) -> list[tuple[str, int, str]]:
    return [(e.location.path, e.location.line, e.label) for e in finding.related]


def test_metadata():
    rules = all_rules()
    assert (rules["CL308"].slug, rules["CL308"].severity, rules["CL308"].default_enabled) == (
        "shared-cache-without-key-prefix",
        Severity.WARNING,
        True,
    )
    assert (rules["CL309"].slug, rules["CL309"].severity, rules["CL309"].default_enabled) == (
        "third-party-cache-without-failsafe",
        Severity.WARNING,
        True,
    )


# --- golden fixtures ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "codes"),
    [("shared", {"CL308"}), ("third_party", {"CL301", "CL304", "CL309"}), ("bundler", {"CL501"})],
)
def test_fixture_yields_exactly_the_marked_findings(request, name, codes):
    root = {"shared": SHARED, "third_party": THIRD_PARTY, "bundler": BUNDLER}[name]
    result = request.getfixturevalue(name)
    assert result.errors == []
    expected = expected_markers(_python_files(root))
    assert {code for _, _, code in expected} == codes
    assert triples(result) == expected


# --- CL308 ----------------------------------------------------------------------------------------

SHARED_MESSAGE = (
    "cache `{alias}` has no `KEY_PREFIX` while {why}: another application using the same server "
    "reads and overwrites its keys"
)


def test_cl308_server_from_the_environment(shared):
    finding = _one(shared, "CL308", "config/settings/base.py", 11)
    assert finding.message == SHARED_MESSAGE.format(alias="default", why="its server comes from the environment")
    assert _related(finding) == [("config/settings/base.py", 13, "the server is read from the environment here")]
    assert finding.hint and "KEY_PREFIX" in finding.hint


def test_cl308_remote_servers_added_by_item_assignment(shared):
    finding = _one(shared, "CL308", "config/settings/production.py", 7)
    assert finding.message == SHARED_MESSAGE.format(
        alias="fragments", why="it uses the remote server `10.0.4.11:11211`"
    )
    assert _related(finding) == [("config/settings/production.py", 9, "remote server here")]


def test_cl308_branches_that_disagree(shared):
    finding = _one(shared, "CL308", "config/settings/regional.py", 17)
    assert finding.message == (
        "cache `default` has no `KEY_PREFIX` in this branch, while another branch of the same `if` "
        "gives it one on the same server: its keys mix with those of the prefixed environment and "
        "of any other application on the server"
    )
    assert _related(finding) == [("config/settings/regional.py", 12, "`KEY_PREFIX` set in the other branch here")]
    finding = _one(shared, "CL308", "config/settings/preview.py", 6)
    assert finding.message == (
        "cache `default` gets a `KEY_PREFIX` only when the `if` below runs, and otherwise uses the "
        "same server without one: its keys mix with those of the prefixed environment and of any "
        "other application on the server"
    )
    assert _related(finding) == [("config/settings/preview.py", 14, "`KEY_PREFIX` set only when this `if` runs here")]


@pytest.mark.parametrize(
    "location",
    [
        '"redis://localhost:6379/0"',
        '"redis://[::1]:6379/0"',
        '"127.0.0.1:6379:1"',  # django-redis-cache's host:port:db
        '"unix:///run/redis.sock"',
        '"redis://redis:6379/0"',  # a Compose service beside the app
        'os.environ.get("REDIS_URL", "redis://x.example.com:6379")',
    ],
)
def test_cl308_local_servers_and_prefixed_ones_are_silent(scan, location):
    prefix = ', "KEY_PREFIX": "app"' if "os.environ" in location else ""
    source = (
        "import os\nCACHES = {\n"
        f'    "default": {{"BACKEND": "django_redis.cache.RedisCache", "LOCATION": {location}{prefix}, '
        f'"OPTIONS": {TIMEOUTS}}},\n'
        "}\n"
    )
    assert triples(scan({"proj/settings.py": source}, ["CL308"])) == []


def test_cl308_env_lookups_without_default_and_empty_prefix(scan):
    source = (
        "import os\nimport environ\nenv = environ.Env()\n"
        "CACHE_HOST = os.environ['CACHE_HOST']\n"
        "CACHES = {\n"
        '    "a": {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache", "LOCATION": env("MEMCACHED")},\n'
        '    "b": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"redis://{CACHE_HOST}:6379/2", "KEY_PREFIX": ""},\n'
        '    "c": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://cache.example.com:6379/2", "KEY_PREFIX": "c"},\n'
        "}\n"
    )
    result = scan({"proj/settings.py": source}, ["CL308"])
    assert [(f.location.line, f.message.split(" has ")[0]) for f in result.findings] == [
        (6, "cache `a`"),
        (7, "cache `b`"),
    ]


def test_cl308_development_modules_are_silent(scan):
    remote = 'CACHES = {"default": {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache", "LOCATION": "10.0.0.5:11211"}}\n'
    files = {"proj/settings/dev.py": remote, "proj/settings/local.py": remote, "proj/settings/test_ci.py": remote}
    assert triples(scan(files, ["CL308"])) == []
    assert triples(scan({"proj/settings/prod.py": remote}, ["CL308"])) == [("proj/settings/prod.py", 1, "CL308")]


# --- CL309 and the roles of CL304 ---------------------------------------------------------------


def test_cl309_messages(third_party):
    cacheops = _one(third_party, "CL309", "config/settings/production.py", 8)
    assert cacheops.message == (
        "django-cacheops without `CACHEOPS_DEGRADE_ON_FAILURE = True`: when its Redis is down or "
        "stalls, every cached queryset raises or hangs instead of falling back to the database"
    )
    assert _related(cacheops) == [("config/settings/base.py", 7, "installed here")]
    constance = _one(third_party, "CL309", "config/settings/production.py", 11)
    assert constance.message == (
        "django-constance connects to Redis without a `socket_timeout` (`CONSTANCE_REDIS_CONNECTION`): "
        "when Redis stalls, every request that reads a live setting (`config.X`) hangs"
    )
    queues = _one(third_party, "CL309", "config/settings/production.py", 17)
    assert queues.message == (
        "django-rq queues `default`, `emails` connect to Redis without a `socket_timeout`: when "
        "Redis stalls, every request that enqueues a job hangs"
    )
    cachalot = _one(third_party, "CL309", "config/settings/base.py", 8)
    assert cachalot.message == (
        "django-cachalot caches every ORM query in cache `queries`, a Redis cache without "
        "`SOCKET_CONNECT_TIMEOUT` or `SOCKET_TIMEOUT`: when Redis stalls, every database query "
        "hangs, not only cached pages"
    )
    assert _related(cachalot) == [("config/settings/base.py", 22, "cache `queries` is defined here")]


def test_cl304_third_party_roles(third_party):
    cacheops = _one(third_party, "CL304", "config/settings/production.py", 8)
    assert cacheops.message == (
        "django-cacheops (`CACHEOPS_REDIS`) uses Redis `redis.internal.example.com:6379` database 0, "
        "like cache `default`: a cache flush or eviction also deletes django-cacheops' cached "
        "querysets and the invalidation sets that keep them fresh (as the environment-variable "
        "defaults configure it)"
    )
    borrowed = _one(third_party, "CL304", "config/settings/production.py", 20)
    assert borrowed.message.startswith(
        "django-rq (`RQ_QUEUES[\"reports\"]`) queues its jobs through the connection of cache "
        "`default` (`USE_REDIS_CACHE`)"
    )
    client = _one(third_party, "CL304", "jobs/counters.py", 7)
    assert client.message.startswith(
        "project code opens its own Redis client on `settings.REDIS_URL`, Redis "
        "`redis.internal.example.com:6379` database 0, like cache `default`"
    )
    assert _related(client) == [("config/settings/base.py", 17, "cache `default` uses the same database here")]


def _redis_cache(db: int) -> str:
    return (
        'CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", '
        f'"LOCATION": "redis://cache.example.com:6379/{db}", "KEY_PREFIX": "x", "OPTIONS": {TIMEOUTS}}}}}\n'
    )


@pytest.mark.parametrize(
    ("settings", "lines"),
    [
        # constance's default backend is Redis; unset connection: localhost, no timeout
        ('INSTALLED_APPS = ["constance"]\n', [2]),
        ('INSTALLED_APPS = ["constance"]\nCONSTANCE_BACKEND = "constance.backends.database.DatabaseBackend"\n', []),
        ('INSTALLED_APPS = ["constance"]\nCONSTANCE_REDIS_CONNECTION_CLASS = "app.redis.get"\n', []),
        ('INSTALLED_APPS = ["cacheops"]\nCACHEOPS_REDIS = "redis://r.example.com/1"\nCACHEOPS_DEGRADE_ON_FAILURE = False\n', [3]),
        ('INSTALLED_APPS = ["cacheops"]\nCACHEOPS_REDIS = "redis://r.example.com/1"\nCACHEOPS_ENABLED = False\n', []),
        ('INSTALLED_APPS = ["cacheops"]\nCACHEOPS_REDIS = "redis://r.example.com/1"\nCACHEOPS_DEGRADE_ON_FAILURE = DEGRADE\n', []),
        # installed elsewhere, not in this module's apps: leftover configuration
        ('INSTALLED_APPS = ["shop"]\nCACHEOPS_REDIS = "redis://r.example.com/1"\n', []),
        ('HUEY = {"name": "x", "immediate": True}\n', []),
        ('DEBUG = False\nHUEY = {"name": "x"}\n', [3]),
        ('HUEY = {"name": "x", "connection": {"connection_pool": POOL}}\n', []),
        # top-level connection keys (djhuey hands them to redis-py too)
        ('DEBUG = False\nHUEY = {"name": "x", "url": "redis://r.example.com/2"}\n', [3]),
        ('DEBUG = False\nHUEY = {"name": "x", "url": "redis://r.example.com/2?socket_timeout=2"}\n', []),
        ('RQ_QUEUES = {"q": {"USE_REDIS_CACHE": "default"}, "s": {"UNIX_SOCKET_PATH": "/run/r.sock"}}\n', []),
        ('RQ_QUEUES = {"q": {"URL": "redis://r.example.com/3?socket_timeout=3"}}\n', []),
        ('INSTALLED_APPS = ["cachalot"]\nCACHALOT_ENABLED = False\n', []),
        ('INSTALLED_APPS = ["cachalot"]\n', []),  # its cache has timeouts
    ],
)
def test_cl309_cases(scan, settings, lines):
    result = scan({"proj/settings.py": _redis_cache(1) + settings}, ["CL309"])
    assert [f.location.line for f in result.findings] == lines


def test_cl304_package_on_its_own_database_is_silent(scan):
    settings = _redis_cache(1) + 'INSTALLED_APPS = ["cacheops"]\nCACHEOPS_REDIS = {"host": "cache.example.com", "db": 2}\n'
    assert triples(scan({"proj/settings.py": settings}, ["CL304"])) == []
    settings = _redis_cache(2) + 'INSTALLED_APPS = ["cacheops"]\nCACHEOPS_REDIS = {"host": "cache.example.com", "db": 2}\n'
    assert triples(scan({"proj/settings.py": settings}, ["CL304"])) == [("proj/settings.py", 3, "CL304")]


def test_cl304_redis_client_module_found_without_cache_tokens(scan):
    """The client module has no cache-related token: CL304 asks for files with ``from_url``."""
    files = {
        "proj/settings.py": _redis_cache(0) + 'REDIS_URL = "redis://cache.example.com:6379/0"\n',
        "app/stats.py": "from redis import Redis\nfrom django.conf import settings as s\n\nr = Redis.from_url(s.REDIS_URL)\n",
    }
    assert triples(scan(files, ["CL304"])) == [("app/stats.py", 4, "CL304")]


# --- CL501: hashed anyway -----------------------------------------------------------------------


def test_cl501_bundle_in_a_static_folder_or_immutable_test(bundler):
    # production.py and deploy.py are silent, live.py is flagged (see the markers); the
    # bundler config under node_modules/ is not the project's.
    assert [f.location.path for f in bundler.findings] == ["config/settings/live.py"]


@pytest.mark.parametrize(
    ("name", "text", "hashed", "out_dir"),
    [
        (
            "webpack.config.js",
            'module.exports = {output: {path: path.resolve(__dirname, "static", "dist"), filename: "[name].[contenthash:8].js"}}',
            True,
            "app/static/dist",
        ),
        ("webpack.prod.js", 'module.exports = {output: {filename: "[name].js"}}', False, "app/dist"),
        ("vite.config.ts", 'export default {build: {outDir: "../static/build", manifest: true}}', True, "static/build"),
        ("vite.config.mjs", "export default {}", True, "app/dist"),
        (
            "rollup.config.mjs",
            'export default {output: {dir: "static/js", entryFileNames: "[name]-[hash].js"}}',
            True,
            "app/static/js",
        ),
        ("rollup.config.js", 'export default {output: {file: "static/js/bundle.js"}}', False, "app/static/js"),
        (
            "esbuild.config.mjs",
            'await build({entryPoints: ["a.js"], outdir: "static/out", entryNames: "[dir]/[name]-[hash]"})',
            True,
            "app/static/out",
        ),
    ],
)
def test_parse_bundler(name, text, hashed, out_dir):
    assert CONFIG_NAME.match(name)
    facts = parse_bundler(text, f"app/{name}")
    assert (facts.hashed, facts.out_dir) == (hashed, out_dir)


def test_bundler_config_names():
    assert not CONFIG_NAME.match("webpack.config.json")
    assert not CONFIG_NAME.match("my-webpack.config.js")
    assert CONFIG_NAME.match("webpack.config.prod.js")


def test_cl501_unreadable_static_dirs_count_any_hashed_bundle(scan):
    settings = (
        "DEBUG = False\nINSTALLED_APPS = ['django.contrib.staticfiles']\n"
        "STATICFILES_DIRS = get_dirs()\n"
        'STORAGES = {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}\n'
    )
    webpack = {"webpack.config.js": 'module.exports = {output: {path: "/srv/out", filename: "[contenthash].js"}}'}
    assert triples(scan({"proj/settings/production.py": settings, **webpack}, ["CL501"])) == []
    unhashed = {"webpack.config.js": 'module.exports = {output: {path: "/srv/out", filename: "[name].js"}}'}
    assert triples(scan({"proj/settings/production.py": settings, **unhashed}, ["CL501"])) == [
        ("proj/settings/production.py", 4, "CL501")
    ]


def test_cl501_app_static_folder(scan):
    settings = (
        "DEBUG = False\nINSTALLED_APPS = ['django.contrib.staticfiles', 'shop']\n"
        'STORAGES = {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}\n'
    )
    vite = {"shop/vite.config.js": 'export default {build: {outDir: "static/shop"}}'}
    assert triples(scan({"proj/settings/production.py": settings, **vite}, ["CL501"])) == []


def test_cl501_hashed_bundle_outside_static_folders(scan):
    settings = (
        "DEBUG = False\nINSTALLED_APPS = ['django.contrib.staticfiles', 'shop']\n"
        'STORAGES = {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}\n'
    )
    elsewhere = {"frontend/vite.config.js": 'export default {build: {outDir: "dist"}}'}
    assert triples(scan({"proj/settings/production.py": settings, **elsewhere}, ["CL501"])) == [
        ("proj/settings/production.py", 3, "CL501")
    ]
