from __future__ import annotations

import re
from collections.abc import Iterator

from cachelint.cache_calls import (
    OPAQUE_PARTS,
    STORE_METHODS,
    app_calls,
    dotted_names,
    has_string_literal,
    mask_strings,
    receiver,
    request_path,
)
from cachelint.finding import Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register

# Rendering a template to text: ``render_to_string(...)``, ``template.render(...)``,
# ``get_template(...).render(...)``, ``Template(...).render(...)``.
RENDERS = re.compile(
    r"(?<!\w)render_to_string\s*\("
    r"|(?<![\w])\w*(?:template|tpl)\w*\s*\.\s*render\s*\("
    r"|(?<![\w.])(?:get_template|select_template|Template)\s*\((?:[^()]|\([^()]*\))*\)\s*\.\s*render\s*\(",
    re.IGNORECASE,
)
_CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*$")


def renders_html(value_text: str) -> bool:
    return bool(RENDERS.search(mask_strings(value_text)))


def key_may_carry_language(key: object, key_text: str) -> bool:
    """True when the key mentions the language (``get_language()``, ``LANGUAGE_CODE``, ``lang``)
    or is built where it cannot be seen (a variable, a helper, the request path, which carries
    the language prefix under ``i18n_patterns``)."""
    if isinstance(key, str):
        return False
    masked = mask_strings(key_text)
    chains = [c.split(".") for c in dotted_names(masked)]
    if any("lang" in segment.lower() for segments in chains for segment in segments):
        return True
    if not has_string_literal(masked) and not all(_CONSTANT.match(c[-1]) for c in chains):
        return True
    for segments in chains:
        if request_path(segments) is not None:
            return True
        if any(set(s.lower().split("_")) & OPAQUE_PARTS for s in segments if not _CONSTANT.match(s)):
            return True
    return False


@register
class RenderedHtmlCachedWithoutLanguage(Rule):
    code = "CL607"
    slug = "rendered-html-cached-without-language"
    severity = Severity.WARNING
    summary = "Rendered HTML cached under a key without the language: one language for everyone"
    tags = ("correctness", "i18n")
    what_it_does = """
Flags `cache.set`, `cache.add` and `cache.get_or_set` whose value renders a template
(`render_to_string(...)`, `template.render(...)`, `get_template(...).render(...)`,
`Template(...).render(...)`) under a key that does not carry the language (`get_language()`,
`LANGUAGE_CODE`, a name containing `lang`), in a project where `USE_I18N` is on (Django's
default) and pages come in several languages: a template translates text, or `MIDDLEWARE` has
`LocaleMiddleware`. Keys built where they cannot be seen (a variable, a helper, the request
path) are not judged.
"""
    why_is_this_bad = """
The template is rendered in the language active for the first visitor; the cached HTML is then
served to every visitor in that language until it expires. Django varies per-view caching by
language on its own, but the low-level API stores exactly the key you give it.
"""
    bad_example = {
        "mysite/settings.py": """USE_I18N = True
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
]
""",
        "blog/views.py": """from django.core.cache import cache
from django.http import HttpResponse
from django.template.loader import render_to_string


def sidebar(request):
    html = cache.get_or_set(  # expect: CL607
        "blog:sidebar:v1",
        lambda: render_to_string("blog/sidebar.html"),
        300,
    )
    return HttpResponse(html)
""",
        "blog/templates/blog/sidebar.html": """{% load i18n %}<h2>{% translate "Latest posts" %}</h2>
""",
    }
    good_example = {
        "mysite/settings.py": """USE_I18N = True
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
]
""",
        "blog/views.py": """from django.core.cache import cache
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import get_language


def sidebar(request):
    html = cache.get_or_set(
        f"blog:sidebar:v1:{get_language()}",
        lambda: render_to_string("blog/sidebar.html"),
        300,
    )
    return HttpResponse(html)
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        evidence = project.language_varies
        if not evidence:
            return
        for facts, function in project.functions():
            if project.is_test_code(facts):
                continue
            owner = project.owner_of(facts, function)
            for call in app_calls(function):
                if call.method not in STORE_METHODS or call.value_text is None or call.key_text is None:
                    continue
                # ``html = render_to_string(...)`` ... ``cache.set(key, html)``: followed.
                if not renders_html(call.value_text) and "html" not in project.sources(
                    facts, function, call.value_labels, owner
                ):
                    continue
                literal = function.flow.literal(call.key_text)
                key = literal[0] if literal is not None and len(literal) == 1 else call.key
                if key_may_carry_language(key, call.key_text):
                    continue
                yield self.finding(
                    Location(facts.path, call.span),
                    f"`{receiver(call)}.{call.method}` caches rendered HTML under a key without the "
                    "language: it is served in the first visitor's language to everyone",
                    hint='add the language to the key: `f"...:{get_language()}"` (from '
                    "`django.utils.translation`)",
                    related=evidence,
                )
