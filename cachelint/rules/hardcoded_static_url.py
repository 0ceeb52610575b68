from __future__ import annotations

import re
from collections.abc import Iterator

from cachelint.config import Config
from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register

DEFAULT_STATIC_URL = "/static/"


_URL = re.compile(r"`(.*?)` is written by hand")  # the URL a finding says is there
_SUGGESTION = re.compile(r'`\{% static "([^"]+)" %\}`')
_LOADS_STATIC = re.compile(r"\{%\s*load\s[^%]*\bstatic\b[^%]*%\}")
_EXTENDS = re.compile(r"\{%\s*extends\s[^%]*%\}")


def static_prefixes(project: ProjectModel) -> dict[str, Location | None]:
    """The URL paths static files are served under, with where the setting is written.

    A literal ``STATIC_URL`` path from any settings module (``"static/"`` is served under
    ``"/static/"``); ``"/static/"`` when no settings module sets it. A full URL (a CDN) or a
    value that cannot be evaluated gives nothing.
    """
    prefixes: dict[str, Location | None] = {}
    if project.config.static_url:  # configured: it wins over the settings
        return {"/" + project.config.static_url.strip("/") + "/": None}
    defined = False
    for module in project.settings_modules:
        value = module.value("STATIC_URL")
        if value is None:
            continue
        defined = True
        if not isinstance(value, str) or "://" in value or value.startswith("//"):
            continue
        path = "/" + value.strip("/") + "/"
        if path != "//":
            prefixes.setdefault(path, module.location_of("STATIC_URL"))
    if not defined:
        prefixes[DEFAULT_STATIC_URL] = None
    return prefixes


@register
class HardcodedStaticUrl(Rule):
    code = "CL504"
    fixable = True
    slug = "hardcoded-static-url"
    severity = Severity.WARNING
    summary = "Static file URL written by hand instead of `{% static %}` bypasses the hashed name"
    tags = ("performance", "correctness")
    what_it_does = """
Flags an `href` or `src` attribute in a template whose literal value starts with the
`STATIC_URL` path (`/static/` by default, or the literal path set in settings), such as
`<link href="/static/css/app.css">`, instead of `{% static "css/app.css" %}`. Full URLs
(`https://...`) and other paths (`/media/...`) are not flagged, nor is anything when
`STATIC_URL` is a full URL or cannot be evaluated.
"""
    why_is_this_bad = """
`{% static %}` asks the storage for the file's URL: with a hashing storage
(`ManifestStaticFilesStorage`) that is `app.3f2a9c.css`, a name that changes with the content
and can be cached for a year. A hand-written `/static/css/app.css` bypasses it: the unhashed
file must be served with a short cache lifetime, or browsers and CDNs keep the old file after a
deploy. It also breaks when `STATIC_URL` moves to a CDN.
"""
    bad_example = {
        "templates/base.html": """{% load static %}
<!doctype html>
<html>
<head>
  <link rel="stylesheet" href="/static/css/app.css">  {# expect: CL504 #}
  <script src="{% static 'js/app.js' %}" defer></script>
</head>
<body>{% block content %}{% endblock %}</body>
</html>
""",
    }
    good_example = {
        "templates/base.html": """{% load static %}
<!doctype html>
<html>
<head>
  <link rel="stylesheet" href="{% static 'css/app.css' %}">
  <script src="{% static 'js/app.js' %}" defer></script>
  <link rel="preconnect" href="https://fonts.example.com">
</head>
<body>
  <img src="/media/avatars/default.png" alt="">
  {% block content %}{% endblock %}
</body>
</html>
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        prefixes: dict[str, Location | None] | None = None
        for path, template in sorted(project.templates_by_path.items()):
            if not template.literal_urls:
                continue
            if prefixes is None:
                prefixes = static_prefixes(project)
            for url, span in template.literal_urls:
                prefix = next((p for p in prefixes if url.startswith(p)), None)
                if prefix is None:
                    continue
                name = url[len(prefix) :]
                setting = prefixes[prefix]
                # A URL cut short by a template variable (``/static/js/{{ bundle }}``) names a folder.
                suggestion = f'{{% static "{name}" %}}' if name and not name.endswith("/") else "{% static %}"
                yield self.finding(
                    Location(path, span),
                    f"`{url}` is written by hand instead of `{suggestion}`: the hashed file name is "
                    "bypassed, so the file is stale after a deploy or cannot be cached long",
                    hint=f"`{{% load static %}}` once, then `{suggestion}`",
                    related=[Evidence(setting, "`STATIC_URL` is set here")] if setting else [],
                )

    def fix(self, text: str, findings: list[Finding], config: Config) -> str:
        """``/static/css/app.css`` -> ``{% static 'css/app.css' %}``, adding ``{% load static %}``."""
        from cachelint.finding import line_starts
        from cachelint.fixing import FixRefused, newline_of

        starts = line_starts(text)  # the line table the template's positions come from
        edits = []
        for finding in findings:
            match = _SUGGESTION.search(finding.message)
            if match is None:
                raise FixRefused("the URL names a folder, not a file")
            span = finding.location.span
            expected = _URL.match(finding.message)
            url = expected.group(1) if expected else ""
            begin = starts[span.line - 1] + span.col - 1 if span.line <= len(starts) else len(text)
            end = starts[span.end_line - 1] + span.end_col - 1 if span.end_line <= len(starts) else len(text)
            if not url or text[begin:end] != url:  # never replace text the finding does not name
                raise FixRefused(f"`{url}` is not at line {span.line}, column {span.col} any more")
            quote = text[begin - 1 : begin]
            inner = "'" if quote == '"' else '"'
            name, query = re.match(r"([^?#]*)(.*)", match.group(1)).groups()
            edits.append((begin, end, f"{{% static {inner}{name}{inner} %}}{query}", url))
        for begin, end, replacement, _ in sorted(edits, reverse=True):
            text = text[:begin] + replacement + text[end:]
        if not _LOADS_STATIC.search(text):
            extends = _EXTENDS.search(text)
            at = extends.end() if extends else 0
            newline = newline_of(text)
            load = f"{newline}{{% load static %}}" if extends else f"{{% load static %}}{newline}"
            text = text[:at] + load + text[at:]
        return text
