"""Classes as Python resolves them: the C3 MRO across modules, inherited layers and attributes,
and mixins listed after Django's ``View`` (whose ``dispatch`` never calls theirs)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cachelint.config import Config
from cachelint.discovery import Classifier, walk
from cachelint.engine import SILENT, _join, _Parser
from cachelint.project import AUTH, CACHE_PAGE, ProjectModel
from tests.helpers import run, triples, write_tree


def model(root: Path, files: dict[str, str]) -> ProjectModel:
    """The model of a mini project, every module parsed (the byte pre-filter is bypassed)."""
    write_tree(root, {path: textwrap.dedent(source) for path, source in files.items()})
    config = Config(cache=False, jobs=1)
    with pytest.MonkeyPatch.context() as patch, _Parser(config, None, (), SILENT) as parser:
        patch.chdir(root)  # display paths are relative to the working directory
        classifier = Classifier(root)
        sources = [s for s in (classifier.classify(p) for p in walk(root)) if s is not None]
        return _join(sources, parser.parse(sources, force=True), config)


def scan(root: Path, files: dict[str, str], select: list[str]) -> list[tuple[str, int, str]]:
    write_tree(root, {path: textwrap.dedent(source) for path, source in files.items()})
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        return triples(run(root, select, config=Config(cache=False)))


def view(project: ProjectModel, name: str):
    return next(v for v in project.views if v.name == name and v.location.path.endswith(".py"))


# --- C3 -----------------------------------------------------------------------------------------


def test_linearization_is_c3_across_modules(tmp_path):
    project = model(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/base.py": """\
                class A: pass
                class B(A): pass
                class C(A): pass
            """,
            "app/views.py": """\
                from app.base import B, C
                class D(B, C): pass
            """,
        },
    )
    # A BFS from D would give D, B, C, A as well; C3 differs from it once a base repeats deeper.
    assert project.linearization("app.views.D") == ("app.views.D", "app.base.B", "app.base.C", "app.base.A")


def test_linearization_differs_from_breadth_first(tmp_path):
    project = model(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/views.py": """\
                class X: pass
                class Y(X): pass
                class Z: pass
                class V(Y, Z): pass
            """,
        },
    )
    # BFS: V, Y, Z, X; Python: V, Y, X, Z.
    assert project.linearization("app.views.V") == (
        "app.views.V",
        "app.views.Y",
        "app.views.X",
        "app.views.Z",
    )


def test_framework_views_bring_django_view_along(tmp_path):
    project = model(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/views.py": """\
                from django.contrib.auth.mixins import LoginRequiredMixin
                from django.views.generic import TemplateView
                from rest_framework.generics import ListAPIView
                class Page(TemplateView, LoginRequiredMixin): pass
                class Api(ListAPIView): pass
            """,
        },
    )
    assert project.linearization("app.views.Page") == (
        "app.views.Page",
        "django.views.generic.TemplateView",
        "django.views.generic.base.View",
        "django.contrib.auth.mixins.LoginRequiredMixin",
    )
    assert project.linearization("app.views.Api")[-2:] == (
        "rest_framework.views.APIView",
        "django.views.generic.base.View",
    )


def test_cyclic_or_inconsistent_bases_do_not_crash(tmp_path):
    project = model(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/a.py": "from app.b import B\nclass A(B): pass\n",
            "app/b.py": "from app.a import A\nclass B(A): pass\n",
            "app/c.py": "class X: pass\nclass Y(X): pass\nclass Bad(X, Y): pass\n",
        },
    )
    assert project.linearization("app.a.A")[0] == "app.a.A"
    assert set(project.linearization("app.c.Bad")) == {"app.c.Bad", "app.c.X", "app.c.Y"}


# --- inherited layers ---------------------------------------------------------------------------

CACHED_BASE = """\
    from django.utils.decorators import method_decorator
    from django.views.decorators.cache import cache_page
    from django.views.generic import TemplateView


    @method_decorator(cache_page(600), name="dispatch")
    class CachedPage(TemplateView):
        pass


    class CachedGetMixin:
        @method_decorator(cache_page(300))
        def get(self, request, *args, **kwargs):
            return super().get(request, *args, **kwargs)
"""


def test_cache_page_on_a_base_class_dispatch_wraps_every_subclass(tmp_path):
    project = model(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/base.py": CACHED_BASE,
            "app/views.py": """\
                from django.views.generic import TemplateView
                from app.base import CachedGetMixin, CachedPage


                class Dashboard(CachedPage):
                    cache_timeout = 5  # not an argument of the decorator: changes nothing
                    template_name = "dashboard.html"


                class Report(CachedGetMixin, TemplateView):
                    template_name = "report.html"
            """,
        },
    )
    dashboard = view(project, "app.views.Dashboard")
    [cache] = dashboard.wrappers(CACHE_PAGE)
    assert cache.location.path == "app/views.py" and cache.location.line == 5
    assert cache.call is not None and cache.call.args == (600,)
    assert cache.origin is not None and (cache.origin.path, cache.origin.line) == ("app/base.py", 6)
    assert "inherited from `CachedPage`" in cache.via[0].label
    report = view(project, "app.views.Report")
    assert [w.call.args for w in report.wrappers(CACHE_PAGE) if w.call] == [(300,)]


def test_an_override_without_super_drops_the_base_layers(tmp_path):
    project = model(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/base.py": CACHED_BASE,
            "app/views.py": """\
                from django.http import HttpResponse
                from django.views.generic import TemplateView
                from app.base import CachedGetMixin


                class Own(CachedGetMixin, TemplateView):
                    def get(self, request):
                        return HttpResponse(request.user.username)
            """,
        },
    )
    assert view(project, "app.views.Own").wrappers(CACHE_PAGE) == []


def test_inherited_attributes_resolve_by_mro(tmp_path):
    project = model(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/views.py": """\
                from django.views.generic import TemplateView, View


                class Base:
                    template_name = "base.html"


                class Other:
                    template_name = "other.html"
                    http_method_names = ["post"]


                class Deep(Base): pass


                class Page(Deep, Other, TemplateView): pass


                class AfterView(View, Other): pass
            """,
        },
    )
    page = view(project, "app.views.Page")
    assert [t[0] for t in page.templates] == ["base.html"]
    assert page.http_methods == ("post",)
    # View defines http_method_names itself: a mixin after it does not restrict anything.
    assert view(project, "app.views.AfterView").http_methods is None


# --- mixins after View --------------------------------------------------------------------------


def test_login_mixin_after_view_is_not_protection(tmp_path):
    project = model(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/views.py": """\
                from django.contrib.auth.mixins import LoginRequiredMixin
                from django.views.generic import TemplateView, View


                class Broken(View, LoginRequiredMixin): pass


                class BrokenGeneric(TemplateView, LoginRequiredMixin): pass


                class Fine(LoginRequiredMixin, TemplateView): pass
            """,
        },
    )
    assert view(project, "app.views.Broken").wrappers(AUTH) == []
    assert view(project, "app.views.BrokenGeneric").wrappers(AUTH) == []
    assert len(view(project, "app.views.Fine").wrappers(AUTH)) == 1


def test_mixin_placed_before_view_by_a_deeper_base_still_runs(tmp_path):
    """C3 puts ``View`` after the mixin when another base lists the mixin before ``View``."""
    project = model(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/views.py": """\
                from django.contrib.auth.mixins import LoginRequiredMixin
                from django.views.generic import TemplateView, View


                class Protected(LoginRequiredMixin, View): pass


                class Page(TemplateView, Protected): pass
            """,
        },
    )
    assert len(view(project, "app.views.Page").wrappers(AUTH)) == 1
    assert scan(tmp_path, {}, ["CL111"]) == []


def test_cl111_flags_auth_and_project_dispatch_mixins_after_view(tmp_path):
    found = scan(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/mixins.py": """\
                from django.utils.decorators import method_decorator
                from django.views.decorators.cache import never_cache


                class NoCacheMixin:
                    @method_decorator(never_cache)
                    def dispatch(self, *args, **kwargs):
                        return super().dispatch(*args, **kwargs)
            """,
            "app/views.py": """\
                from django.contrib.auth.mixins import LoginRequiredMixin
                from django.views import View
                from django.views.generic import DetailView
                from app.mixins import NoCacheMixin


                class Account(View, LoginRequiredMixin):
                    pass


                class Detail(DetailView, NoCacheMixin):
                    pass


                class Child(Account):  # the bug is in Account's bases: reported there only
                    pass


                class Right(LoginRequiredMixin, NoCacheMixin, View):
                    pass
            """,
        },
        ["CL111"],
    )
    assert found == [("app/views.py", 7, "CL111"), ("app/views.py", 11, "CL111")]


def test_cl111_finds_the_wrong_order_in_a_module_the_pre_filter_skipped(tmp_path):
    """``app/pages.py`` holds no pre-filter token: it is parsed on demand because it imports a
    project ``dispatch`` mixin and lists two bases; ``app/other.py`` (one base: it cannot make
    the order wrong) is left unparsed."""
    files = {
        "app/__init__.py": "",
        "app/mixins.py": """\
            class Audited:
                def dispatch(self, request, *args, **kwargs):
                    return super().dispatch(request, *args, **kwargs)
        """,
        "app/pages.py": """\
            from django.views import View
            from app.mixins import Audited


            class Reports(
                View,
                Audited,
            ):
                pass
        """,
        "app/other.py": """\
            from app.mixins import Audited


            class Base(Audited):
                pass
        """,
    }
    assert scan(tmp_path, files, ["CL111"]) == [("app/pages.py", 5, "CL111")]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        project = run(tmp_path, ["CL111"], config=Config(cache=False)).project
    assert "app.pages" in project.modules and "app.other" not in project.modules


def test_cl111_follows_a_chain_of_mixins_through_skipped_modules(tmp_path):
    """None of the three modules holds a pre-filter token: ``Page`` (two bases) reaches
    ``Logged`` (one base), which inherits ``Audited``'s ``dispatch``; each is parsed in turn."""
    files = {
        "app/__init__.py": "",
        "app/y.py": """\
            class Audited:
                def dispatch(self, request, *args, **kwargs):
                    return super().dispatch(request, *args, **kwargs)
        """,
        "app/x.py": """\
            from app.y import Audited


            class Logged(Audited):
                pass
        """,
        "app/z.py": """\
            from django.views import View
            from app.x import Logged


            class Page(View, Logged):
                pass
        """,
    }
    assert scan(tmp_path, files, ["CL111"]) == [("app/z.py", 5, "CL111")]


@pytest.mark.parametrize(
    ("source", "multiple"),
    [
        (b"class A(B):\n    x = f(a, b)\n", False),
        (b"class A:\n    pass\nclass B(C): pass\n", False),
        (b"class A(B, C):\n    pass\n", True),
        (b"class A(\n    B,\n    C,\n):\n    pass\n", True),
        (b"class A(six.with_metaclass(M, B)):\n    pass\n", True),  # nested brackets: assume yes
        (b"class A(Generic[T]):\n    pass\n", True),
        (b"x = 1\n", False),
    ],
)
def test_skipped_modules_know_whether_a_class_may_list_two_bases(source, multiple):
    from cachelint.facts.python import skipped_module

    assert skipped_module(source, "app.m", False).multiple_bases is multiple
    assert skipped_module(b"import os\n" + source, "app.m", False).multiple_bases is multiple


@pytest.mark.parametrize(
    ("source", "names"),
    [
        (b"class M:\n    def dispatch(self, request):\n        pass\n", True),
        (b'@method_decorator(never_cache, name="dispatch")\nclass V(View):\n    pass\n', True),
        (b"from django.dispatch import receiver\n", False),  # signals are not the view's dispatch
    ],
)
def test_skipped_modules_know_whether_they_name_dispatch(source, names):
    from cachelint.facts.python import skipped_module

    assert skipped_module(source, "app.m", False).names_dispatch is names


def test_cl101_ignores_a_login_mixin_that_never_runs(tmp_path):
    files = {
        "app/__init__.py": "",
        "app/views.py": """\
            from django.contrib.auth.mixins import LoginRequiredMixin
            from django.utils.decorators import method_decorator
            from django.views.decorators.cache import cache_page
            from django.views.generic import TemplateView


            @method_decorator(cache_page(60), name="dispatch")
            class Broken(TemplateView, LoginRequiredMixin):
                template_name = "page.html"


            @method_decorator(cache_page(60), name="dispatch")
            class Protected(LoginRequiredMixin, TemplateView):
                template_name = "page.html"
        """,
    }
    assert scan(tmp_path, files, ["CL101", "CL111"]) == [
        ("app/views.py", 8, "CL111"),
        ("app/views.py", 12, "CL101"),
    ]


def test_never_cache_on_an_auth_mixin_applies_to_its_subclasses(tmp_path):
    files = {
        "app/__init__.py": "",
        "app/mixins.py": """\
            from django.contrib.auth.mixins import LoginRequiredMixin
            from django.utils.decorators import method_decorator
            from django.views.decorators.cache import cache_control


            @method_decorator(cache_control(private=True), name="dispatch")
            class PrivateLogin(LoginRequiredMixin):
                pass
        """,
        "app/views.py": """\
            from django.views.generic import TemplateView
            from app.mixins import PrivateLogin


            class Settings(PrivateLogin, TemplateView):
                template_name = "settings.html"
        """,
        "templates/settings.html": "{{ user.email }}",
    }
    assert scan(tmp_path, files, ["CL106"]) == []


def test_subclass_of_a_cached_base_in_a_module_without_cache_tokens_is_parsed(tmp_path):
    files = {
        "app/__init__.py": "",
        "app/base.py": CACHED_BASE,
        "app/views.py": """\
            from app.base import CachedPage


            class Inbox(CachedPage):
                template_name = "inbox.html"
        """,
        "templates/inbox.html": "{{ request.user.username }}",
    }
    assert scan(tmp_path, files, ["CL102"]) == [("app/views.py", 4, "CL102")]


# --- the fixture project ------------------------------------------------------------------------

FIXTURE = Path(__file__).parent / "fixtures" / "mro_project"


@pytest.fixture(scope="module")
def fixture_result():
    from tests.test_fixtures import DEFAULT_ON, scan_project

    return scan_project(FIXTURE, [*DEFAULT_ON, "CL106"])


def test_fixture_yields_exactly_the_marked_findings(fixture_result):
    from tests.helpers import expected_markers
    from tests.test_fixtures import fixture_files

    assert fixture_result.errors == []
    assert triples(fixture_result) == expected_markers(fixture_files(FIXTURE))


def _finding(result, code: str, path: str, line: int):
    [found] = [f for f in result.findings if (f.code, f.location.path, f.location.line) == (code, path, line)]
    return found


def test_fixture_inherited_cache_names_the_base_decorator(fixture_result):
    inbox = _finding(fixture_result, "CL102", "pages/views.py", 18)
    first = inbox.related[0]
    assert (first.location.path, first.location.line) == ("pages/mixins.py", 10)
    assert first.label == "inherited from `CachedPage`: `cache_page(60 * 15)` here"


def test_fixture_cl111_message_and_hint(fixture_result):
    members = _finding(fixture_result, "CL111", "pages/views.py", 84)
    assert members.message == (
        "`LoginRequiredMixin` comes after `CachedPage` in the MRO of `Members`: `View.dispatch` does "
        "not call it, so its login check never runs"
    )
    assert (
        members.hint
        == "list `LoginRequiredMixin` before `CachedPage` in the bases (mixins first, the view class last)"
    )
    draft = _finding(fixture_result, "CL111", "pages/views.py", 76)
    assert [(e.location.path, e.location.line, e.label) for e in draft.related] == [
        ("pages/mixins.py", 37, "`NoCacheMixin` wraps `dispatch` here")
    ]


def test_a_class_defined_twice_under_one_name_does_not_crash(tmp_path, monkeypatch):
    """Found by the engine fuzzer: the second ``class Page`` (with the mixin) shadows the first
    in the definition table while the first is also a view; the MRO must not fail on it."""
    from cachelint.config import Config
    from tests.helpers import run, write_tree

    write_tree(
        tmp_path,
        {
            "manage.py": "",
            "app/__init__.py": "",
            "app/views.py": (
                "from django.contrib.auth.mixins import LoginRequiredMixin\n"
                "from django.views.decorators.cache import cache_page\n\n"
                "class Page:\n    pass\n\n"
                "class Page(LoginRequiredMixin):\n    pass\n"
            ),
        },
    )
    monkeypatch.chdir(tmp_path)
    result = run(tmp_path, ["ALL"], config=Config(cache=False))
    assert result.errors == [] and [f.code for f in result.findings if f.code == "CL001"] == []
