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
from cachelint.engine import check
from cachelint.facts.python import ParseError, parse_python
from cachelint.facts.templates import parse_template
from cachelint.finding import Finding, Location, Span
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
