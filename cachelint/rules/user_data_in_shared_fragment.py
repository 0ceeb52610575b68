from __future__ import annotations

from collections.abc import Iterator

from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register

USER_DATA = frozenset({"user", "session", "perms", "messages", "context"})


@register
class UserDataInSharedFragment(Rule):
    code = "CL202"
    slug = "user-data-in-shared-fragment"
    severity = Severity.ERROR
    summary = "`{% cache %}` fragment prints user data but is not varied by user"
    tags = ("security", "privacy")
    security_severity = 6.5
    cwe = (524,)
    what_it_does = """
Flags a `{% cache %}` block that prints user or session data (`user.*`, `request.user.*`,
`request.session.*`, `perms`, `messages`, or a variable a project context processor derives
from the user), directly or through a literal `{% include %}`, while none of its vary-on
arguments identifies the user (`user`, `user.pk`/`id`/`username`, `request.user.*` with those,
`request.session.session_key`, or a `{% with %}` name bound to one of them). Varying on
`user.is_authenticated` does not identify anyone.
"""
    why_is_this_bad = """
The fragment's cache key is its name plus the vary-on values. Without the user among them, the
first visitor's rendering ("Signed in as alice", alice's cart count) is stored once and shown to
every other visitor until it expires.
"""
    bad_example = {
        "templates/header.html": """{% load cache %}
{% cache 600 header_v1 %}  {# expect: CL202 #}
  <span>Signed in as {{ request.user.username }}</span>
{% endcache %}
""",
    }
    good_example = {
        "templates/header.html": """{% load cache %}
{% cache 600 header_v1 request.user.pk %}
  <span>Signed in as {{ request.user.username }}</span>
{% endcache %}
{% for user in authors %}{% cache 600 author_v1 user.pk %}{{ user.name }}{% endcache %}{% endfor %}
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for path, template in project.templates_by_path.items():
            for index, block in enumerate(template.caches):
                if block.varies_by_user:
                    continue
                evidence = _first_user_data(project, template, index)
                if evidence is None:
                    continue
                yield self.finding(
                    Location(path, block.span),
                    f"fragment `{block.fragment}` prints user data but is not varied by user: the "
                    "first visitor's rendering is served to everyone",
                    hint="add the user to the vary-on arguments, e.g. "
                    f"`{{% cache {block.timeout} {block.fragment} request.user.pk %}}`, or move "
                    "the personal part out of the cached block",
                    related=evidence,
                )


def _first_user_data(project: ProjectModel, template, index: int) -> list[Evidence] | None:
    for use in template.uses:
        kind = project.use_kind(use)
        if use.cache == index and kind in USER_DATA:
            location = Location(template.path, use.span)
            evidence = [Evidence(location, f"prints `{use.expression}` here")]
            if kind == "context":
                evidence.append(project.context_personal_names[use.root])
            return evidence
    for include in template.includes:
        if include.cache != index:
            continue
        for rendered in project.rendered_uses(include.name):
            if rendered.kind in USER_DATA:
                step = Evidence(Location(template.path, include.span), f"includes `{include.name}`")
                return [
                    step,
                    *rendered.via,
                    Evidence(rendered.location, f"prints `{rendered.use.expression}` here"),
                ]
    return None
