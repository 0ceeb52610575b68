from __future__ import annotations

from collections.abc import Iterator

from cachelint import django_api as api
from cachelint.facts.python import PythonFacts
from cachelint.facts.views import ClassFacts, FunctionFacts
from cachelint.finding import Evidence, Finding, Location, Severity, Span
from cachelint.project import NEVER_CACHE, ProjectModel, View
from cachelint.registry import Rule, register

# What a view calls to answer: a response class, a template renderer, DRF's Response.
RESPONSE_CALLS = frozenset({*api.RESPONSE_CLASSES, *api.TEMPLATE_RENDERERS, *api.DRF_RESPONSE})
# Handlers of a class-based view whose response a GET gets.
GET_HANDLERS = ("get", "head", "list", "retrieve")
# Cache-Control directives that keep shared caches from storing (or from reusing) a response.
UNCACHEABLE = ("no_store", "private", "no_cache")


def uncacheable(view: View) -> Evidence | None:
    """Where the view's response is marked so that no proxy shares it: ``never_cache`` (on the
    view, its class or in the URLconf), ``cache_control(no_store/private/no_cache=True)``,
    ``patch_cache_control``/``add_never_cache_headers`` in its code."""
    for wrapper in view.wrappers(NEVER_CACHE):
        return Evidence(wrapper.origin or wrapper.location, "`never_cache` here")
    for directives, location in view.cache_control():
        if any(directives.get(d) is True for d in UNCACHEABLE):
            return Evidence(location, "not shareable here")
    return None


def request_param(function: FunctionFacts, method: bool) -> bool:
    params = [p for p in function.params if p not in ("self", "cls")] if method else list(function.params)
    return bool(params) and params[0] in ("request", "req", "r")


def _inside(span: Span, block: Span) -> bool:
    start, end = (span.line, span.col), (span.end_line, span.end_col)
    return (block.line, block.col) <= start and end <= (block.end_line, block.end_col)


def post_only_api_view(function: FunctionFacts) -> bool:
    """``@api_view(["POST"])``: DRF answers GET with 405."""
    for call in function.decorators:
        if call.name in api.DRF_API_VIEW and call.args and isinstance(call.args[0], list | tuple):
            methods = {m.upper() for m in call.args[0] if isinstance(m, str)}
            return bool(methods) and not methods & {"GET", "HEAD"}
    return False


@register
class CsrfTokenViewCacheable(Rule):
    code = "CL112"
    slug = "csrf-token-view-cacheable"
    severity = Severity.ERROR
    summary = "A view returns the CSRF token in its body and nothing stops a proxy from caching it"
    tags = ("correctness", "security")
    security_severity = 5.3
    file_tokens = (b"get_token", b"never_cache")
    what_it_does = """
Flags a view (function, or the GET handler of a class-based view) whose response body carries a
CSRF token: it returns `get_token(request)`, a `JsonResponse`/`HttpResponse`/DRF `Response`
built from it (followed through locals and the project's helpers), or renders a template that
holds nothing but the token, while the response is not marked uncacheable: no `never_cache`
(on the view, on its class with `method_decorator`, or around it in the URLconf), no
`cache_control(no_store=True)`/`private=True`/`no_cache=True`, no `patch_cache_control` or
`add_never_cache_headers` in its code. Views that only answer POST are not flagged, nor a
token read only in an `if request.method == "POST":` branch. `ensure_csrf_cookie` alone sets
the cookie, not the body: it is not this rule's business.
"""
    why_is_this_bad = """
Single-page apps and mobile clients fetch their CSRF token from an endpoint like `/api/csrf/`.
The response has no `Cache-Control`, so a reverse proxy, a load balancer with caching or a CDN
may store it (heuristically, or because it caches every 200 on that path), and then serves one
visitor's token to everyone. The token no longer matches the visitor's own `csrftoken` cookie,
so their logins and form posts fail with "CSRF verification failed" until the entry expires.
"""
    bad_example = {
        "api/views.py": """from django.http import JsonResponse
from django.middleware.csrf import get_token


def csrf(request):  # expect: CL112
    return JsonResponse({"csrfToken": get_token(request)})
""",
    }
    good_example = {
        "api/views.py": """from django.http import JsonResponse
from django.middleware.csrf import get_token
from django.views.decorators.cache import never_cache


@never_cache
def csrf(request):
    return JsonResponse({"csrfToken": get_token(request)})
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        # A URLconf entry that wraps the view in ``never_cache`` protects it wherever it is defined.
        protected = {view.name for view in project.views if uncacheable(view) is not None}
        seen: set[str] = set()
        for view in project.views:
            if view.name in seen or view.name in protected:
                continue
            function_target = project.find_function(view.name)
            class_target = project.find_class(view.name)
            if function_target is not None:
                facts, function = function_target
                if view.location != Location(facts.path, function.span):
                    continue  # the definition's own entry, not a URLconf one
                seen.add(view.name)
                if not request_param(function, method=False) or post_only_api_view(function):
                    continue
                if not view.serves_safe_methods():
                    continue
                handlers = [(facts, function, None)]
            elif class_target is not None:
                facts, cls = class_target
                if view.location != Location(facts.path, cls.span):
                    continue
                seen.add(view.name)
                if not view.serves_safe_methods():
                    continue
                handlers = self._get_handlers(project, facts, cls)
            else:
                continue
            for handler_facts, handler, owner in handlers:
                evidence = self._token_in_body(project, view, handler_facts, handler, owner)
                if evidence is None:
                    continue
                yield self.finding(
                    view.location,
                    "the response carries the CSRF token in its body but may be cached: a proxy, "
                    "load balancer or CDN that stores it serves one visitor's token to everyone, "
                    "and their logins and form posts fail",
                    hint="decorate the view with `@never_cache` (or "
                    "`@cache_control(no_store=True, private=True)`)",
                    related=evidence,
                )
                break

    @staticmethod
    def _get_handlers(
        project: ProjectModel, facts: PythonFacts, cls: ClassFacts
    ) -> list[tuple[PythonFacts, FunctionFacts, tuple[PythonFacts, ClassFacts]]]:
        """The GET handler the MRO resolves (and DRF's list/retrieve)."""
        found = []
        entries = project.mro_entries(facts, cls)
        for name in GET_HANDLERS:
            for entry in entries:
                if entry.cls is None or entry.facts is None:
                    continue
                method = entry.cls.method(name)
                if method is not None:
                    if request_param(method, method=True):
                        found.append((entry.facts, method, (facts, cls)))
                    break
        return found

    @staticmethod
    def _token_in_body(
        project: ProjectModel,
        view: View,
        facts: PythonFacts,
        function: FunctionFacts,
        owner: tuple[PythonFacts, ClassFacts] | None,
    ) -> list[Evidence] | None:
        sources = project.sources(facts, function, function.flow.returns, owner)
        chain = sources.get("csrf_token")
        if chain is not None:
            read = chain[-1].location
            if read.path == facts.path and any(
                _inside(read.span, branch) for branch in function.unsafe_branches
            ):
                return None  # only a POST gets there
            calls = {name for name, _ in function.calls}
            if owner is None and not calls & RESPONSE_CALLS and not function.decorators:
                return None  # a helper returning the token, not a view
            return [*chain[:-1], Evidence(chain[-1].location, "reads the CSRF token (`get_token`) here")]
        for name, location, _ in view.templates:
            template = project.template(name)
            if template is not None and template.only_csrf_token:
                return [Evidence(location, f"renders `{name}`, which holds only the CSRF token")]
        return None
