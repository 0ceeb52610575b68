"""HTTP methods matter: ``cache_page`` stores only GET/HEAD responses, so what only a POST (PUT,
PATCH, DELETE) reaches never makes a cached page personal, and CL106 skips POST-only views."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cachelint.config import Config
from cachelint.facts.python import parse_python
from tests.helpers import run, triples, write_tree


def accesses(source: str, name: str = "view") -> list[tuple[str, int, bool]]:
    facts = parse_python(textwrap.dedent(source).encode(), "app/views.py", "app.views", False, False)
    functions = [*facts.views.functions, *(m for c in facts.views.classes for m in c.methods)]
    function = next(f for f in functions if f.name == name)
    return [(a.what, a.span.line, a.unsafe_only) for a in function.accesses]


def scan(root: Path, files: dict[str, str], select: list[str]) -> list[tuple[str, int, str]]:
    write_tree(root, {path: textwrap.dedent(source) for path, source in files.items()})
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        return triples(run(root, select, config=Config(cache=False)))


# --- facts --------------------------------------------------------------------------------------


def test_reads_inside_a_post_branch_are_unsafe_only():
    assert accesses("""\
        def view(request):
            if request.method == "POST":
                request.user.save()
            elif request.method in ("PUT", "PATCH"):
                request.session.flush()
            return request.user.username
    """) == [("request.user", 3, True), ("request.session", 5, True), ("request.user", 6, False)]


def test_the_else_of_a_get_head_test_is_unsafe_only_but_not_the_else_of_get_alone():
    # ``request.method == "GET"`` is False for HEAD, whose response cache_page stores too.
    assert accesses("""\
        def view(request):
            if request.method in ("GET", "HEAD"):
                a = request.user
            else:
                b = request.session
            if request.method == "GET":
                c = request.user
            else:
                d = request.session
            if request.method != "POST":
                e = request.user
            else:
                f = request.session
    """) == [
        ("request.user", 3, False),
        ("request.session", 5, True),
        ("request.user", 7, False),
        ("request.session", 9, False),
        ("request.user", 11, False),
        ("request.session", 13, True),
    ]


def test_a_guard_without_else_marks_nothing():
    """``if request.method != "POST": return ...`` has no else branch (it crashed once)."""
    assert accesses("""\
        def view(request):
            if request.method != "POST":
                return request.user.username
            request.session["x"] = 1
    """) == [("request.user", 3, False), ("request.session", 4, False)]


def test_a_conjunction_marks_only_its_body():
    assert accesses("""\
        def view(request):
            if request.method == "POST" and form.is_valid():
                a = request.user
            else:
                b = request.user
    """) == [("request.user", 3, True), ("request.user", 5, False)]


def test_self_request_method_in_a_class_view_and_super_calls():
    source = """\
        class Page(View):
            def get(self, request):
                if self.request.method == "POST":
                    a = self.request.user
                return super().get(request)
    """
    assert accesses(source, "get") == [("request.user", 4, True)]
    facts = parse_python(textwrap.dedent(source).encode(), "app/views.py", "app.views", False, False)
    method = facts.views.classes[0].methods[0]
    assert method.super_calls == ("get",)
    assert [(s.line, s.end_line) for s in method.unsafe_branches] == [(3, 5)]


# --- CL102 / CL108 ------------------------------------------------------------------------------

FUNCTION_VIEWS = """\
    from django.http import HttpResponse
    from django.shortcuts import render
    from django.views.decorators.cache import cache_page
    from django.views.decorators.http import require_POST, require_http_methods
    from app.helpers import remember


    @cache_page(60)
    def contact(request):
        if request.method == "POST":
            request.session["sent"] = True
            remember(request)
        return render(request, "contact.html")


    @cache_page(60)
    def greeting(request):
        if request.method == "POST":
            return HttpResponse("thanks")
        return HttpResponse(request.user.username)


    @cache_page(60)
    @require_POST
    def vote(request):
        return HttpResponse(request.user.username)


    @cache_page(60)
    @require_http_methods(["POST", "DELETE"])
    def remove(request):
        return HttpResponse(request.session["cart"])
"""
HELPERS = """\
    def remember(request):
        request.session["seen"] = True
"""


def test_cl102_ignores_reads_only_a_post_reaches_in_function_views(tmp_path):
    files = {"app/__init__.py": "", "app/views.py": FUNCTION_VIEWS, "app/helpers.py": HELPERS}
    files["templates/contact.html"] = "<h1>Contact</h1>"
    # greeting reads the user on GET; contact, vote and remove only on unsafe methods.
    assert scan(tmp_path, files, ["CL102"]) == [("app/views.py", 16, "CL102")]


CLASS_VIEWS = """\
    from django.utils.decorators import method_decorator
    from django.views.decorators.cache import cache_page
    from django.views.generic import FormView, TemplateView
    from rest_framework import viewsets


    @method_decorator(cache_page(60), name="dispatch")
    class Contact(FormView):
        template_name = "contact.html"

        def form_valid(self, form):
            form.send(self.request.user.email)
            return super().form_valid(form)

        def post(self, request, *args, **kwargs):
            request.session["posted"] = True
            return super().post(request, *args, **kwargs)


    @method_decorator(cache_page(60), name="dispatch")
    class Profile(TemplateView):
        template_name = "contact.html"

        def get_context_data(self, **kwargs):
            return {"me": self.request.user}


    @method_decorator(cache_page(60), name="list")
    class Articles(viewsets.ModelViewSet):
        def perform_create(self, serializer):
            serializer.save(author=self.request.user)
"""


def test_cl102_ignores_unsafe_handlers_of_class_views(tmp_path):
    files = {"app/__init__.py": "", "app/views.py": CLASS_VIEWS, "templates/contact.html": "<form></form>"}
    assert scan(tmp_path, files, ["CL102"]) == [("app/views.py", 20, "CL102")]


def test_cl108_ignores_a_template_only_a_post_renders(tmp_path):
    files = {
        "app/__init__.py": "",
        "app/views.py": """\
            from django.shortcuts import render
            from django.utils.decorators import method_decorator
            from django.views.decorators.cache import cache_page
            from django.views.generic import View


            @method_decorator(cache_page(60), name="dispatch")
            class Signup(View):
                def get(self, request):
                    return render(request, "landing.html")

                def post(self, request):
                    return render(request, "form.html")


            @method_decorator(cache_page(60), name="dispatch")
            class Newsletter(View):
                def get(self, request):
                    return render(request, "form.html")
        """,
        "templates/landing.html": "<h1>Welcome</h1>",
        "templates/form.html": "<form>{% csrf_token %}</form>",
    }
    assert scan(tmp_path, files, ["CL108"]) == [("app/views.py", 16, "CL108")]


# --- CL106 --------------------------------------------------------------------------------------


def test_cl106_skips_post_only_views(tmp_path):
    files = {
        "app/__init__.py": "",
        "app/views.py": """\
            from django.contrib.auth.decorators import login_required
            from django.contrib.auth.mixins import LoginRequiredMixin
            from django.shortcuts import render
            from django.views.decorators.http import require_POST
            from django.views.generic import View


            @login_required
            @require_POST
            def save(request):
                return render(request, "saved.html")


            class Upload(LoginRequiredMixin, View):
                def post(self, request):
                    return render(request, "saved.html")


            class Restricted(LoginRequiredMixin, View):
                http_method_names = ["post"]
                template_name = "saved.html"


            class Account(LoginRequiredMixin, View):
                def get(self, request):
                    return render(request, "saved.html")
        """,
        "templates/saved.html": "{{ user.email }}",
    }
    assert scan(tmp_path, files, ["CL106"]) == [("app/views.py", 24, "CL106")]
