"""Template chains: what rendering a template outputs through extends and includes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from cachelint import django_api as api
from cachelint.facts.labels import VISITOR_LABELS
from cachelint.facts.templates import TemplateFacts, TemplateUse
from cachelint.facts.values import LocList
from cachelint.facts.views import FunctionFacts
from cachelint.finding import Evidence, Location
from cachelint.project.flow import describe
from cachelint.project.views import PERSONAL_KINDS, View


@dataclass(frozen=True)
class RenderedUse:
    """A personal use in a rendered template, with its kind and the extends/include path to it."""

    use: TemplateUse
    kind: str
    location: Location
    via: tuple[Evidence, ...]


class TemplateQueries:
    """What templates print, where personal values come from, and whether pages vary by language."""

    # --- templates ---------------------------------------------------------------------------

    def use_kind(self, use: TemplateUse) -> str:
        """The personal kind of a template variable: from its name, or "context" when a
        context processor that reads the user or session provides it."""
        if use.kind:
            return use.kind
        return "context" if use.root in self.context_personal_names else ""

    @cached_property
    def context_personal_names(self) -> dict[str, Evidence]:
        """Variables that the project's own context processors derive from the visitor, key by
        key: a processor that reads ``request.user`` for its ``theme`` key does not make its
        ``site`` key personal."""
        names: dict[str, Evidence] = {}
        for dotted in self.context_processors:
            target = self._definitions.get(dotted)
            if target is None or not isinstance(target[1], FunctionFacts):
                continue
            facts, function = target
            for key, labels in function.flow.returned_keys:
                sources = self.sources(facts, function, labels)
                label = next((label for label in sorted(sources) if label in VISITOR_LABELS), None)
                if label is not None and key not in names:
                    read = sources[label][-1]
                    names[key] = Evidence(
                        read.location, f"context processor `{function.name}` reads `{describe(label)}` here"
                    )
        return names

    @cached_property
    def context_processors(self) -> list[str]:
        """Dotted paths listed in ``TEMPLATES[*]["OPTIONS"]["context_processors"]``."""
        found: list[str] = []
        for module in self.settings_modules:
            templates = module.value("TEMPLATES")
            for engine in templates if isinstance(templates, list | tuple) else ():
                options = engine.get("OPTIONS") if isinstance(engine, dict) else None
                processors = options.get("context_processors") if isinstance(options, dict) else None
                for processor in processors if isinstance(processors, list | tuple) else ():
                    if isinstance(processor, str) and processor not in found:
                        found.append(processor)
        return found

    @cached_property
    def _rendered_memo(self) -> dict[str, list[RenderedUse]]:
        return {}  # rendered_uses by template name: rules ask for the same templates again and again

    def rendered_uses(self, name: str) -> list[RenderedUse]:
        """Personal uses that rendering template ``name`` outputs, through extends and includes.

        Each template reached is expanded once, on the first path that reaches it (its uses
        carry that path as evidence): expanding every path is exponential in the include depth.
        """
        if name not in self._rendered_memo:
            self._rendered_memo[name] = out = []
            self._rendered(name, (), set(), 0, out)
        return self._rendered_memo[name]

    def _rendered(
        self, name: str, via: tuple[Evidence, ...], seen: set[str], depth: int, out: list[RenderedUse]
    ) -> None:
        # ``seen`` also cuts include cycles; ``depth`` bounds the recursion (Python's stack).
        if name in seen or depth > 20:
            return
        seen.add(name)
        chain: list[TemplateFacts] = []
        current = self.template(name)
        links: list[tuple[Evidence, ...]] = []
        path_so_far = via
        while current is not None and current.path not in {t.path for t in chain}:
            chain.append(current)
            links.append(path_so_far)
            if current.extends is None:
                break
            parent_name, span = current.extends
            path_so_far = (*path_so_far, Evidence(Location(current.path, span), f"extends `{parent_name}`"))
            current = self.template(parent_name)
        if not chain:
            return
        root_complete = chain[-1].extends is None
        for index, template in enumerate(chain):
            is_root = index == len(chain) - 1 and root_complete
            for use in template.uses:
                kind = self.use_kind(use)
                if kind and self._block_rendered(chain, index, use.block, is_root):
                    out.append(RenderedUse(use, kind, Location(template.path, use.span), links[index]))
            for include in template.includes:
                if include.name not in seen and self._block_rendered(chain, index, include.block, is_root):
                    step = Evidence(Location(template.path, include.span), f"includes `{include.name}`")
                    self._rendered(include.name, (*links[index], step), seen, depth + 1, out)

    @staticmethod
    def _block_rendered(chain: list[TemplateFacts], index: int, block: str | None, is_root: bool) -> bool:
        """Whether content of chain[index] inside ``block`` is output. Outside any block, only the
        root template's content is; a block's content shows unless a more-derived template
        replaces that block (or an enclosing one) without ``{{ block.super }}``."""
        if block is None:
            return is_root
        blocks = {b.name: b for b in chain[index].blocks}
        name: str | None = block
        while name is not None:
            for child in chain[:index]:
                override = next((b for b in child.blocks if b.name == name), None)
                if override is not None and not override.uses_super:
                    return False
            parent = blocks.get(name)
            name = parent.parent if parent else None
        return True

    def personal_evidence(self, view: View, kinds: frozenset[str] = PERSONAL_KINDS) -> list[Evidence]:
        """Why the view's output differs per visitor: its code, or what its templates print.

        ``kinds`` narrows what counts: "user", "session", "perms", "messages", "csrf_token".
        """
        if not view.serves_safe_methods():
            return []  # POST-only: cache_page never stores its responses
        # One line of code is enough to show it.
        evidence = next((list(chain) for kind, chain in view.accesses if kind in kinds), [])
        for name, location, overrides in view.templates:
            for rendered in self.rendered_uses(name):
                if rendered.use.root in overrides:
                    continue  # the view put its own value under that name
                if rendered.kind not in kinds:
                    continue
                via = (Evidence(location, f"renders `{name}`"), *rendered.via)
                label = f"template prints `{rendered.use.expression}` here"
                if rendered.kind == "csrf_token":
                    label = "template uses the CSRF token here"
                elif rendered.kind == "context":
                    label = f"template prints `{rendered.use.expression}` here"
                    via = (
                        *via,
                        Evidence(rendered.location, label),
                        self.context_personal_names[rendered.use.root],
                    )
                    evidence.extend(via)
                    break
                evidence.extend((*via, Evidence(rendered.location, label)))
                break  # one template line is enough evidence per template
        return evidence

    # --- languages ---------------------------------------------------------------------------

    @cached_property
    def language_varies(self) -> list[Evidence]:
        """Why one page can come out in several languages, or [] when it cannot be shown: i18n
        on (Django's default), ``LocaleMiddleware`` choosing each visitor's language, and a
        template that translates text. A project without LocaleMiddleware renders every page
        in LANGUAGE_CODE, so caching without the language is harmless there."""
        values = [m.value("USE_I18N") for m in self.settings_modules if m.value("USE_I18N") is not None]
        if values and all(v is False for v in values):
            return []
        locale = None
        for module in self.settings_modules:
            middleware = module.middleware()
            if isinstance(middleware, list | tuple) and api.LOCALE_MIDDLEWARE in middleware:
                located = (
                    middleware.location(middleware.index(api.LOCALE_MIDDLEWARE))
                    if isinstance(middleware, LocList)
                    else None
                )
                locale = located or module.location_of(module.middleware_setting)
                break
        if locale is None:
            return []
        evidence = [Evidence(locale, "`LocaleMiddleware` picks each visitor's language here")]
        for path, template in sorted(self.templates_by_path.items()):
            for tag, span in template.translation_tags[:1]:
                return [*evidence, Evidence(Location(path, span), f"template translates text (`{tag}`) here")]
        return []
