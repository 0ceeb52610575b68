"""A lean traversal of a libcst tree for read-only collectors.

libcst's ``CSTNode.visit`` is built for transformers: for every node it rebuilds the list of
children and checks whether any changed, which costs about four times the parse itself on
real trees. The collector only reads, so this walker reads each node's child fields directly,
skips the fields that hold only whitespace and punctuation, and dispatches to the same
``visit_<Node>``/``leave_<Node>`` (and ``visit_<Node>_<field>``) methods a CSTVisitor has.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import libcst as cst

# Fields that never hold anything but whitespace, comments and punctuation.
_SKIPPED_PREFIXES = (
    "whitespace",
    "lpar",
    "rpar",
    "comma",
    "semicolon",
    "leading_lines",
    "lines_after",
    "trailing_whitespace",
    "header",
    "footer",
    "indent",
    "dot",
    "colon",
    "lbrace",
    "rbrace",
    "lbracket",
    "rbracket",
    "operator",
    "asynchronous",
    "equal",
    "star",
    "newline",
)


class _Plan:
    """How to walk one node class for one visitor: its child fields and its hooks."""

    __slots__ = ("fields", "visit", "leave", "field_hooks")

    def __init__(self, cls: type, visitor: object) -> None:
        names = [f.name for f in dataclasses.fields(cls) if not f.name.startswith(_SKIPPED_PREFIXES)]
        if "decorators" in names:  # source order: decorators come before the def
            names.remove("decorators")
            names.insert(0, "decorators")
        self.fields = tuple(names)
        kind = cls.__name__
        self.visit: Callable[[Any], Any] | None = getattr(visitor, f"visit_{kind}", None)
        self.leave: Callable[[Any], Any] | None = getattr(visitor, f"leave_{kind}", None)
        self.field_hooks = {
            name: (
                getattr(visitor, f"visit_{kind}_{name}", None),
                getattr(visitor, f"leave_{kind}_{name}", None),
            )
            for name in names
            if hasattr(visitor, f"visit_{kind}_{name}") or hasattr(visitor, f"leave_{kind}_{name}")
        }


def walk(tree: cst.CSTNode, visitor: object) -> None:
    plans: dict[type, _Plan] = {}

    def visit(node: cst.CSTNode) -> None:
        plan = plans.get(type(node))
        if plan is None:
            plan = plans[type(node)] = _Plan(type(node), visitor)
        if plan.visit is None or plan.visit(node) is not False:
            for name in plan.fields:
                value = getattr(node, name)
                hooks = plan.field_hooks.get(name) if plan.field_hooks else None
                if hooks and hooks[0]:
                    hooks[0](node)
                if isinstance(value, cst.CSTNode):
                    visit(value)
                elif isinstance(value, tuple | list):
                    for item in value:
                        if isinstance(item, cst.CSTNode):
                            visit(item)
                if hooks and hooks[1]:
                    hooks[1](node)
        if plan.leave is not None:
            plan.leave(node)

    visit(tree)
