from __future__ import annotations

from collections.abc import Iterator

from cachelint import django_api as api
from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import AUTH, ProjectModel, View
from cachelint.registry import Rule, register
from cachelint.rules.csrf_token_view_cacheable import _inside, post_only_api_view, request_param, uncacheable

KINDS = frozenset({"csrf_token", "messages"})
# Django's views whose ``dispatch`` applies ``never_cache`` (or ``login_required``) itself.
PROTECTED_FRAMEWORK_VIEWS = frozenset(
    {
        "django.contrib.auth.views.LoginView",
        "django.contrib.auth.views.LogoutView",
        "django.contrib.auth.views.PasswordResetConfirmView",
        "django.contrib.auth.views.PasswordChangeView",
        "django.contrib.auth.views.PasswordChangeDoneView",
    }
)


@register
class CdnCachesAnonymousPages(Rule):
    code = "CL113"
    slug = "cdn-caches-anonymous-pages"
    severity = Severity.ERROR
    default_enabled = False
    enabled_by = "cdn"
    summary = "Behind a CDN: an anonymous page renders a CSRF token, messages or sets a cookie"
    tags = ("correctness", "security")
    security_severity = 5.3
    # Every page matters here, not only cached ones: views, and URLconfs that wrap them.
    file_tokens = (
        b"render",
        b"template_name",
        b"set_cookie",
        b"get_token",
        b"get_messages",
        b"urlpatterns",
        b"login_required",
        b"never_cache",
    )
    what_it_does = """
For projects whose anonymous HTML a CDN or caching proxy stores (say so with `cdn = true` in
`[tool.cachelint]`, which turns this rule on), flags a view that answers GET, is not
login-protected, and whose response differs per visitor: its templates (through extends and
includes) render `{% csrf_token %}` or `messages`, or it sets a cookie
(`response.set_cookie`), without `never_cache`,
`cache_control(private=True)`/`no_store=True`/`no_cache=True` (on the view, its class or in the
URLconf). Output inside `{% if user.is_authenticated %}` does not count: anonymous visitors
never get it. Django's `LoginView`, `LogoutView` and password views apply `never_cache` or
`login_required` themselves. A JSON endpoint returning the token is CL112's.
"""
    why_is_this_bad = """
A CDN configured to cache anonymous pages (Cloudflare "cache everything", Fastly, a Varnish or
nginx `proxy_cache` in front of the app) keys the page on its URL and usually ignores
`Vary: Cookie`. The first visitor's rendered CSRF token, flash message ("Welcome back, Ana")
or `Set-Cookie` header is stored with the page and served to every later visitor: their form
posts fail CSRF verification, they see someone else's message, or they are given someone
else's cookie.
"""
    bad_example = {
        "pages/views.py": """from django.shortcuts import render


def contact(request):  # expect: CL113
    return render(request, "pages/contact.html")
""",
        "pages/templates/pages/contact.html": """<form method="post">{% csrf_token %}
  <input name="email"><button>Send</button>
</form>
""",
    }
    good_example = {
        "pages/views.py": """from django.shortcuts import render
from django.views.decorators.cache import never_cache


@never_cache
def contact(request):
    return render(request, "pages/contact.html")
""",
        "pages/templates/pages/contact.html": """<form method="post">{% csrf_token %}
  <input name="email"><button>Send</button>
</form>
""",
    }

    def wanted_modules(self, project: ProjectModel) -> set[str]:
        """Skipped modules that import a project view class: a subclass there is a page too,
        and may render what its base's template holds."""
        views = {
            f"{facts.module}.{cls.name}"
            for facts in project.python.values()
            for cls in facts.views.classes
            if api.DJANGO_VIEW in project.linearization(f"{facts.module}.{cls.name}")
        }
        return project.modules_importing(views)

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        # Project views by name: a URLconf entry's login_required or never_cache covers the
        # view wherever it is defined (third-party views are judged entry by entry).
        covered = {
            view.name
            for view in project.views
            if (view.wrappers(AUTH) or uncacheable(view) is not None) and self._defined(project, view)
        }
        helpers = {name for _, function in project.functions() for name, _ in function.calls}
        for view in project.views:
            if view.name in covered or view.wrappers(AUTH) or uncacheable(view) is not None:
                continue
            if self._defined(project, view) and not self._definition_entry(project, view):
                continue  # a URLconf entry of a project view: reported at the view itself
            if view.location.path.rpartition("/")[2] == "admin.py":
                continue  # ModelAdmin views: the admin site serves them to staff only
            function = project.find_function(view.name)
            if function is not None and (
                not request_param(function[1], method=False)
                or post_only_api_view(function[1])
                or view.name in helpers
            ):
                continue  # a helper the views call, or a DRF view that only answers POST
            if project.find_class(view.name) is not None and api.DJANGO_VIEW not in project.linearization(
                view.name
            ):
                continue  # not a view class (a form, a ModelAdmin)
            if not view.serves_safe_methods() or PROTECTED_FRAMEWORK_VIEWS & set(
                project.linearization(view.name)
            ):
                continue
            evidence = self._evidence(project, view)
            if not evidence:
                continue
            yield self.finding(
                view.location,
                "a page anonymous visitors get renders per-visitor output (a CSRF token, messages or "
                "a cookie) and is not marked private: a CDN that caches anonymous pages serves the "
                "first visitor's to everyone",
                hint="mark the view `@never_cache` (or `cache_control(private=True)`), or load the "
                "per-visitor parts with JavaScript from a `never_cache` endpoint",
                related=evidence,
            )

    @staticmethod
    def _definition_entry(project: ProjectModel, view: View) -> bool:
        target = project.find_function(view.name) or project.find_class(view.name)
        return target is not None and view.location == Location(target[0].path, target[1].span)

    @staticmethod
    def _defined(project: ProjectModel, view: View) -> bool:
        return project.find_function(view.name) is not None or project.find_class(view.name) is not None

    @staticmethod
    def _evidence(project: ProjectModel, view: View) -> list[Evidence]:
        function = project.find_function(view.name)
        unsafe = function[1].unsafe_branches if function is not None else ()
        for name, location, overrides in view.templates:
            if location.path == (function[0].path if function else "") and any(
                _inside(location.span, branch) for branch in unsafe
            ):
                continue  # rendered for a POST only
            for rendered in project.rendered_uses(name):
                if rendered.kind not in KINDS or rendered.use.authenticated_only:
                    continue
                if rendered.use.root in overrides:
                    continue
                label = (
                    "template uses the CSRF token here"
                    if rendered.kind == "csrf_token"
                    else f"template prints `{rendered.use.expression}` here"
                )
                return [Evidence(location, f"renders `{name}`"), *rendered.via, Evidence(rendered.location, label)]
        functions = [function] if function is not None else []
        target = project.find_class(view.name)
        if target is not None:
            functions = [
                (entry.facts, method)
                for entry in project.mro_entries(*target)
                if entry.cls is not None and entry.facts is not None
                for method in entry.cls.methods
                if method.name not in api.UNSAFE_HANDLERS
            ]
        for facts, method in functions:
            for span in method.cookie_writes:
                return [Evidence(Location(facts.path, span), "sets a cookie here")]
        return []
