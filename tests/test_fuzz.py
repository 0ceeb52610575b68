"""Property tests: no input makes cachelint crash or point outside the file.

Python sources are assembled from fragments of real Django views, URLconfs and settings, nested
and then damaged (characters and tokens deleted, inserted, duplicated); templates are tag soup
around ``{% cache %}``. The parsers may reject input (``ParseError``, a CL001 finding) but must
never raise anything else, and every position they report must lie inside the file. The whole
engine runs on a small project holding the generated files: no exception, no internal error.

The example count is CI-friendly; set ``CACHELINT_FUZZ_EXAMPLES`` for a long session (see
docs/fuzzing.md).
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cachelint.config import Config
from cachelint.discovery import display_path
from cachelint.engine import Result, check
from cachelint.facts.python import ParseError, parse_python
from cachelint.facts.templates import parse_template
from cachelint.finding import Finding, Location, Span, line_starts
from cachelint.fixing import FixReport, apply_fixes
from cachelint.registry import all_rules, select_rules
from tests.helpers import write_tree

FUZZ = settings(
    max_examples=int(os.environ.get("CACHELINT_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ALL_RULES = select_rules(all_rules(), ["ALL"], None)
_NEWLINE = re.compile(r"\r\n|\r|\n")

# --- Python fragments ---------------------------------------------------------------------------

IMPORTS = [
    "from django.views.decorators.cache import cache_page",
    "from django.views.decorators.cache import cache_page as cp, never_cache, cache_control",
    "from django.views.decorators import cache",
    "import django.views.decorators.cache as c",
    "from django.views.decorators.vary import vary_on_cookie, vary_on_headers",
    "from django.contrib.auth.decorators import login_required, permission_required",
    "from django.contrib.admin.views.decorators import staff_member_required",
    "from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin",
    "from django.utils.decorators import method_decorator",
    "from django.views.generic import TemplateView, View, ListView",
    "from django.core.cache import cache, caches",
    "from django.shortcuts import render",
    "from django.template.response import TemplateResponse",
    "from django.urls import path, re_path, include",
    "from django.views.decorators.http import require_POST, require_http_methods, etag, condition",
    "from django.views.decorators.csrf import csrf_protect",
    "from django.utils.cache import patch_vary_headers, patch_cache_control, add_never_cache_headers",
    "from rest_framework.decorators import api_view, permission_classes",
    "from rest_framework.permissions import IsAuthenticated, AllowAny",
    "from .base import *",
    "from ..settings.base import *  # noqa: F403",
    "from . import views",
    "from .views import *",
    "from app import views as v",
    "import os",
    "import environ",
    "from decouple import config",
]

DECORATORS = [
    "@cache_page(60)",
    "@cache_page(60 * 15, key_prefix='site1')",
    "@cache_page(timeout=None, cache='pages')",
    "@cp(3600)",
    "@cache.cache_page(1)",
    "@c.cache_page(5)",
    "@cache_page",
    "@login_required",
    "@login_required(login_url='/login/')",
    "@permission_required('shop.view_order', raise_exception=True)",
    "@staff_member_required",
    "@vary_on_cookie",
    "@vary_on_headers('Cookie', 'Accept-Language')",
    "@never_cache",
    "@cache_control(private=True, max_age=0)",
    "@cache_control(public=True, no_store=True, max_age=-1)",
    "@cache_control(**{'max-age': 5})",
    "@method_decorator(cache_page(60), name='dispatch')",
    "@method_decorator([login_required, cache_page(5)], name='get')",
    "@method_decorator((vary_on_cookie,), name='dispatch')",
    "@method_decorator(login_required)",
    "@require_POST",
    "@require_http_methods(['POST', 'PUT'])",
    "@etag(lambda request: Order.objects.count())",
    "@condition(last_modified_func=latest)",
    "@csrf_protect",
    "@api_view(['GET'])",
    "@permission_classes([IsAuthenticated])",
    "@project_decorator",
    "@(lambda f: f)",
    "@registry[0].wrap(name)",
]

# Decorator stacks seen in real projects, right and wrong (the rules' bread and butter).
STACKS = [
    ["@login_required", "@cache_page(60)"],
    ["@cache_page(60)", "@login_required"],
    ["@vary_on_cookie", "@cache_page(60 * 15)"],
    ["@cache_page(60)", "@vary_on_cookie"],
    ["@cache_page(60)", "@etag(lambda request: Order.objects.count())"],
    ["@cache_page(60)", "@require_POST"],
    ["@cache_page(60)", "@cache_control(public=True)", "@login_required"],
    ["@method_decorator(cache_page(60), name='dispatch')"],
    ["@method_decorator([login_required, cache_page(60)], name='dispatch')"],
    ["@api_view(['GET'])", "@permission_classes([IsAuthenticated])", "@cache_page(30)"],
    ["@cp(3600)", "@permission_required('shop.view_order')"],
    ["@c.cache_page(60)", "@staff_member_required"],
]

STATEMENTS = [
    "return render(request, 'app/page.html', {'name': request.user.username})",
    "return render(request, template_name=f'app/{name}.html')",
    "return TemplateResponse(request, ['app/a.html', 'app/b.html'], {})",
    "name = request.user.get_full_name()",
    "basket = request.session.get('basket', [])",
    "request.session.accessed = False",
    "response['Vary'] = 'Cookie, Accept-Language'",
    "response.headers['Cache-Control'] = 'public, max-age=60, private, s-maxage=x'",
    "response['cache-control'] = f'max-age={age}'",
    "del response['Vary']",
    "patch_vary_headers(response, ['Cookie'])",
    "patch_vary_headers(response, headers)",
    "patch_cache_control(response, public=True, max_age=None, privat=True)",
    "add_never_cache_headers(response)",
    "cache.set('orders', orders, timeout=None)",
    "cache.set(f'user:{request.user.pk}:v2', data, None)",
    "caches['pages'].set(key, value, 60)",
    "caches[alias].get_or_set('x', default=lambda: 1, timeout=None)",
    "cache.add(*args, **kwargs)",
    "cache.set_many({'a': 1}, timeout=None)",
    "return cache_page(60)(super().dispatch)(request, *args, **kwargs)",
    "return login_required(self.get)(request)",
    "label = f'{request.user!r:>{width}} {{literal}} {\"nested\"}'",
    "total = [x async for x in rows if (y := x)]",
    "yield from items",
    "return {'user': request.user, 'csrf': get_token(request)}",
    "return {**base, 'key': value}",
    "raise Http404",
    "global CACHES",
    "nonlocal state",
    "assert request.user.is_authenticated, 'login'",
    "x = lambda: (yield)",
    "print >> sys.stderr, 'py2'",
    "pass",
    "...",
]

SETTINGS = [
    "DEBUG = False",
    "DEBUG = os.environ.get('DEBUG') == '1'",
    "SECRET_KEY = config('SECRET_KEY')",
    "INSTALLED_APPS = ['django.contrib.sessions', 'app', *EXTRA_APPS]",
    "INSTALLED_APPS += ['debug_toolbar']",
    "MIDDLEWARE = ['django.middleware.cache.UpdateCacheMiddleware', "
    "'django.contrib.sessions.middleware.SessionMiddleware', "
    "'django.middleware.cache.FetchFromCacheMiddleware']",
    "MIDDLEWARE.insert(0, 'django.middleware.cache.UpdateCacheMiddleware')",
    "CACHE_MIDDLEWARE_SECONDS = 600",
    "STATICFILES_STORAGE = 'django.contrib.staticfiles.storage.StaticFilesStorage'",
    "STORAGES = {'staticfiles': {'BACKEND': 'whitenoise.storage.CompressedManifestStaticFilesStorage'}}",
    "STORAGES['staticfiles']['BACKEND'] = 'django.contrib.staticfiles.storage.StaticFilesStorage'",
    "SESSION_ENGINE = 'django.contrib.sessions.backends.cache'",
    "REST_FRAMEWORK = {'DEFAULT_PERMISSION_CLASSES': ['rest_framework.permissions.IsAuthenticated']}",
    "TEMPLATES = [{'BACKEND': 'django.template.backends.django.DjangoTemplates', 'APP_DIRS': True, "
    "'OPTIONS': {'context_processors': ['app.context_processors.cart']}}]",
    "CACHES['default']['TIMEOUT'] = None",
    "CACHES = env.cache()",
    "CACHES = {**CACHES, 'extra': {}}",
    "del CACHES['pages']",
    "globals().update(vars(base))",
    "ROOT_URLCONF = 'app.urls'",
]

BACKENDS = [
    "'django.core.cache.backends.redis.RedisCache'",
    "'django_redis.cache.RedisCache'",
    "'django.core.cache.backends.locmem.LocMemCache'",
    "'django.core.cache.backends.memcached.MemcachedCache'",
    "'django.core.cache.backends.memcached.PyMemcacheCache'",
    "'django.core.cache.backends.db.DatabaseCache'",
    "'django.core.cache.backends.dummy.DummyCache'",
    "os.environ['CACHE_BACKEND']",
    "f'django.core.cache.backends.{kind}.Cache'",
]
CACHE_OPTIONS = [
    "'TIMEOUT': None",
    "'TIMEOUT': 0",
    "'TIMEOUT': 60 * 60",
    "'KEY_PREFIX': 'shop'",
    "'VERSION': 2",
    "'LOCATION': 'redis://127.0.0.1:6379/1'",
    "'LOCATION': [f'redis://{host}:6379' for host in HOSTS]",
    "'OPTIONS': {'socket_connect_timeout': 2, 'socket_timeout': 2}",
    "'OPTIONS': {'SOCKET_CONNECT_TIMEOUT': 2}",
    "'OPTIONS': {'CLIENT_CLASS': 'django_redis.client.DefaultClient', 'PARSER_CLASS': 'x'}",
    "'OPTIONS': OPTIONS",
    "**EXTRA",
]
URL_ENTRIES = [
    "path('', views.index)",
    "path('account/', cache_page(60)(views.account))",
    "path('orders/', login_required(cache_page(60)(views.OrderList.as_view())))",
    "path('o/', views.OrderList.as_view(template_name='app/o.html'), name='o')",
    "re_path(r'^old/(?P<pk>\\d+)/$', never_cache(views.detail))",
    "path('api/', include('app.api.urls'))",
    "path(route='x/', view=cache_page(5)(v.x))",
    "path('dyn/', getattr(views, name))",
    "*extra_patterns",
]

IDENTIFIERS = st.sampled_from(["index", "account", "dashboard", "OrderList", "detail", "get", "dispatch", "x"])


def indent(lines: list[str], level: int = 1) -> list[str]:
    return [("    " * level + line) if line else line for line in lines]


@st.composite
def function_block(draw, depth: int = 0) -> list[str]:
    decorators = draw(st.one_of(st.sampled_from(STACKS), st.lists(st.sampled_from(DECORATORS), max_size=4)))
    name = draw(IDENTIFIERS)
    header = draw(
        st.sampled_from(
            [
                f"def {name}(request, *args, **kwargs):",
                f"async def {name}(request):",
                f"def {name}(self, request, pk=None):",
                f"def {name}[T](request: T) -> T:",
                f"def {name}():",
            ]
        )
    )
    body = draw(st.lists(st.sampled_from(STATEMENTS), min_size=1, max_size=5))
    lines = list(decorators) + [header] + indent(body)
    if depth < 6 and draw(st.booleans()):
        lines += indent(draw(nested_block(depth + 1)))
    return lines


@st.composite
def class_block(draw, depth: int = 0) -> list[str]:
    decorators = draw(st.lists(st.sampled_from(DECORATORS), max_size=2))
    bases = draw(
        st.lists(
            st.sampled_from(
                ["LoginRequiredMixin", "PermissionRequiredMixin", "TemplateView", "View", "ListView",
                 "ProjectMixin", "APIView", "metaclass=Meta", "*bases"]
            ),
            max_size=3,
        )
    )
    lines = list(decorators) + [f"class {draw(IDENTIFIERS)}({', '.join(bases)}):"]
    attributes = draw(
        st.lists(
            st.sampled_from(
                [
                    "template_name = 'app/page.html'",
                    "template_name: str = f'app/{x}.html'",
                    "permission_classes = [IsAuthenticated]",
                    "permission_classes = (AllowAny,)",
                    "dispatch = method_decorator(cache_page(60))(View.dispatch)",
                    "http_method_names = ['post']",
                ]
            ),
            max_size=3,
        )
    )
    lines += indent(attributes or ["pass"])
    for _ in range(draw(st.integers(0, 2))):
        lines += indent(draw(function_block(depth + 1)))
    return lines


@st.composite
def nested_block(draw, depth: int = 0) -> list[str]:
    if depth >= 6:
        return ["pass"]
    kind = draw(st.sampled_from(["function", "class", "if", "for", "with", "try", "match"]))
    if kind == "function":
        return draw(function_block(depth))
    if kind == "class":
        return draw(class_block(depth))
    inner = draw(st.one_of(st.just(["pass"]), st.builds(list, st.lists(st.sampled_from(STATEMENTS + SETTINGS), min_size=1, max_size=3))))
    if depth < 5 and draw(st.booleans()):
        inner = inner + draw(nested_block(depth + 1))
    if kind == "if":
        return ["if DEBUG:"] + indent(inner) + draw(st.sampled_from([[], ["else:", "    pass"], ["elif x:", "    CACHES = {}"]]))
    if kind == "for":
        return ["for name in names:"] + indent(inner)
    if kind == "with":
        return ["with lock, open(path) as f:"] + indent(inner)
    if kind == "try":
        return ["try:"] + indent(inner) + ["except* ImportError:", "    pass", "finally:", "    pass"]
    return ["match request.method:", "    case 'GET' | 'HEAD':"] + indent(inner, 2) + ["    case _:", "        pass"]


@st.composite
def caches_block(draw) -> list[str]:
    aliases = draw(st.lists(st.sampled_from(["default", "pages", "sessions", "x-y"]), min_size=1, max_size=3, unique=True))
    lines = [draw(st.sampled_from(["CACHES = {", "CACHES: dict = {", "CACHES |= {"]))]
    for alias in aliases:
        options = draw(st.lists(st.sampled_from(CACHE_OPTIONS), max_size=4))
        entries = [f"'BACKEND': {draw(st.sampled_from(BACKENDS))}"] + options
        lines.append(f"    {alias!r}: {{")
        lines += [f"        {entry}," for entry in entries]
        lines.append("    },")
    lines.append("}")
    return lines


@st.composite
def urls_block(draw) -> list[str]:
    entries = draw(st.lists(st.sampled_from(URL_ENTRIES), max_size=5))
    return ["urlpatterns = ["] + [f"    {e}," for e in entries] + ["]"]


@st.composite
def python_base(draw) -> str:
    lines = draw(st.lists(st.sampled_from(IMPORTS), max_size=8))
    if draw(st.booleans()):  # the usual header of a views module, so decorators resolve
        lines = IMPORTS[:19] + lines
    blocks = draw(
        st.lists(
            st.one_of(
                function_block(),
                class_block(),
                nested_block(),
                caches_block(),
                urls_block(),
                st.builds(lambda s: [s], st.sampled_from(SETTINGS)),
                st.sampled_from([["# cachelint: ignore[CL101]"], ["x = 1  # noqa: CL301, E501"], ['"""doc"""'],
                                 ["type Alias = dict[str, int]"], ["if True: CACHES = {'default': {}}"]]),
            ),
            max_size=6,
        )
    )
    for block in blocks:
        lines += [""] + block
    newline = draw(st.sampled_from(["\n", "\n", "\n", "\r\n"]))
    return newline.join(lines) + draw(st.sampled_from([newline, ""]))


# Bits that damage Python in interesting ways.
PY_TOKENS = ["(", ")", "[", "]", "{", "}", ":", "@", "'", '"', '"""', "f'", "f\"{", "}", "\\", "\n", "\r",
             "\t", "    ", "#", ",", "=", "*", "**", "lambda", "async ", "await ", "def ", "class ", "->",
             "cache_page", "login_required", "CACHES", "{{", ":=", "\x0c", "\x1e", "é", "\u2028", "\ufeff", ";",
             "  # noqa: CL101", "  # cachelint: ignore[CL301]"]


@st.composite
def damaged(draw, base, tokens: list[str], alphabet) -> str:
    text = draw(base)
    # Half the inputs stay intact, so that the rules (not only the parsers) see plenty of them.
    for _ in range(draw(st.one_of(st.just(0), st.integers(1, 6)))):
        where = draw(st.integers(0, max(0, len(text))))
        operation = draw(st.sampled_from(["insert-token", "insert-char", "delete", "delete-token", "duplicate"]))
        if operation == "insert-token":
            text = text[:where] + draw(st.sampled_from(tokens)) + text[where:]
        elif operation == "insert-char":
            text = text[:where] + draw(alphabet) + text[where:]
        elif operation == "delete":
            text = text[:where] + text[where + draw(st.integers(1, 8)):]
        else:
            parts = re.findall(r"\w+|\s+|.", text, re.DOTALL)
            if parts:
                index = draw(st.integers(0, len(parts) - 1))
                parts[index] = "" if operation == "delete-token" else parts[index] * 2
                text = "".join(parts)
    return text


CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")

PYTHON_SOURCES = damaged(python_base(), PY_TOKENS, CHARS)

# --- templates ----------------------------------------------------------------------------------

TEMPLATE_NAMES = ["app/a.html", "app/b.html", "app/c.html"]
TAGS = [
    "{% load cache %}",
    "{% load cache i18n static %}",
    "{% cache 500 sidebar %}",
    "{% cache 500 sidebar_v2 request.user.pk %}",
    "{% cache 60 nav.v3 LANGUAGE_CODE %}",
    "{% cache timeout user.username %}",
    "{% cache None forever %}",
    "{% cache 5 x using=\"pages\" %}",
    "{% cache 5 x using=alias %}",
    "{% cache %}",
    "{% cache 1 %}",
    "{% endcache %}",
    "{% block content %}",
    "{% block sidebar %}",
    "{% block %}",
    "{% endblock %}",
    "{% endblock content %}",
    "{% endblock other %}",
    "{{ block.super }}",
    "{% for user in users %}",
    "{% for a, b in pairs %}",
    "{% for %}",
    "{% for x in %}",
    "{% empty %}",
    "{% endfor %}",
    "{% with name=user.username %}",
    "{% with user.email as mail %}",
    "{% with u=request.user x=u.pk %}",
    "{% with %}",
    "{% endwith %}",
    "{% include \"app/a.html\" %}",
    "{% include \"app/b.html\" with user=post.author only %}",
    "{% include 'app/c.html' %}",
    "{% include template_var %}",
    "{% include %}",
    "{% extends \"app/a.html\" %}",
    "{% extends \"app/b.html\" %}",
    "{% extends base %}",
    "{% extends %}",
    "{% csrf_token %}",
    "{% if user.is_authenticated and perms.shop.view %}",
    "{% else %}",
    "{% endif %}",
    "{% blocktrans with name=user.first_name %}",
    "{% blocktranslate count n=items|length %}",
    "{% endblocktrans %}",
    "{% endblocktranslate %}",
    "{% trans \"Hello\" %}",
    "{% translate 'x' as y %}",
    "{% get_current_language as LANG %}",
    "{% language 'de' %}",
    "{% endlanguage %}",
    "{% spaceless %}",
    "{% endspaceless %}",
    "{% comment %}",
    "{% comment \"note\" %}",
    "{% endcomment %}",
    "{% verbatim %}",
    "{% verbatim block1 %}",
    "{% endverbatim %}",
    "{% endverbatim block1 %}",
    "{% url 'name' user.pk as the_url %}",
    "{% static 'app.css' %}",
    "{% wagtailcache 300 x %}",
    "{% endwagtailcache %}",
    "{% nevercache %}",
    "{% end %}",
    "{% endx %}",
    "{{ user.x }}",
    "{{ user.username|default:\"anon\" }}",
    "{{ request.user.email }}",
    "{{ request.session.cart|length }}",
    "{{ messages }}",
    "{{ csrf_token }}",
    "{{ perms.app }}",
    "{{ _('x') }}",
    "{{ \"str|with\" }}",
    "{{ }}",
    "{{",
    "}}",
    "{%",
    "%}",
    "{% %}",
    "{#",
    "#}",
    "{# a comment #}",
    "{# cachelint: ignore[CL202] #}",
    "{# noqa: CL201 #}",
    "{# cachelint: disable[CL203] #}",
    "{# cachelint: enable #}",
    "<a href=\"/static/app.css\">",
    "<img src='/media/x.png'>",
    "<form method=\"post\">",
    "\n",
    "\r\n",
    "\t",
    "text ",
    "é€😀",
    "{% cache 5 '\"quoted' %}",
    "{% with a=\"unbalanced %}",
    "{% include \"app/a.html %}",
]
TEMPLATE_TOKENS = ["{", "}", "%", "#", "\"", "'", "{%", "%}", "{{", "}}", "\n", "\r", "\r\n", " ", "end", "|", "=",
                   ".", "\x0c", "\u2028", "{# noqa: CL202 #}"]


@st.composite
def template_base(draw) -> str:
    pieces = draw(st.lists(st.one_of(st.sampled_from(TAGS), st.text(CHARS, max_size=5)), max_size=30))
    return "".join(pieces)


TEMPLATE_SOURCES = damaged(template_base(), TEMPLATE_TOKENS, CHARS)

# --- checks -------------------------------------------------------------------------------------


def file_lines(text: str) -> list[str]:
    """Lines as an editor shows them (``\\r\\n``, ``\\r`` and ``\\n`` all end a line); the
    position just after a final newline is line ``len(lines)`` with an empty text."""
    return _NEWLINE.split(text)


def assert_span_in(span: Span, lines: list[str], what: object) -> None:
    assert 1 <= span.line <= span.end_line <= len(lines), (span, len(lines), what)
    assert 1 <= span.col <= len(lines[span.line - 1]) + 1, (span, lines[span.line - 1], what)
    assert 1 <= span.end_col <= len(lines[span.end_line - 1]) + 1, (span, lines[span.end_line - 1], what)
    if span.end_line == span.line:
        assert span.col <= span.end_col, (span, what)


def spans_in(value: object, depth: int = 0):
    """Every Span anywhere inside a facts object (dataclasses, tuples, lists, sets, dicts)."""
    assert depth < 200, "facts nested implausibly deep"
    if isinstance(value, Span):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from spans_in(getattr(value, field.name), depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from spans_in(key, depth + 1)
            yield from spans_in(item, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from spans_in(item, depth + 1)


def assert_facts_in_file(facts: object, text: str) -> None:
    lines = file_lines(text)
    for span in spans_in(facts):
        assert_span_in(span, lines, facts)
    assert pickle.loads(pickle.dumps(facts)) == facts  # facts cross process boundaries


def locations(finding: Finding) -> list[Location]:
    return [finding.location, *(evidence.location for evidence in finding.related)]


def run_engine(files: dict[str, str | bytes]) -> None:
    """The whole pipeline on a project holding ``files``: no exception, no internal error, and
    every finding (and its evidence) located inside the file it names."""
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory).resolve()
        write_tree(root, files)
        result = check([root], Config(cache=False, jobs=1), ALL_RULES)
        assert result.errors == []
        for code in sorted({f.code for f in result.findings}):
            event(f"finding {code}")
        texts = {
            display_path(root / name): (data.decode("utf-8", "replace") if isinstance(data, bytes) else data)
            for name, data in files.items()
        }
        for finding in result.findings:
            for location in locations(finding):
                assert location.path in texts, (location, finding)
                assert_span_in(location.span, file_lines(texts[location.path]), finding)


# --- properties ---------------------------------------------------------------------------------

PYTHON_PATHS = [
    ("app/views.py", "app.views", False, False),
    ("proj/settings.py", "proj.settings", False, True),
    ("proj/settings/production.py", "proj.settings.production", False, True),
    ("app/urls.py", "app.urls", False, False),
    ("app/__init__.py", "app", True, False),
]


@FUZZ
@given(source=PYTHON_SOURCES, where=st.sampled_from(PYTHON_PATHS))
def test_parse_python_never_crashes(source: str, where):
    path, module, is_package, settings_like = where
    try:
        facts = parse_python(source.encode("utf-8"), path, module, is_package, settings_like)
    except ParseError as error:
        event("python: ParseError")
        assert error.reason
        assert_span_in(error.span, file_lines(source), error.reason)
        return
    event("python: parsed")
    event(f"python: {min(3, len(facts.views.functions) + len(facts.views.classes))} views/classes (max 3)")
    assert_facts_in_file(facts, source)


SUPPORT = {
    "manage.py": "",
    "app/__init__.py": "",
    "app/templates/app/page.html": "{% load cache %}{% cache 60 x %}{{ user.username }}{% csrf_token %}{% endcache %}\n",
    "app/templates/app/a.html": "{% extends 'app/page.html' %}{% block content %}{{ request.user }}{% endblock %}\n",
}


@FUZZ
@given(source=PYTHON_SOURCES, where=st.sampled_from(PYTHON_PATHS), encoding=st.sampled_from(["utf-8", "utf-8-sig"]))
def test_engine_on_fuzzed_python(source: str, where, encoding: str):
    path = where[0]
    files: dict[str, str | bytes] = {**SUPPORT, path: source.encode(encoding)}
    if path.startswith("proj/settings/"):
        files["proj/settings/__init__.py"] = "from .production import *\n"
    run_engine(files)


@FUZZ
@given(text=TEMPLATE_SOURCES)
def test_parse_template_never_crashes(text: str):
    facts = parse_template(text, "app/templates/app/a.html")
    assert_facts_in_file(facts, text)


VIEWS = """\
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import cache_page


@cache_page(60)
def public(request):
    return render(request, "app/a.html")


@login_required
@cache_page(60)
def private(request):
    return render(request, "app/b.html", {"name": request.user.username})


@cache_page(60)
def listing(request):
    return render(request, ["app/c.html", "app/missing.html"])
"""
SETTINGS_MODULE = """\
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"},
    "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "TIMEOUT": None},
}
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
"""


@FUZZ
@given(templates=st.lists(TEMPLATE_SOURCES, min_size=1, max_size=3))
def test_engine_on_fuzzed_templates(templates: list[str]):
    files: dict[str, str | bytes] = {
        "manage.py": "",
        "app/__init__.py": "",
        "app/views.py": VIEWS,
        "proj/settings.py": SETTINGS_MODULE,
    }
    for name, text in zip(TEMPLATE_NAMES, templates):
        files[f"app/templates/{name}"] = text.encode("utf-8")
    run_engine(files)


PROJECT_SLOTS = [
    "proj/settings/__init__.py",
    "proj/settings/base.py",
    "proj/settings/production.py",
    "app/views.py",
    "app/urls.py",
    "app/mixins.py",
    "app/context_processors.py",
]


@pytest.mark.slow
@FUZZ
@given(
    sources=st.lists(st.tuples(st.sampled_from(PROJECT_SLOTS), PYTHON_SOURCES), min_size=2, max_size=5),
    templates=st.lists(TEMPLATE_SOURCES, max_size=3),
)
def test_engine_on_fuzzed_project(sources: list[tuple[str, str]], templates: list[str]):
    """Several damaged modules that import each other (star-import chains between settings
    modules, views from the URLconf, mixins) and damaged templates, joined into one project."""
    files: dict[str, str | bytes] = {"manage.py": "", "app/__init__.py": "", "proj/__init__.py": ""}
    for path, source in sources:
        files[path] = source.encode("utf-8")
    for name, text in zip(TEMPLATE_NAMES, templates):
        files[f"app/templates/{name}"] = text.encode("utf-8")
    run_engine(files)


# --- the --fix path -----------------------------------------------------------------------------
# Random templates and settings (random line ends, BOM, control characters, the characters that
# str.splitlines() takes for line ends), fixed twice. After --fix the file parses, every byte
# outside the spans the findings name is unchanged (BOM and line ends included), and a second
# --fix changes nothing.

FIX_FUZZ = settings(
    max_examples=int(os.environ.get("CACHELINT_FIX_FUZZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FIX_RULES = select_rules(all_rules(), ["CL103", "CL301", "CL502", "CL504"], None)
ODD_CHARACTERS = "\x0c\x0b\x1c\x1d\x1e\x85\u2028\u2029\t\u00a0é"
ODD_TEXT = st.text(alphabet="ab <>/" + ODD_CHARACTERS, max_size=8)
NEWLINES = st.sampled_from(["\n", "\r\n", "\r"])
BOMS = st.sampled_from([b"", b"\xef\xbb\xbf"])
TEMPLATE_LINES = [
    '<img src="/static/img/a.png">',
    "<link href='/static/css/app.css?v=2'>",
    '<script src="/static/js/x.js#h"></script><img src="/static/b.gif">',
    '<a href="/media/x.pdf">x</a>',
    "{{ user.name }}",
    "{% if a %}<b>x</b>{% endif %}",
    "{# a comment #}",
    "<!-- <img src='/static/old.png'> -->",
    "{% block body %}{% endblock %}",
]


@st.composite
def fixable_templates(draw) -> bytes:
    newline = draw(NEWLINES)
    lines = []
    if draw(st.booleans()):
        lines.append('{% extends "base.html" %}')
    if draw(st.integers(0, 3)) == 0:
        lines.append("{% load static %}")
    for _ in range(draw(st.integers(0, 6))):
        piece = draw(st.sampled_from(TEMPLATE_LINES))
        lines.append(draw(ODD_TEXT) + piece + draw(ODD_TEXT))
    ends = [draw(NEWLINES) if draw(st.integers(0, 5)) == 0 else newline for _ in lines]  # some mixed
    text = "".join(line + end for line, end in zip(lines, ends))
    if lines and draw(st.booleans()):
        text = text[: -len(ends[-1])]  # no line end at the end
    return draw(BOMS) + text.encode("utf-8")


SETTINGS_PIECES = [
    "import os",
    "DEBUG = False",
    'STATICFILES_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"',
    'STATICFILES_STORAGE = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"  # hashed{odd}',
    'DEFAULT_FILE_STORAGE = os.environ.get("FILES", "storages.backends.s3.S3Storage")',
    "# a comment{odd}",
    "\x0c",
    'CACHES = {{{n}    "default": {{{n}        "BACKEND": "django_redis.cache.RedisCache",{n}'
    '        "LOCATION": "redis://h{odd}:6379",{n}    }},{n}}}',
    'CACHES = {{"default": {{"BACKEND": "django.core.cache.backends.redis.RedisCache", "OPTIONS": {{"db": 2}}}}}}',
    'NAME = "x{odd}"',
]
VIEW_PIECES = [
    "@vary_on_cookie\n@cache_page(60)\ndef a(request):\n    return None",
    '@method_decorator(vary_on_cookie, name="dispatch")\n@method_decorator(cache_page(60), name="dispatch")\n'
    "class B(View):\n    pass",
    "class C(View):\n    @method_decorator(vary_on_cookie)  # {odd}\n    @method_decorator(cache_page(60))\n"
    "    def dispatch(self, request):\n        return None",
    "def d(request):\n    return None  # {odd}",
]
VIEW_IMPORTS = (
    "from django.utils.decorators import method_decorator\nfrom django.views import View\n"
    "from django.views.decorators.cache import cache_page\nfrom django.views.decorators.vary import vary_on_cookie\n"
)


@st.composite
def fixable_python(draw, pieces: list[str], head: str = "") -> bytes:
    newline = draw(NEWLINES)
    chosen = draw(st.lists(st.sampled_from(pieces), max_size=6))
    odd = st.text(alphabet="ab " + ODD_CHARACTERS.replace("\x0c", ""), max_size=4)  # \x0c only starts a line
    text = head + "\n".join(piece.format(n="\n", odd=draw(odd)) for piece in chosen) + "\n"
    if draw(st.booleans()):
        text = text.rstrip("\n")
    return draw(BOMS) + text.replace("\n", newline).encode("utf-8")


def _fix_once(root: Path) -> tuple[Result, FixReport]:
    result = check([root], Config(cache=False, jobs=1), FIX_RULES)
    assert result.errors == []
    return result, apply_fixes(result.findings, FIX_RULES, Config(), write=True, digests=result.digests)


def _line_ends(text: str) -> set[str]:
    return set(_NEWLINE.findall(text))


def assert_fixes_are_contained(files: dict[str, bytes], check_unchanged) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory).resolve()
        write_tree(root, {"manage.py": "", "app/__init__.py": "", **files})
        cwd = os.getcwd()
        os.chdir(root)  # finding paths are relative, as in a real run
        try:
            result, report = _fix_once(root)
            for refusal in report.refused:
                event(f"refused: {refusal.split(': ', 1)[1]}")
            fixed: dict[str, bytes] = {}
            for name, before in files.items():
                after = fixed[name] = (root / name).read_bytes()
                bom = b"\xef\xbb\xbf" if before.startswith(b"\xef\xbb\xbf") else b""
                assert after.startswith(bom), name
                old, new = before[len(bom) :].decode("utf-8"), after[len(bom) :].decode("utf-8")
                if after != before:
                    if len(_line_ends(old)) == 1:
                        assert _line_ends(new) == _line_ends(old), (old, new)
                    findings = [f for f in result.findings if Path(f.location.path).resolve() == root / name]
                    for code in sorted({f.code for f in findings}):
                        event(f"fixed {code}")
                    check_unchanged(old, new, findings)
            _, again = _fix_once(root)
            assert again.fixed == {}, again
            assert {name: (root / name).read_bytes() for name in files} == fixed
        finally:
            os.chdir(cwd)


def _template_unchanged(old: str, new: str, findings: list[Finding]) -> None:
    """``new`` is ``old`` with each finding's URL replaced by its ``{% static %}`` tag, and
    ``{% load static %}`` inserted at the top or after ``{% extends %}``: nothing else."""
    assert not parse_template(new, "x.html").problems
    starts = line_starts(old)
    pattern, at = [], 0
    for finding in sorted(findings, key=lambda f: f.location.span):
        span = finding.location.span
        begin = starts[span.line - 1] + span.col - 1
        end = starts[span.end_line - 1] + span.end_col - 1
        url = re.match(r"`(.*?)`", finding.message).group(1)
        assert old[begin:end] == url, (old, span, url)  # positions use the lexer's line table
        name, query = re.match(r"/static/([^?#]*)(.*)", url).groups()
        tag = "|".join(re.escape(f"{{% static {q}{name}{q} %}}") for q in "'\"")
        pattern += [re.escape(old[at:begin]), f"(?:{tag}){re.escape(query)}"]
        at = end
    pattern.append(re.escape(old[at:]))
    regex = "".join(pattern)
    if new.count("{% load static %}") > old.count("{% load static %}"):
        first_end = _NEWLINE.search(old)
        newline = first_end.group() if first_end else "\n"
        extends = re.match(r'\{% extends "base.html" %\}', old)
        load = re.escape(newline + "{% load static %}") if extends else re.escape("{% load static %}" + newline)
        at = extends.end() if extends else 0
        regex = re.escape(old[:at]) + load + regex[len(re.escape(old[:at])) :]
    assert re.fullmatch(regex, new, re.DOTALL), (old, new)


def _python_unchanged(old: str, new: str, findings: list[Finding]) -> None:
    """Lines outside the top-level statements the findings point at are unchanged."""
    import ast

    import libcst as cst

    ast.parse(new)
    cst.parse_module(new)
    lines = [loc.line for f in findings for loc in (f.location, *(e.location for e in f.related))]
    touched: set[int] = set()
    for statement in ast.parse(old).body:
        first = min([statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", []))])
        if any(first <= line <= statement.end_lineno for line in lines):
            touched |= set(range(first, statement.end_lineno + 1))

    def with_ends(text: str) -> list[str]:
        return [text[a:b] for a, b in zip(line_starts(text), [*line_starts(text)[1:], len(text)]) if a < b]

    # The untouched lines, in order, are all in the new file (a subsequence, not a diff: a diff
    # may align repeated lines such as two `import os` either way).
    untouched = [line for number, line in enumerate(with_ends(old), start=1) if number not in touched]
    remaining = iter(with_ends(new))
    missing = [line for line in untouched if not any(line == candidate for candidate in remaining)]
    assert not missing, (missing, old, new)


@FIX_FUZZ
@given(templates=st.lists(fixable_templates(), min_size=1, max_size=3))
def test_fix_templates_changes_only_the_urls(templates: list[bytes]):
    assert_fixes_are_contained(
        {f"app/templates/{name}": text for name, text in zip(TEMPLATE_NAMES, templates)}, _template_unchanged
    )


@pytest.mark.slow
@FIX_FUZZ
@given(
    settings_source=fixable_python(SETTINGS_PIECES),
    views_source=fixable_python(VIEW_PIECES, VIEW_IMPORTS),
)
def test_fix_python_changes_only_the_flagged_statements(settings_source: bytes, views_source: bytes):
    assert_fixes_are_contained(
        {"proj/settings.py": settings_source, "app/views.py": views_source}, _python_unchanged
    )


# --- regressions: bugs the properties above found (now fixed) ----------------------------------------
# Lines end at \n, \r\n or a lone \r everywhere, never at the other breaks str.splitlines() knows.

FORM_FEED_VIEWS = (
    "from django.contrib.auth.decorators import login_required\n"
    "from django.views.decorators.cache import cache_page\n"
    "\x0c\n"  # a page break, as PEP 8 allows
    "\n"
    "@login_required\n"
    "@cache_page(60)  # noqa: CL101\n"
    "def dashboard(request):\n"
    "    return None\n"
)


def _triples(root: Path, select: list[str], target: str = ".") -> list[tuple[str, int, int, str]]:
    result = check([root / target], Config(cache=False, jobs=1), select_rules(all_rules(), select, None))
    assert result.errors == []
    return sorted((f.location.path, f.location.line, f.location.col, f.code) for f in result.findings)


def test_suppression_lines_after_a_form_feed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, {"manage.py": "", "app/__init__.py": "", "app/views.py": FORM_FEED_VIEWS})
    assert _triples(tmp_path, ["CL101", "CL002"]) == []


def test_suppression_lines_in_a_one_line_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, {"manage.py": "", "app/templates/x.html": "{% load cache %}\x1e{# noqa: CL201 #}\n"})
    assert _triples(tmp_path, ["CL201", "CL002"]) == [("app/templates/x.html", 1, 18, "CL002")]


def test_template_lines_with_lone_carriage_returns():
    facts = parse_template("{% load cache %}\r{% cache 500 sidebar %}x{% endcache %}\r", "x.html")
    assert facts.caches[0].span == Span(2, 1, 2, 24)
