"""Qualified names without scope analysis: a module's own import table is enough.

``from django.views.decorators.cache import cache_page as cp`` binds ``cp`` to
``django.views.decorators.cache.cache_page``; ``from django.views.decorators import cache``
makes ``cache.cache_page`` resolve to the same name.
"""

from __future__ import annotations

import libcst as cst

from cachelint.facts.python import absolute_module


def dotted_name(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for Name/Attribute chains, else None."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def module_of(node: cst.BaseExpression | None) -> str:
    """The dotted text of an ``import``'s module expression (``None`` for ``from . import x``)."""
    if node is None:
        return ""
    return dotted_name(node) or ""


class ImportTable:
    """Local name -> qualified name, filled while the module is traversed."""

    def __init__(self, module_name: str, is_package: bool) -> None:
        self.module_name = module_name
        self.is_package = is_package
        self.bindings: dict[str, str] = {}
        self.star_imports: list[str] = []

    def add_import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = module_of(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.bindings[alias.asname.name.value] = full
            else:
                head = full.split(".", 1)[0]
                self.bindings[head] = head

    def add_import_from(self, node: cst.ImportFrom) -> None:
        module = absolute_module(
            module_of(node.module), len(node.relative), self.module_name, self.is_package
        )
        if isinstance(node.names, cst.ImportStar):
            self.star_imports.append(module)
            return
        for alias in node.names:
            name = module_of(alias.name)
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.bindings[local] = f"{module}.{name}" if module else name

    def bind_local(self, name: str) -> None:
        """A def/class at module level: its qualified name is inside this module."""
        self.bindings[name] = f"{self.module_name}.{name}"

    def resolve(self, dotted: str | None) -> str | None:
        if not dotted:
            return None
        head, _, rest = dotted.partition(".")
        target = self.bindings.get(head)
        if target is None:
            return dotted
        return f"{target}.{rest}" if rest else target
