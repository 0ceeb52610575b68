"""Value flow: locals, helpers, parameter defaults and context processors, followed as Python
runs them (``cachelint.facts.flow`` inside a function, ``cachelint.project.flow`` across them).

``fixtures/flow_project`` puts each pattern next to its safe look-alike; expected findings are
marked on their lines. The unit tests pin the labels the collector gives each construct.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cachelint.config import Config
from cachelint.engine import Result
from cachelint.facts.collector import collect
from cachelint.facts.flow import kind_of
from cachelint.facts.views import FunctionFacts
from tests.helpers import expected_markers, run, triples
from tests.test_fixtures import fixture_files, line_of

PROJECT = Path(__file__).parent / "fixtures" / "flow_project"


@pytest.fixture(scope="module")
def project() -> Result:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(PROJECT)
        return run(PROJECT, ["ALL"], config=Config(cache=False))


def test_flow_project_yields_exactly_the_marked_findings(project: Result) -> None:
    assert triples(project) == expected_markers(fixture_files(PROJECT))


VIEWS = "shop/views.py"


def _line(needle: str, path: str = VIEWS) -> int:
    return line_of(PROJECT, path, needle)


def _finding(result: Result, path: str, line: int):
    return next(f for f in result.findings if f.location.path == path and f.location.line == line)


def test_cache_aside_idiom_names_the_read_that_reaches_the_stored_value(project: Result) -> None:
    line = _line('cache.set("dashboard:v1", data, 300)')
    finding = _finding(project, VIEWS, line)
    assert finding.code == "CL603"
    assert finding.message == (
        '`cache.set` stores a value computed from `request.user` under the key `"dashboard:v1"`, which '
        "does not identify the visitor: every visitor reads the first one's data"
    )
    assert [(e.location.line, e.location.col, e.label) for e in finding.related] == [
        (line - 1, 27, "reads `request.user` here")
    ]


def test_a_literal_local_key_and_a_helper_result_are_followed(project: Result) -> None:
    line = _line("cache.set(key, summary, 600)")
    finding = _finding(project, VIEWS, line)
    assert '`"profile:summary:v1"`' in finding.message
    assert [(e.location.line, e.label) for e in finding.related] == [
        (line - 1, "calls `build_summary` here"),
        (line - 1, "reads `request.user` here"),
    ]


def test_raw_input_reaches_the_key_through_locals(project: Result) -> None:
    finding = _finding(project, VIEWS, _line("results = cache.get(key)"))
    assert finding.code == "CL604"
    assert "raw `request.GET`" in finding.message
    assert [(e.location.line, e.location.col) for e in finding.related] == [
        (_line('q = request.GET.get("q"'), 9)
    ]


def test_helpers_are_followed_three_calls_deep(project: Result) -> None:
    finding = _finding(project, VIEWS, _line("def cart_summary") - 1)
    assert finding.code == "CL102"
    assert [(e.location.path, e.location.line, e.label) for e in finding.related] == [
        (VIEWS, _line("total = cart_total(request)"), "passes the request to `cart_total` here"),
        ("shop/helpers.py", 14, "passes the request to `basket_for` here"),
        ("shop/helpers.py", 18, "passes the request to `sum_items` here"),
        ("shop/helpers.py", 22, "`sum_items` reads `request.session` here"),
    ]


def test_template_names_come_from_parameter_defaults_and_locals(project: Result) -> None:
    stats = _finding(project, VIEWS, _line("def stats") - 1)
    assert [e.label for e in stats.related][:1] == ["renders `shop/stats.html`"]
    home = _finding(project, VIEWS, _line("def home") - 1)
    assert [e.label for e in home.related] == [
        "renders `shop/home.html`",
        "template prints `theme` here",
        "context processor `storefront` reads `request.user` here",
    ]


def test_context_processor_keys_are_personal_one_by_one(project: Result) -> None:
    """``storefront`` reads the user for ``theme`` only: the fragment printing ``shop_name`` is
    not reported, the one printing ``theme`` is."""
    fragments = [f for f in project.findings if f.code == "CL202"]
    assert [(f.location.path, f.location.line) for f in fragments] == [("shop/templates/shop/home.html", 3)]


def test_settings_read_in_view_code_take_the_production_value(project: Result) -> None:
    """``cache_control(max_age=settings.CACHE_AGES["page"])`` is ``max-age=600`` (CL105); the
    look-alike with ``private=True`` is fine."""
    finding = _finding(project, VIEWS, _line('settings.CACHE_AGES["page"]'))
    assert finding.code == "CL105"
    assert finding.message.startswith("`Cache-Control: max-age=600` on a login-protected view")


# --- labels inside one function ---------------------------------------------------------------


def _function(source: str, name: str = "view") -> FunctionFacts:
    facts = collect(textwrap.dedent(source).encode(), "app/views.py", "app.views", False, False)
    return next(f for f in facts.views.functions if f.name == name)


def _kinds(function: FunctionFacts, local: str) -> set[str]:
    labels = dict(function.flow.names).get(local, frozenset())
    return {kind_of(label) for label in labels}


@pytest.mark.parametrize(
    ("body", "local", "kinds"),
    [
        ("a, b = request.user.profile, 1", "a", {"user"}),
        ("rows = [o.total for o in request.user.orders.all()]", "rows", {"user"}),
        ("n = 0\n    n += request.session['visits']", "n", {"session"}),
        ("ctx = {}\n    ctx.update({'cart': request.session['cart']})", "ctx", {"session"}),
        ("ctx = {}\n    ctx['orders'] = request.user.orders.all()", "ctx", {"user"}),
        ("if x:\n        v = 1\n    else:\n        v = request.user.email", "v", {"user"}),
        ("if (v := request.GET.get('q')):\n        pass", "v", {"input:GET"}),
        ("for item in request.session['cart']:\n        pass", "item", {"session"}),
        ("uid = request.user.pk", "uid", {"user_id"}),
        ("member = request.user.is_authenticated", "member", {"auth_state"}),
        ("key = request.session.session_key", "key", {"session_key"}),
        ("ip = request.META['REMOTE_ADDR']", "ip", set()),
        ("agent = request.META.get('HTTP_USER_AGENT')", "agent", {"input:META"}),
        ("digest = hashlib.sha256(request.GET['q'].encode()).hexdigest()", "digest", set()),
        ("page = int(request.GET.get('page', 1))", "page", set()),
        ("sort = SORTS.get(request.GET.get('sort'), 'new')", "sort", set()),
        ("size = len(request.user.orders.all())", "size", {"user"}),
    ],
)
def test_labels_follow_assignments(body: str, local: str, kinds: set[str]) -> None:
    function = _function(f"import hashlib\n\ndef view(request, x=None):\n    {body}\n")
    assert _kinds(function, local) == kinds


def test_a_function_defined_below_its_caller_is_still_a_project_call() -> None:
    facts = collect(
        b"def view(request):\n    return later(request.user)\n\n\ndef later(user):\n    return user.email\n",
        "app/views.py",
        "app.views",
        False,
        False,
    )
    view = facts.views.functions[0]
    assert [site.callee for site in view.flow.sites] == ["app.views.later"]
    assert dict(facts.views.functions[1].flow.names) == {}
    assert facts.views.functions[1].flow.returns == frozenset({"param:user"})


def test_parameters_map_to_the_callers_arguments(tmp_path: Path) -> None:
    """``owner_id(request.user)`` returns only who the visitor is: storing it under a shared
    key records the last editor, it does not leak their data (CL603 stays silent)."""
    from tests.helpers import write_tree

    write_tree(
        tmp_path,
        {
            "manage.py": "",
            "app/__init__.py": "",
            "app/views.py": textwrap.dedent(
                """
                from django.core.cache import cache

                def owner_id(user):
                    return user.pk

                def profile(user):
                    return {"email": user.email}

                def view(request):
                    cache.set("last-editor:v1", owner_id(request.user), 60)
                    cache.set("profile:v1", profile(request.user), 60)  # the leak
                """
            ),
        },
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        result = run(tmp_path, ["CL603"], config=Config(cache=False))
    assert triples(result) == [("app/views.py", 12, "CL603")]


def test_rendered_html_in_a_local_reaches_cl607(tmp_path: Path) -> None:
    """``html = render_to_string(...)`` then ``cache.set(key, html)`` with a literal local key
    caches one language for everyone; the look-alike puts the language in the key."""
    from tests.helpers import write_tree

    write_tree(
        tmp_path,
        {
            "manage.py": "",
            "config/__init__.py": "",
            "config/settings.py": 'MIDDLEWARE = ["django.middleware.locale.LocaleMiddleware"]\n',
            "app/__init__.py": "",
            "app/templates/app/menu.html": "{% load i18n %}{% translate 'Home' %}\n",
            "app/views.py": textwrap.dedent(
                """
                from django.core.cache import cache
                from django.template.loader import get_template, render_to_string
                from django.utils.translation import get_language

                def menu(request):
                    key = "menu:v1"
                    html = render_to_string("app/menu.html", {})
                    cache.set(key, html, 600)
                    page = get_template("app/menu.html").render({})
                    cache.set(f"menu:v1:{get_language()}", page, 600)
                """
            ),
        },
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        result = run(tmp_path, ["CL607"], config=Config(cache=False))
    assert triples(result) == [("app/views.py", 9, "CL607")]


@pytest.mark.parametrize(
    ("prod", "expected"),
    [
        ('from .base import *\nDEBUG = False\nAGES = {"page": 600}\n', [("app/views.py", 6, "CL105")]),
        ('from .base import *\nDEBUG = False\nAGES = {"page": 0}\n', []),
        ("from .base import *\nDEBUG = False\nAGES = load_ages()\n", []),  # unknown: never guessed
    ],
)
def test_setting_values_in_decorators_come_from_production(tmp_path: Path, prod: str, expected) -> None:
    from tests.helpers import write_tree

    write_tree(
        tmp_path,
        {
            "manage.py": "",
            "config/__init__.py": "",
            "config/settings/__init__.py": "",
            "config/settings/base.py": 'SECRET_KEY = "x"\nAGES = {"page": 0}\n',
            "config/settings/production.py": prod,
            "app/__init__.py": "",
            "app/views.py": textwrap.dedent(
                """\
                from django.conf import settings
                from django.contrib.auth.decorators import login_required
                from django.views.decorators.cache import cache_control

                @login_required
                @cache_control(max_age=settings.AGES["page"])
                def account(request):
                    return None
                """
            ),
        },
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        result = run(tmp_path, ["CL105"], config=Config(cache=False))
    assert triples(result) == expected


def test_values_are_followed_through_three_helpers_and_self_methods(tmp_path: Path) -> None:
    from tests.helpers import write_tree

    write_tree(
        tmp_path,
        {
            "manage.py": "",
            "app/__init__.py": "",
            "app/summary.py": textwrap.dedent(
                """\
                def first(user):
                    return second(user)

                def second(user):
                    return third(user)

                def third(user):
                    return {"email": user.email}
                """
            ),
            "app/views.py": textwrap.dedent(
                """\
                from django.core.cache import cache
                from django.views import View

                from .summary import first

                def hops(request):
                    cache.set("summary:v1", first(request.user), 60)

                class Panel(View):
                    def get(self, request):
                        cache.set("panel:v1", self.panel(), 60)

                    def panel(self):
                        return {"name": self.request.user.get_full_name()}

                class PublicPanel(Panel):
                    def panel(self):
                        return {"name": "everyone"}
                """
            ),
        },
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        result = run(tmp_path, ["CL603"], config=Config(cache=False))
    # ``PublicPanel.get`` is ``Panel.get``, judged once in ``Panel`` where ``self.panel`` is
    # Panel's own: the subclass override is not a second finding.
    assert triples(result) == [("app/views.py", 7, "CL603"), ("app/views.py", 11, "CL603")]
    hops = next(f for f in result.findings if f.location.line == 7)
    assert [(e.location.path, e.location.line, e.label) for e in hops.related] == [
        ("app/views.py", 7, "calls `first` here"),
        ("app/summary.py", 2, "calls `second` here"),
        ("app/summary.py", 5, "calls `third` here"),
        ("app/views.py", 7, "reads `request.user` here"),
    ]
