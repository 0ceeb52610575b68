"""Template facts from ONE pass of Django's own ``DebugLexer`` per template.

Only the lexer is used (it needs no settings and runs no template code). The pass tracks the
block structure itself, so a ``{% cache %}`` with no ``{% endcache %}`` becomes a located
problem instead of an exception, and unknown third-party tags are simply tokens.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from django.template.base import DebugLexer, TokenType

from cachelint.finding import Span

# What a template can print that differs per visitor, by the root of the variable.
PERSONAL_ROOTS = {"user": "user", "perms": "perms", "messages": "messages", "csrf_token": "csrf_token"}
REQUEST_PERSONAL = {"user": "user", "session": "session"}

# Tags whose arguments are not expressions printed into the output.
NON_PRINTING_TAGS = frozenset(
    {"load", "block", "endblock", "extends", "cache", "endcache", "comment", "endcomment", "verbatim"}
)
# Tags that open a region closed by ``end<tag>``, tracked for structure and variable scoping.
PAIRED = frozenset({"block", "cache", "for", "with", "blocktrans", "blocktranslate", "spaceless"})

_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")
_FILTER = re.compile(r"\|\s*\w+")
_NAME = re.compile(r"(?<![\w.])[A-Za-z_]\w*(?:\.\w+)*")


@dataclass(frozen=True)
class TemplateUse:
    """The template prints something personal: ``{{ user.username }}``, ``{% csrf_token %}``."""

    expression: str  # "user.username", "request.session.cart", "csrf_token"
    kind: str  # "user" | "session" | "perms" | "messages" | "csrf_token"
    span: Span
    block: str | None  # innermost enclosing {% block %}
    cache: int | None  # index of the enclosing {% cache %} in TemplateFacts.caches


@dataclass(frozen=True)
class TemplateInclude:
    name: str
    span: Span
    block: str | None
    cache: int | None


@dataclass(frozen=True)
class CacheBlock:
    span: Span
    timeout: str
    fragment: str | None
    vary_on: tuple[str, ...]
    using: str | None
    block: str | None
    tags_inside: frozenset[str]


@dataclass(frozen=True)
class BlockDef:
    name: str
    span: Span
    parent: str | None  # enclosing block
    uses_super: bool


@dataclass(frozen=True)
class TemplateFacts:
    path: str
    extends: tuple[str, Span] | None = None
    includes: tuple[TemplateInclude, ...] = ()
    blocks: tuple[BlockDef, ...] = ()
    uses: tuple[TemplateUse, ...] = ()
    caches: tuple[CacheBlock, ...] = ()
    problems: tuple[tuple[str, Span], ...] = ()


def literal_name(token: str) -> str | None:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        return token[1:-1]
    return None


def personal_kind(expression: str) -> str | None:
    parts = expression.split(".")
    if parts[0] == "request" and len(parts) > 1:
        return REQUEST_PERSONAL.get(parts[1])
    return PERSONAL_ROOTS.get(parts[0])


def names_in(expression: str) -> list[str]:
    """Variable names in a tag argument or ``{{ }}`` expression, strings and filters removed."""
    stripped = _FILTER.sub(" ", _STRING.sub(" ", expression))
    return _NAME.findall(stripped)


@dataclass
class _Open:
    tag: str
    span: Span
    name: str | None = None  # block name
    cache: int | None = None
    binds: tuple[str, ...] = ()
    uses_super: bool = False
    tags_inside: set[str] | None = None


def parse_template(text: str, path: str) -> TemplateFacts:
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def span_of(position: tuple[int, int]) -> Span:
        start, end = position
        line = bisect.bisect_right(line_starts, start)
        end_line = bisect.bisect_right(line_starts, max(start, end - 1))
        return Span(line, start - line_starts[line - 1] + 1, end_line, end - line_starts[end_line - 1] + 1)

    stack: list[_Open] = []
    extends: tuple[str, Span] | None = None
    includes: list[TemplateInclude] = []
    blocks: list[BlockDef] = []
    uses: list[TemplateUse] = []
    caches: list[dict] = []
    problems: list[tuple[str, Span]] = []

    def current(tag: str) -> _Open | None:
        return next((o for o in reversed(stack) if o.tag == tag), None)

    def shadowed() -> set[str]:
        return {name for o in stack for name in o.binds}

    def note_uses(expression: str, span: Span) -> None:
        hidden = shadowed()
        block, cache = current("block"), current("cache")
        for name in names_in(expression):
            kind = personal_kind(name)
            if kind and name.split(".")[0] not in hidden:
                uses.append(TemplateUse(name, kind, span, block and block.name, cache and cache.cache))

    in_verbatim = False
    for token in DebugLexer(text).tokenize():
        if token.token_type == TokenType.VAR:
            if in_verbatim:
                continue
            if token.contents.strip().startswith("block.super"):
                block = current("block")
                if block is not None:
                    block.uses_super = True
            note_uses(token.contents, span_of(token.position))
            continue
        if token.token_type != TokenType.BLOCK:
            continue
        bits = token.split_contents()
        if not bits:
            continue
        tag, args = bits[0], bits[1:]
        span = span_of(token.position)
        if in_verbatim:
            in_verbatim = tag != "endverbatim"
            continue
        if tag == "verbatim":
            in_verbatim = True
            continue
        for open_ in stack:
            if open_.tags_inside is not None and not tag.startswith("end"):
                open_.tags_inside.add(tag)
        if tag.startswith("end") and tag[3:] in PAIRED:
            opened = tag[3:]
            if stack and stack[-1].tag == opened:
                closing = stack.pop()
                if opened == "cache" and closing.cache is not None:
                    caches[closing.cache]["tags_inside"] = frozenset(closing.tags_inside or ())
                elif opened == "block":
                    block = current("block")
                    blocks.append(
                        BlockDef(closing.name or "", closing.span, block and block.name, closing.uses_super)
                    )
            else:
                expected = f"{{% end{stack[-1].tag} %}}" if stack else "nothing"
                problems.append((f"`{{% {tag} %}}` does not close anything open here (expected {expected})", span))
            continue
        if tag in ("trans", "translate") or tag in ("blocktrans", "blocktranslate"):
            note_uses(" ".join(args), span)
        if tag in PAIRED:
            open_ = _Open(tag, span)
            if tag == "block":
                open_.name = args[0] if args else ""
            elif tag == "for":
                if "in" in args:
                    position = args.index("in")
                    open_.binds = tuple(v.strip(",") for v in " ".join(args[:position]).replace(",", " ").split())
                    note_uses(" ".join(args[position + 1 :]), span)
            elif tag == "with":
                open_.binds = _with_bindings(args)
                note_uses(" ".join(args), span)
            elif tag == "cache":
                open_.cache = len(caches)
                open_.tags_inside = set()
                caches.append(_cache_args(args, span, current("block")))
            stack.append(open_)
            continue
        if tag == "extends" and args:
            name = literal_name(args[0])
            if name is not None:
                extends = (name, span)
        elif tag == "include" and args:
            name = literal_name(args[0])
            if name is not None:
                block, cache = current("block"), current("cache")
                includes.append(TemplateInclude(name, span, block and block.name, cache and cache.cache))
            note_uses(" ".join(args[1:]), span)
        elif tag == "csrf_token":
            block, cache = current("block"), current("cache")
            uses.append(TemplateUse("csrf_token", "csrf_token", span, block and block.name, cache and cache.cache))
        elif tag not in NON_PRINTING_TAGS:
            note_uses(" ".join(args), span)
    for open_ in stack:
        problems.append((f"`{{% {open_.tag} %}}` is never closed (no `{{% end{open_.tag} %}}`)", open_.span))
        if open_.cache is not None:
            caches[open_.cache]["tags_inside"] = frozenset(open_.tags_inside or ())
    return TemplateFacts(
        path=path,
        extends=extends,
        includes=tuple(includes),
        blocks=tuple(blocks),
        uses=tuple(uses),
        caches=tuple(CacheBlock(**c) for c in caches),
        problems=tuple(problems),
    )


def _with_bindings(args: list[str]) -> tuple[str, ...]:
    if "as" in args:  # legacy {% with value as name %}
        return tuple(args[args.index("as") + 1 :][:1])
    return tuple(arg.split("=", 1)[0] for arg in args if "=" in arg)


def _cache_args(args: list[str], span: Span, block: _Open | None) -> dict:
    using = None
    rest = []
    for arg in args:
        if arg.startswith("using="):
            using = literal_name(arg[len("using=") :]) or arg[len("using=") :]
        else:
            rest.append(arg)
    return {
        "span": span,
        "timeout": rest[0] if rest else "",
        "fragment": rest[1] if len(rest) > 1 else None,
        "vary_on": tuple(rest[2:]),
        "using": using,
        "block": block and block.name,
        "tags_inside": frozenset(),
    }
