"""Following a rule's hint never produces another finding.

For each rule with a hint, each suggestion of the hint is applied to the rule's BAD example as
explicit edits (``HINT_APPLIED``); the result is checked with every rule, opt-in ones included,
and must yield no finding at all. The one exception is opt-in CL106, which asks for
``Cache-Control: private`` on every login page: following CL101's "do not cache" leaves a login
page without it, which is CL106's own, stricter policy rather than a contradiction; likewise
opt-in CL113 (a CDN in front), for which a form page that is no longer cached still needs
`never_cache`. Each variant also names a phrase of the hint it follows, so a
reworded hint that no longer suggests the edit fails here too.
"""

from __future__ import annotations

import inspect
import re
import sys

import pytest

from cachelint.registry import all_rules
from tests.helpers import run, write_tree

RULES = all_rules()
EXPECT = re.compile(r"\s*(?:#\s*expect:[A-Z0-9, ]+|\{#\s*expect:[A-Z0-9, ]+#\})")

CACHED_ORDERS = "@cache_page(60 * 15)  # expect: CL101\n"
PERSONAL_HOME = "@cache_page(300)  # expect: CL102\n"
PUBLIC_FRAGMENT = "{% load cache %}{% cache 600 page_header_v1 %}<h1>Latest</h1>{% endcache %}\n"

# (rule, phrase of its hint, edits): an edit is (path, old, new) on the BAD example, or
# (path, None, text) for a new file.
HINT_APPLIED: list[tuple[str, str, list[tuple[str, str | None, str]]]] = [
    ("CL101", "do not cache this view", [("shop/views.py", CACHED_ORDERS, "")]),
    (
        "CL101",
        "cache only its public fragments",
        [
            ("shop/views.py", CACHED_ORDERS, ""),
            (
                "shop/templates/shop/orders.html",
                None,
                PUBLIC_FRAGMENT + "{% for o in orders %}{{ o }}{% endfor %}\n",
            ),
        ],
    ),
    (
        "CL101",
        "`@vary_on_cookie` below `cache_page`",
        [
            ("shop/views.py", CACHED_ORDERS, CACHED_ORDERS + "@vary_on_cookie\n"),
            (
                "shop/views.py",
                "from django.shortcuts",
                "from django.views.decorators.vary import vary_on_cookie\nfrom django.shortcuts",
            ),
        ],
    ),
    (
        "CL101",
        "`@cache_control(private=True)` below `cache_page`",
        [
            ("shop/views.py", CACHED_ORDERS, CACHED_ORDERS + "@cache_control(private=True)\n"),
            ("shop/views.py", "import cache_page", "import cache_control, cache_page"),
        ],
    ),
    ("CL102", "do not cache this view", [("blog/views.py", PERSONAL_HOME, "")]),
    (
        "CL102",
        "cache only its public fragments",
        [
            ("blog/views.py", PERSONAL_HOME, ""),
            (
                "blog/templates/blog/home.html",
                "<main>Latest posts</main>",
                "{% load cache %}{% cache 600 home_main_v1 %}<main>Latest posts</main>{% endcache %}",
            ),
        ],
    ),
    (
        "CL102",
        "`@cache_control(private=True)` below `cache_page`",
        [
            ("blog/views.py", PERSONAL_HOME, PERSONAL_HOME + "@cache_control(private=True)\n"),
            ("blog/views.py", "import cache_page", "import cache_control, cache_page"),
        ],
    ),
    ("CL103", "do not cache this page", [("accounts/views.py", "@cache_page(60)\n", "")]),
    (
        "CL103",
        "cache its public fragments",
        [
            ("accounts/views.py", "@vary_on_cookie  # expect: CL103\n@cache_page(60)\n", ""),
            ("accounts/templates/accounts/card.html", None, PUBLIC_FRAGMENT),
        ],
    ),
    (
        "CL103",
        "require login and move `vary_on_cookie` below `cache_page`",
        [
            (
                "accounts/views.py",
                "@vary_on_cookie  # expect: CL103\n@cache_page(60)\n",
                "@login_required\n@cache_page(60)\n@vary_on_cookie\n",
            ),
            (
                "accounts/views.py",
                "from django.shortcuts",
                "from django.contrib.auth.decorators import login_required\nfrom django.shortcuts",
            ),
        ],
    ),
    # Both BAD views get the edit (each edit replaces the first occurrence).
    ("CL104", "do not cache this response", [("news/views.py", "@cache_page(600)\n", "")] * 2),
    (
        "CL104",
        "cache its public fragments",
        [
            ("news/views.py", "@cache_page(600)\n@vary_on_cookie  # expect: CL104\n", ""),
            ("news/views.py", "@cache_page(600)\n@vary_on_cookie  # expect: CL104\n", ""),
            ("news/templates/news/front.html", None, PUBLIC_FRAGMENT),
            (
                "news/templates/news/list.html",
                None,
                PUBLIC_FRAGMENT + "{% for i in items %}{{ i }}{% endfor %}\n",
            ),
        ],
    ),
    (
        "CL105",
        "`cache_control(private=True, ...)`",
        [("billing/views.py", "@cache_control(max_age=600)", "@cache_control(private=True, max_age=600)")],
    ),
    (
        "CL108",
        "apply `@csrf_protect` below `cache_page`",
        [
            (
                "contact/views.py",
                "@cache_page(60 * 60)  # expect: CL108\n",
                "@cache_page(60 * 60)\n@csrf_protect\n",
            ),
            (
                "contact/views.py",
                "from django.shortcuts",
                "from django.views.decorators.csrf import csrf_protect\nfrom django.shortcuts",
            ),
        ],
    ),
    (
        "CL108",
        "do not cache pages with forms",
        [("contact/views.py", "@cache_page(60 * 60)  # expect: CL108\n", "")],
    ),
    (
        "CL106",
        "add `@cache_control(private=True)`",
        [
            ("account/views.py", "@login_required\n", "@login_required\n@cache_control(private=True)\n"),
            (
                "account/views.py",
                "from django.shortcuts",
                "from django.views.decorators.cache import cache_control\nfrom django.shortcuts",
            ),
        ],
    ),
    (
        "CL106",
        "or `@never_cache`",
        [
            ("account/views.py", "@login_required\n", "@login_required\n@never_cache\n"),
            (
                "account/views.py",
                "from django.shortcuts",
                "from django.views.decorators.cache import never_cache\nfrom django.shortcuts",
            ),
        ],
    ),
    ("CL109", "remove `cache_page`", [("forms/views.py", "@cache_page(60)  # expect: CL109\n", "")]),
    (
        "CL110",
        "do not touch `session.accessed`",
        [("core/views.py", "    request.session.accessed = False  # expect: CL110\n", "")],
    ),
    (
        "CL201",
        "add a version to the name",
        [
            ("templates/base.html", "sidebar %}", "sidebar_v1 %}"),
            ("templates/base.html", "latest_comments %}", "latest_comments_v1 %}"),
        ],
    ),
    (
        "CL202",
        "add the user to the vary-on arguments",
        [("templates/header.html", "header_v1 %}", "header_v1 request.user.pk %}")],
    ),
    (
        "CL202",
        "move the personal part out of the cached block",
        [
            (
                "templates/header.html",
                "{% cache 600 header_v1 %}  {# expect: CL202 #}\n  <span>Signed in as {{ request.user.username }}</span>\n",
                "<span>Signed in as {{ request.user.username }}</span>\n{% cache 600 header_v1 %}<nav></nav>\n",
            )
        ],
    ),
    (
        "CL203",
        "move `{% csrf_token %}` out of the `{% cache %}` block",
        [
            ("templates/newsletter.html", "{% cache 3600 newsletter_form_v1 %}\n", ""),
            ("templates/newsletter.html", "</form>\n{% endcache %}", "</form>"),
        ],
    ),
    (
        "CL204",
        "add the language to the vary-on arguments",
        [
            (
                "templates/menu.html",
                "{% cache 3600 menu_v1 %}",
                "{% get_current_language as LANGUAGE_CODE %}{% cache 3600 menu_v1 LANGUAGE_CODE %}",
            )
        ],
    ),
    (
        "CL205",
        'add "fragments" to CACHES',
        [
            (
                "mysite/settings.py",
                "}}\n",
                '}, "fragments": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n',
            )
        ],
    ),
    ("CL205", "use one of the defined aliases", [("templates/footer.html", ' using="fragments"', "")]),
    (
        "CL207",
        "name the fragment and vary on the variable",
        [("templates/profile.html", "500 user.id", "500 fragment_v1 user.id")],
    ),
    (
        "CL107",
        "put `UpdateCacheMiddleware` first in MIDDLEWARE",
        [
            (
                "mysite/settings.py",
                '    "django.middleware.cache.UpdateCacheMiddleware",  # expect: CL107\n',
                "",
            ),
            (
                "mysite/settings.py",
                "MIDDLEWARE = [\n",
                'MIDDLEWARE = [\n    "django.middleware.cache.UpdateCacheMiddleware",\n',
            ),
            (
                "mysite/settings.py",
                '    "django.middleware.cache.FetchFromCacheMiddleware",  # expect: CL107\n',
                "",
            ),
            ("mysite/settings.py", "]\n", '    "django.middleware.cache.FetchFromCacheMiddleware",\n]\n'),
        ],
    ),
    (
        "CL301",
        '{"SOCKET_CONNECT_TIMEOUT": 5, "SOCKET_TIMEOUT": 5} (seconds) to its "OPTIONS"',
        [
            (
                "mysite/settings.py",
                '"redis://127.0.0.1:6379/1",\n',
                '"redis://127.0.0.1:6379/1",\n        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 5, "SOCKET_TIMEOUT": 5},\n',
            ),
            (
                "mysite/settings.py",
                '{"DB": 3}',
                '{"DB": 3, "SOCKET_CONNECT_TIMEOUT": 5, "SOCKET_TIMEOUT": 5}',
            ),
        ],
    ),
    (
        "CL302",
        "use a shared cache server in production",
        [
            (
                "mysite/settings/production.py",
                '{"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}',
                '{"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://cache:6379/1", '
                '"OPTIONS": {"socket_connect_timeout": 5, "socket_timeout": 5}}',
            )
        ],
    ),
    (
        "CL303",
        'set a finite default such as `"TIMEOUT": 86400`',
        [("mysite/settings.py", '"TIMEOUT": None', '"TIMEOUT": 86400')],
    ),
    (
        "CL304",
        "give each role its own database number",
        [
            ("mysite/settings.py", "redis://redis:6379/0", "redis://redis:6379/1"),
            ("mysite/settings.py", '"redis://redis:6379"  #', '"redis://redis:6379/0"  #'),
        ],
    ),
    (
        "CL305",
        "give each environment its own `KEY_PREFIX`",
        [
            (
                "mysite/settings/staging.py",
                '"10.0.0.5:11211",',
                '"10.0.0.5:11211",\n        "KEY_PREFIX": "staging",',
            ),
            # each environment: production too (else CL308 sees it unprefixed on a shared server)
            (
                "mysite/settings/production.py",
                '"10.0.0.5:11211",',
                '"10.0.0.5:11211",\n        "KEY_PREFIX": "prod",',
            ),
        ],
    ),
    ("CL306", "cached_db", [("mysite/settings.py", "backends.cache", "backends.cached_db")]),
    (
        "CL308",
        "set a `KEY_PREFIX` unique to this application and environment",
        [
            (
                "mysite/settings.py",
                '"LOCATION": os.environ["REDIS_URL"],',
                '"LOCATION": os.environ["REDIS_URL"],\n        "KEY_PREFIX": "mysite-prod",',
            )
        ],
    ),
    (
        "CL309",
        "set `CACHEOPS_DEGRADE_ON_FAILURE = True`",
        [
            ("mysite/settings.py", "/1\"  #", "/1?socket_timeout=2\"\nCACHEOPS_DEGRADE_ON_FAILURE = True  #"),
            (
                "mysite/settings.py",
                '{"URL": "redis://cache.internal:6379/2"}',
                '{"URL": "redis://cache.internal:6379/2", "REDIS_CLIENT_KWARGS": {"socket_timeout": 5}}',
            ),
        ],
    ),
    (
        "CL309",
        '"REDIS_CLIENT_KWARGS": {"socket_timeout": 5} to each queue',
        [
            ("mysite/settings.py", "/1\"  #", "/1\"\nCACHEOPS_DEGRADE_ON_FAILURE = True  #"),
            (
                "mysite/settings.py",
                '{"URL": "redis://cache.internal:6379/2"}',
                '{"URL": "redis://cache.internal:6379/2", "REDIS_CLIENT_KWARGS": {"socket_timeout": 5}}',
            ),
        ],
    ),
    (
        "CL307",
        "use `django.core.cache.backends.memcached.PyMemcacheCache`",
        [
            ("mysite/settings.py", "memcached.MemcachedCache", "memcached.PyMemcacheCache"),
            ("mysite/settings.py", '"127.0.0.1:6379:1"', '"redis://127.0.0.1:6379/1"'),
            ("mysite/settings.py", "CACHE_MIDDLEWARE_ANONYMOUS_ONLY = True  # expect: CL307\n", ""),
        ],
    ),
    ("CL403", "did you mean `max_age`?", [("pages/views.py", "maxage=", "max_age=")]),
    ("CL404", "keep the directive you mean and drop the other", [("pages/views.py", ", private=True", "")]),
    (
        "CL501",
        "use `django.contrib.staticfiles.storage.ManifestStaticFilesStorage`",
        [
            (
                "mysite/settings/production.py",
                "storage.StaticFilesStorage",
                "storage.ManifestStaticFilesStorage",
            )
        ],
    ),
    (
        "CL502",
        "set STORAGES",
        [
            (
                "mysite/settings.py",
                'STATICFILES_STORAGE = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"',
                'STORAGES = {\n    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},\n'
                '    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},\n}',
            )
        ],
    ),
    (
        "CL504",
        '`{% static "css/app.css" %}`',
        [("templates/base.html", '"/static/css/app.css"', "\"{% static 'css/app.css' %}\"")],
    ),
    ("CL206", "give it a timeout in seconds", [("templates/footer.html", "cache None", "cache 86400")]),
    (
        "CL401",
        "compute the ETag/date from one cheap query (`.latest()`",
        [
            (
                "blog/views.py",
                "str(len(list(Post.objects.all())))",
                'str(Post.objects.latest("updated").updated)',
            )
        ],
    ),
    (
        "CL402",
        "move the conditional decorator above `cache_page`",
        [
            ("blog/views.py", "@cache_page(300)\n", ""),
            (
                "blog/views.py",
                "@last_modified(latest_post)  # expect: CL402\n",
                "@last_modified(latest_post)\n@cache_page(300)\n",
            ),
        ],
    ),
    (
        "CL503",
        "use at least a day (86400)",
        [("mysite/settings/production.py", "WHITENOISE_MAX_AGE = 600", "WHITENOISE_MAX_AGE = 86400")],
    ),
    (
        "CL111",
        "in the bases (mixins first",
        [
            (
                "account/views.py",
                "class AccountPage(TemplateView, LoginRequiredMixin):",
                "class AccountPage(LoginRequiredMixin, TemplateView):",
            )
        ],
    ),
    ("CL602", "namespace and version the key", [("blog/services.py", '"top_tags"', '"blog:top_tags:v1"')]),
    (
        "CL601",
        "pass a finite timeout",
        [
            (
                "blog/services.py",
                'cache.set("blog:top_tags:v1", tags, None)',
                'cache.set("blog:top_tags:v1", tags, 60 * 60)',
            )
        ],
    ),
    (
        "CL603",
        "put the visitor in the key",
        [
            ("shop/views.py", '"dashboard:stats:v1"', 'f"dashboard:stats:v1:{request.user.pk}"'),
            (
                "shop/views.py",
                'cache.get("dashboard:orders:v1")',
                'cache.get(f"dashboard:orders:v1:{request.user.pk}")',
            ),
            (
                "shop/views.py",
                'cache.set("dashboard:orders:v1"',
                'cache.set(f"dashboard:orders:v1:{request.user.pk}"',
            ),
        ],
    ),
    (
        "CL604",
        "convert it with `int()`",
        [
            ("catalog/views.py", "{request.GET.get('q', '')}", "{page}"),
            (
                "catalog/views.py",
                '    query = request.GET.get("q", "")\n',
                '    query = request.GET.get("q", "")\n    page = int(request.GET.get("page", "1"))\n',
            ),
            (
                "catalog/views.py",
                '"catalog:suggest:v1:" + prefix',
                '"catalog:suggest:v1:" + str(int(prefix or 0))',
            ),
        ],
    ),
    (
        "CL604",
        "hash it",
        [
            (
                "catalog/views.py",
                "{request.GET.get('q', '')}",
                "{hashlib.sha256(query.encode()).hexdigest()}",
            ),
            ("catalog/views.py", "from django.core.cache", "import hashlib\n\nfrom django.core.cache"),
            (
                "catalog/views.py",
                '"catalog:suggest:v1:" + prefix',
                '"catalog:suggest:v1:" + hashlib.sha256(prefix.encode()).hexdigest()',
            ),
        ],
    ),
    (
        "CL605",
        "delete the keys this code owns",
        [
            (
                "blog/signals.py",
                "cache.clear()",
                'cache.delete_many([f"blog:post:v1:{instance.pk}", "blog:post_list:v1"])',
            ),
            ("blog/maintenance.py", "cache.clear()", 'cache.delete_many(["blog:top_tags:v1"])'),
        ],
    ),
    (
        "CL606",
        "a version number in the keys that you bump",
        [
            (
                "blog/views.py",
                'cache.delete_pattern("blog:post_list:*")',
                'cache.incr_version("blog:post_list:v1")',
            )
        ],
    ),
    (
        "CL607",
        "add the language to the key",
        [
            ("blog/views.py", '"blog:sidebar:v1"', 'f"blog:sidebar:v1:{get_language()}"'),
            (
                "blog/views.py",
                "from django.template",
                "from django.utils.translation import get_language\nfrom django.template",
            ),
        ],
    ),
    (
        "CL701",
        "use a manifest storage (`ManifestStaticFilesStorage`",
        [
            (
                "mysite/settings/production.py",
                "storage.StaticFilesStorage",
                "storage.ManifestStaticFilesStorage",
            )
        ],
    ),
    (
        "CL702",
        "add `proxy_no_cache $cookie_sessionid;` and `proxy_cache_bypass $cookie_sessionid;`",
        [
            (
                "deploy/nginx.conf",
                "            proxy_cache pages;\n",
                "            proxy_cache pages;\n"
                "            proxy_no_cache $cookie_sessionid;\n"
                "            proxy_cache_bypass $cookie_sessionid;\n",
            )
        ],
    ),
    (
        "CL702",
        "keep `proxy_cache` to static locations",
        [("deploy/nginx.conf", "        location / {", "        location /static/ {")],
    ),
    (
        "CL112",
        "decorate the view with `@never_cache`",
        [
            ("api/views.py", "def csrf(request):", "@never_cache\ndef csrf(request):"),
            (
                "api/views.py",
                "from django.middleware.csrf import get_token\n",
                "from django.middleware.csrf import get_token\nfrom django.views.decorators.cache import never_cache\n",
            ),
        ],
    ),
    (
        "CL112",
        "`@cache_control(no_store=True, private=True)`",
        [
            ("api/views.py", "def csrf(request):", "@cache_control(no_store=True, private=True)\ndef csrf(request):"),
            (
                "api/views.py",
                "from django.middleware.csrf import get_token\n",
                "from django.middleware.csrf import get_token\nfrom django.views.decorators.cache import cache_control\n",
            ),
        ],
    ),
    (
        "CL113",
        "mark the view `@never_cache`",
        [
            ("pages/views.py", "def contact(request):", "@never_cache\ndef contact(request):"),
            (
                "pages/views.py",
                "from django.shortcuts import render\n",
                "from django.shortcuts import render\nfrom django.views.decorators.cache import never_cache\n",
            ),
        ],
    ),
    (
        "CL113",
        "`cache_control(private=True)`",
        [
            ("pages/views.py", "def contact(request):", "@cache_control(private=True)\ndef contact(request):"),
            (
                "pages/views.py",
                "from django.shortcuts import render\n",
                "from django.shortcuts import render\nfrom django.views.decorators.cache import cache_control\n",
            ),
        ],
    ),
    (
        "CL208",
        "set `CMS_PAGE_CACHE = False`",
        [("mysite/settings.py", "CMS_TEMPLATES", "CMS_PAGE_CACHE = False\nCMS_TEMPLATES")],
    ),
    (
        "CL208",
        "show the form only to logged-in users",
        [
            ("mysite/templates/page.html", '<form method="post"', '{% if user.is_authenticated %}<form method="post"'),
            ("mysite/templates/page.html", "</form>\n", "</form>{% endif %}\n"),
        ],
    ),
    (
        "CL209",
        "put `WagtailCacheMixin` first in the bases",
        [
            ("home/models.py", "class ReportPage(Page):", "class ReportPage(WagtailCacheMixin, Page):"),
            (
                "home/models.py",
                "from wagtail.models import Page\n",
                "from wagtail.models import Page\nfrom wagtailcache.cache import WagtailCacheMixin\n",
            ),
        ],
    ),
    (
        "CL608",
        "key on the object's `pk`",
        [
            ("catalog/views.py", "{product.name}", "{product.pk}"),
            ("catalog/views.py", '"dashboard:" + slugify(request.user.username)', 'f"dashboard:{request.user.pk}"'),
        ],
    ),
    (
        "CL608",
        "hash the text",
        [
            ("catalog/views.py", 'f"reviews:{product.name}"', '"reviews:" + hashlib.md5(product.name.encode()).hexdigest()'),
            (
                "catalog/views.py",
                '"dashboard:" + slugify(request.user.username)',
                '"dashboard:" + hashlib.md5(request.user.username.encode()).hexdigest()',
            ),
            ("catalog/views.py", "from django.core.cache import cache\n", "import hashlib\n\nfrom django.core.cache import cache\n"),
        ],
    ),
    (
        "CL608",
        "build per-user keys from `user.pk`",
        [
            ("catalog/views.py", "{product.name}", "{product.pk}"),
            ("catalog/views.py", "slugify(request.user.username)", "str(request.user.pk)"),
        ],
    ),
]


def _apply(files: dict[str, str], edits: list[tuple[str, str | None, str]]) -> dict[str, str]:
    files = dict(files)
    for path, old, new in edits:
        if old is None:
            assert path not in files, f"{path} already exists"
            files[path] = new
        else:
            assert old in files[path], f"{old!r} is not in {path}"
            files[path] = files[path].replace(old, new, 1)
    return {path: EXPECT.sub("", text) for path, text in files.items()}


def _ids(case):
    return f"{case[0]}-{re.sub(r'[^a-z]+', '-', case[1].lower()).strip('-')}"


@pytest.mark.parametrize("case", HINT_APPLIED, ids=[_ids(c) for c in HINT_APPLIED])
def test_following_the_hint_leaves_no_finding(case, tmp_path, monkeypatch):
    code, phrase, edits = case
    rule = RULES[code]
    monkeypatch.chdir(tmp_path)
    select = sorted(set(RULES) - {"CL106", "CL113"} | {code})
    bad = tmp_path / "bad"
    write_tree(bad, rule.bad_example)
    monkeypatch.chdir(bad)
    hints = [f.hint or "" for f in run(bad, select).findings if f.code == code]
    assert any(phrase in hint for hint in hints), hints
    fixed = tmp_path / "fixed"
    write_tree(fixed, _apply(rule.bad_example, edits))
    monkeypatch.chdir(fixed)
    leftover = [(f.location.path, f.location.line, f.code, f.message) for f in run(fixed, select).findings]
    assert leftover == []


def test_every_rule_with_a_hint_is_covered():
    """A new rule with a hint needs its 'hint applied' variants here."""
    with_hint = {
        code
        for code, rule in RULES.items()
        if "hint=" in inspect.getsource(sys.modules[type(rule).__module__])
    }
    assert with_hint == {case[0] for case in HINT_APPLIED}


@pytest.mark.parametrize("code", ["CL101", "CL102"])
def test_leak_hints_offer_not_caching_first_and_per_user_caching_last(code, tmp_path, monkeypatch):
    rule = RULES[code]
    write_tree(tmp_path, rule.bad_example)
    monkeypatch.chdir(tmp_path)
    (hint,) = {f.hint for f in run(tmp_path, [code]).findings}
    first, fragments, private = (hint.index(p) for p in ("do not cache", "public fragments", "private=True"))
    assert first < fragments < private
