"""Django REST framework views as DRF runs them: which renderers and authentication classes a
view ends up with (its own attribute or decorator, else ``REST_FRAMEWORK``, else DRF's default).

A value cachelint cannot read (a computed list, a settings module it cannot evaluate, an
overridden ``get_renderers``) is unknown, and the answer is None: rules do not guess.
"""

from __future__ import annotations

from dataclasses import dataclass

from cachelint import django_api as api
from cachelint.facts.python import PythonFacts
from cachelint.facts.views import Call, ClassFacts, FunctionFacts
from cachelint.finding import Evidence, Location
from cachelint.project.settings import SettingsModule, location_in_dict
from cachelint.project.views import CACHE_PAGE, DRF_DISPATCH, View, Wrapper


@dataclass(frozen=True)
class DrfClasses:
    """The renderer or authentication classes a DRF view uses, and where that is decided."""

    names: tuple[str, ...]  # qualified class names, as written (settings hold dotted strings)
    evidence: Evidence
    default: bool = False  # DRF's own default, nobody set it


@dataclass(frozen=True)
class _Kind:
    attribute: str  # renderer_classes
    decorators: frozenset[str]  # @renderer_classes(...)
    override: str  # get_renderers: a view that overrides it chooses for itself
    setting: str  # DEFAULT_RENDERER_CLASSES
    default: tuple[str, ...]
    what: str  # "renderers"


RENDERERS = _Kind(
    "renderer_classes",
    api.DRF_RENDERER_CLASSES_DECORATOR,
    "get_renderers",
    "DEFAULT_RENDERER_CLASSES",
    api.DRF_DEFAULT_RENDERERS,
    "renderers",
)
AUTHENTICATION = _Kind(
    "authentication_classes",
    api.DRF_AUTHENTICATION_CLASSES_DECORATOR,
    "get_authenticators",
    "DEFAULT_AUTHENTICATION_CLASSES",
    api.DRF_DEFAULT_AUTHENTICATION,
    "authentication classes",
)


class DrfQueries:
    """Renderers and authentication of DRF views (``@api_view`` functions, ``APIView`` classes)."""

    def drf_layer(self, view: View) -> Wrapper | None:
        """DRF's dispatch around the view's handler, or None when the view is not a DRF view."""
        return next(iter(view.wrappers(DRF_DISPATCH)), None)

    def drf_classes(self, view: View, kind: _Kind) -> list[DrfClasses] | None:
        """What the view uses, one entry per settings module that may run it (they can differ);
        None when unknown or when the view is not a DRF view."""
        layer = self.drf_layer(view)
        target = self._definitions.get(view.name)
        if layer is None or target is None:
            return None
        facts, item = target
        if isinstance(item, FunctionFacts):
            own = self._drf_decorated(facts.path, item, kind)
        else:
            own = self._drf_attribute(facts, item, kind)
        if own is not None:
            return None if own is False else [own]
        return self._drf_settings(kind, layer.location)

    def _drf_decorated(self, path: str, function: FunctionFacts, kind: _Kind) -> DrfClasses | bool | None:
        """``@renderer_classes([...])`` on an ``@api_view`` function: the classes, False when not
        readable, None when absent."""
        call = next((c for c in function.decorators if c.name in kind.decorators), None)
        if call is None:
            return None
        names = _listed(call)
        if names is None:
            return False
        return DrfClasses(
            names, Evidence(Location(path, call.span), f"`{call.text}` sets the {kind.what} here")
        )

    def _drf_attribute(self, facts: PythonFacts, cls: ClassFacts, kind: _Kind) -> DrfClasses | bool | None:
        """``renderer_classes = [...]`` on the class or a project base: the classes, False when
        not readable (or chosen per action or by an overridden method), None when absent."""
        for _, owner in self._class_chain(facts, cls):
            if owner.method(kind.override) is not None:
                return False
            for method in owner.methods:
                if any(c.name in api.DRF_ACTION and c.kwarg_text(kind.attribute) for c in method.decorators):
                    return False  # ``@action(renderer_classes=...)``: per action, not followed
        found = self._class_attribute(facts, cls, kind.attribute)
        if found is None:
            return None
        path, attr = found
        if attr.names:
            names: tuple[str, ...] | None = tuple(attr.names)
        elif isinstance(attr.value, list | tuple) and not attr.value:
            names = ()
        else:
            return False
        return DrfClasses(
            names, Evidence(Location(path, attr.span), f"`{kind.attribute}` sets the {kind.what} here")
        )

    def _drf_settings(self, kind: _Kind, where: Location) -> list[DrfClasses] | None:
        """``REST_FRAMEWORK[setting]`` in each settings module that may run, or DRF's default."""
        modules = _running_settings(self.settings_modules)
        if not modules:
            return None  # no settings seen: nothing is known about the defaults
        short = ", ".join(f"`{n.rsplit('.', 1)[-1]}`" for n in kind.default)
        found = []
        for module in modules:
            location = module.location_of("REST_FRAMEWORK")
            framework = module.value("REST_FRAMEWORK")
            if location is None:
                label = f"DRF's default {kind.what} apply ({short}): no `REST_FRAMEWORK` setting"
                found.append(DrfClasses(kind.default, Evidence(where, label), default=True))
                continue
            if not isinstance(framework, dict):
                return None
            if kind.setting not in framework:
                label = (
                    f"`REST_FRAMEWORK` sets no `{kind.setting}`: DRF's default {kind.what} apply ({short})"
                )
                found.append(DrfClasses(kind.default, Evidence(location, label), default=True))
                continue
            value = framework[kind.setting]
            if not isinstance(value, list | tuple):
                return None
            label = f"`{kind.setting}` sets the {kind.what} here"
            found.append(
                DrfClasses(tuple(value), Evidence(location_in_dict(framework, kind.setting, location), label))
            )
        return found

    def drf_renders(self, view: View) -> bool:
        """Whether DRF's renderers make the view's responses: not when its code builds Django
        responses (``render``, ``HttpResponse``, ``JsonResponse``) and never DRF's ``Response``
        (DRF passes those through, in one format)."""
        target = self._definitions.get(view.name)
        if target is None:
            return True
        facts, item = target
        if isinstance(item, FunctionFacts):
            functions = [item]
        else:
            functions = [m for _, owner in self._class_chain(facts, item) for m in owner.methods]
        called = {name for function in functions for name, _ in function.calls}
        if called & api.DRF_RESPONSE:
            return True
        return not called & (api.RESPONSE_CLASSES | set(api.TEMPLATE_RENDERERS))

    def drf_class_modules(self) -> set[str]:
        """Modules of the renderer and authentication classes cached DRF views name: a project
        subclass (``CsrfExemptSessionAuthentication``) may live in a module nothing else parses."""
        modules = set()
        for view in self.views:
            if not view.layers(CACHE_PAGE) or self.drf_layer(view) is None:
                continue
            for kind in (RENDERERS, AUTHENTICATION):
                for found in self.drf_classes(view, kind) or ():
                    modules.update(n.rpartition(".")[0] for n in found.names if isinstance(n, str))
        return modules

    def drf_is_a(self, name: object, wanted: frozenset[str]) -> bool:
        """``name`` is one of ``wanted`` or a project subclass of one."""
        if not isinstance(name, str):
            return False
        return name in wanted or any(base in wanted for base in self.class_bases(name) or ())

    def browsable_api_evidence(self, view: View) -> list[Evidence]:
        """Why a DRF view's browsable API page is personal: it renders with
        ``BrowsableAPIRenderer`` (it prints the logged-in user and a CSRF token) and
        ``SessionAuthentication`` logs the browser's visitor in. [] when not shown for every
        settings module that may run, or unknown."""
        renderers = self.drf_classes(view, RENDERERS)
        authentication = self.drf_classes(view, AUTHENTICATION)
        if not renderers or not authentication or not self.drf_renders(view):
            return []
        browsable = [
            c for c in renderers if any(self.drf_is_a(n, api.DRF_BROWSABLE_RENDERERS) for n in c.names)
        ]
        session = [
            c
            for c in authentication
            if any(self.drf_is_a(n, api.DRF_SESSION_AUTHENTICATION) for n in c.names)
        ]
        if len(browsable) < len(renderers) or len(session) < len(authentication):
            return []
        return [browsable[0].evidence, session[0].evidence]

    def negotiated_renderers(self, view: View) -> list[Evidence]:
        """Where a DRF view gets more than one renderer (DRF then adds ``Vary: Accept``), for
        every settings module that may run it; [] when it has one, or it is unknown."""
        renderers = self.drf_classes(view, RENDERERS)
        if not renderers or any(len(c.names) < 2 for c in renderers) or not self.drf_renders(view):
            return []
        return [renderers[0].evidence]


def _listed(call: Call) -> tuple[str, ...] | None:
    """The classes a ``@renderer_classes([...])``-style decorator lists, None when not readable."""
    if call.names:
        return call.names
    if call.args and isinstance(call.args[0], list | tuple) and not call.args[0]:
        return ()
    return None


def _running_settings(modules: list[SettingsModule]) -> list[SettingsModule]:
    """The settings modules a deployment may run: production leaves when the project has some,
    else every leaf (a base module star-imported by others never runs on its own)."""
    leaves = [m for m in modules if m.is_leaf]
    production = [m for m in leaves if m.production]
    return production or leaves
