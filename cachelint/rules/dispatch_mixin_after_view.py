from __future__ import annotations

from collections.abc import Iterator

from cachelint import django_api as api
from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.project.views import MroEntry
from cachelint.registry import Rule, register


@register
class DispatchMixinAfterView(Rule):
    code = "CL111"
    slug = "dispatch-mixin-after-view"
    severity = Severity.WARNING
    # Modules that use Django's auth mixins; project mixins wrapping dispatch and their users are
    # found on demand (see wanted_modules).
    file_tokens = (b"RequiredMixin", b"UserPassesTestMixin")
    summary = "A mixin that wraps `dispatch` comes after `View` in the bases, so it never runs"
    tags = ("security", "correctness")
    security_severity = 6.5
    cwe = (524,)
    what_it_does = """
Flags a class whose bases put a mixin that wraps `dispatch` (`LoginRequiredMixin`,
`PermissionRequiredMixin`, `UserPassesTestMixin`, django-braces' mixins, or a project class
with a `dispatch` method or `method_decorator(..., name="dispatch")`) after Django's `View`
or a view derived from it (`TemplateView`, `ListView`, DRF's `APIView`...).

The order is judged on the class's MRO, computed the way Python does (C3) across the project's
modules: `class Page(TemplateView, ProtectedBase)` is fine when `ProtectedBase` itself lists
`LoginRequiredMixin` before `View`, because the MRO then puts the mixin before `View`. Each
wrong order is reported once, at the class whose bases create it, not at every subclass.
"""
    why_is_this_bad = """
Python looks methods up along the MRO, and `View.dispatch` does not call `super().dispatch()`.
A mixin listed after the view class therefore never gets its `dispatch` called: the login
check of `class Account(View, LoginRequiredMixin)` never runs, so the page is open to everyone,
and a mixin that applies `never_cache` or `cache_page` to `dispatch` changes nothing. Nothing
fails loudly; the view simply works without the protection the code seems to declare.
"""
    bad_example = {
        "account/views.py": """from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView


class AccountPage(TemplateView, LoginRequiredMixin):  # expect: CL111
    template_name = "account/page.html"
""",
    }
    good_example = {
        "account/views.py": """from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView


class AccountPage(LoginRequiredMixin, TemplateView):
    template_name = "account/page.html"


class SetupPage(LoginRequiredMixin, TemplateView):
    template_name = "account/setup.html"

    def dispatch(self, request, *args, **kwargs):
        # Skips the login check on purpose (the first-run setup page): not an ordering mistake.
        return TemplateView.dispatch(self, request, *args, **kwargs)
""",
    }

    def wanted_modules(self, project: ProjectModel) -> set[str]:
        """Skipped modules a class listing two bases or more can reach through imports (a class
        with one base inherits its MRO's order: the wrong order is made where two bases are
        listed), that name ``dispatch`` or import a mixin known to wrap it. Each round parses
        what the last one made known, so a chain of mixins is followed one module at a time."""
        skipped = project.skipped
        reachable = {module for module, facts in skipped.items() if facts.multiple_bases}
        reachable.update(
            base.rpartition(".")[0]
            for facts in project.python.values()
            for cls in facts.views.classes
            if len(cls.bases) > 1
            for base in cls.bases
        )
        pending = [module for module in reachable if module in skipped]
        while pending:
            for name in skipped[pending.pop()].imported():
                for module in (name, name.rpartition(".")[0]):
                    if module in skipped and module not in reachable:
                        reachable.add(module)
                        pending.append(module)
        wrapping = project.dispatch_wrapping_classes()
        # A class inheriting a wrapping mixin carries it to the classes that list it as a base.
        carriers = {
            f"{facts.module}.{cls.name}"
            for facts in project.python.values()
            for cls in facts.views.classes
            if any(f"{owner_facts.module}.{owner.name}" in wrapping for owner_facts, owner in project._class_chain(facts, cls))
        }
        users = project.modules_importing(wrapping | carriers | project.protecting_names())
        return {
            module
            for module in reachable
            if module in skipped and (skipped[module].names_dispatch or module in users)
        }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for facts in project.python.values():
            for cls in facts.views.classes:
                chain = project.dispatch_chain(facts, cls)
                if not chain.dead or chain.terminal is None:
                    continue
                if project.find_class(chain.terminal) is not None:
                    # A project ``dispatch`` that skips the mixins on purpose
                    # (``return TemplateView.dispatch(self, ...)``): not a base-order mistake.
                    continue
                # Reported where the order is made: not again in a subclass of a wrong class.
                inherited = {
                    entry.name
                    for base in cls.bases
                    if (target := project.find_class(base)) is not None
                    for entry in project.dispatch_chain(*target).dead
                }
                terminal = chain.terminal.rsplit(".", 1)[-1]
                carrier = next(
                    (b for b in cls.bases if chain.terminal in project.linearization(b)), chain.terminal
                )
                carrier_short = carrier.rsplit(".", 1)[-1]
                for entry in chain.dead:
                    if entry.name in inherited:
                        continue
                    mixin = entry.name.rsplit(".", 1)[-1]
                    what = "its login check" if entry.name in api.AUTH_MIXINS else "its `dispatch`"
                    yield self.finding(
                        Location(facts.path, cls.span),
                        f"`{mixin}` comes after `{carrier_short}` in the MRO of `{cls.name}`: "
                        f"`{terminal}.dispatch` does not call it, so {what} never runs",
                        hint=f"list `{mixin}` before `{carrier_short}` in the bases (mixins first, "
                        "the view class last)",
                        related=_where(entry),
                    )


def _where(entry: MroEntry) -> list[Evidence]:
    if entry.cls is None or entry.facts is None:
        return []
    method = entry.cls.method("dispatch")
    span = method.span if method is not None else entry.cls.span
    return [Evidence(Location(entry.facts.path, span), f"`{entry.cls.name}` wraps `dispatch` here")]
