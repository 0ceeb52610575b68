"""Template facts from ONE pass of Django's own ``DebugLexer`` per template.

Only the lexer is used (it needs no settings and runs no template code). The pass tracks the
block structure itself, so a ``{% cache %}`` with no ``{% endcache %}`` becomes a located
problem instead of an exception, and unknown third-party tags (``{% wagtailcache %}``,
``{% nevercache %}``) are simply tokens.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from cachelint.finding import Span, line_starts
from cachelint.suppressions import Suppression
from cachelint.suppressions import scan as scan_suppressions

# What a template can print that differs per visitor, by the root of the variable.
PERSONAL_ROOTS = {"user": "user", "perms": "perms", "messages": "messages", "csrf_token": "csrf_token"}
REQUEST_PERSONAL = {"user": "user", "session": "session"}
# Attributes that identify a user (a cache varied on them keeps one entry per user).
IDENTIFYING_ATTRIBUTES = frozenset({"pk", "id", "username", "email", "uuid", "get_username"})
TRANSLATION_TAGS = frozenset({"trans", "translate", "blocktrans", "blocktranslate", "language"})

# Tags whose arguments are not expressions printed into the output.
NON_PRINTING_TAGS = frozenset(
    {"load", "block", "endblock", "extends", "cache", "endcache", "comment", "endcomment", "verbatim"}
)
# Tags that open a region closed by ``end<tag>``, tracked for structure and variable scoping.
PAIRED = frozenset({"block", "cache", "for", "with", "blocktrans", "blocktranslate", "spaceless", "language"})
# The language ``{% get_current_language as X %}``-style tags bind.
LANGUAGE_BINDING_TAGS = frozenset({"get_current_language", "get_current_language_bidi"})

_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")
_FILTER = re.compile(r"\|\s*\w+")
_NAME = re.compile(r"(?<![\w.])[A-Za-z_]\w*(?:\.\w+)*")
_VERSION_SEGMENT = re.compile(r"^v\d+$")
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_LITERAL_URL = re.compile(r"""\b(?:href|src)\s*=\s*["'](/[^"'{}\s]*)""", re.IGNORECASE)


@dataclass(frozen=True)
class TemplateUse:
    """A variable the template outputs or tests: ``{{ user.username }}``, ``{% if perms.x %}``.

    ``kind`` is the personal kind known from the name alone ("user", "session", "perms",
    "messages", "csrf_token"), or "" (the project may still know it is personal, e.g. a
    variable provided by a context processor that reads the session).
    """

    expression: str
    kind: str
    span: Span
    block: str | None  # innermost enclosing {% block %}
    cache: int | None  # index of the innermost enclosing {% cache %} in TemplateFacts.caches
    # Inside ``{% if user.is_authenticated %}`` (or the ``else`` of ``if not ...``/``if
    # user.is_anonymous``): output only logged-in visitors get, never an anonymous page.
    authenticated_only: bool = False

    @property
    def root(self) -> str:
        return self.expression.split(".", 1)[0]


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
    varies_by_user: bool  # a vary-on argument identifies the user (directly or via {% with %})
    varies_by_language: bool


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
    # Absolute-path href/src values written literally in the markup (``/static/app.css``).
    literal_urls: tuple[tuple[str, Span], ...] = ()
    loads_static: bool = False  # {% load static %} is present
    translation_tags: tuple[tuple[str, Span], ...] = ()  # every {% trans %}-like tag
    suppressions: tuple[Suppression, ...] = ()
    digest: str = ""  # content_digest of the bytes these facts come from: --fix checks it
    # Nothing but the CSRF token: no markup, no other variable, no extends or include (CL112).
    only_csrf_token: bool = False


# ``{% if user.is_authenticated %}``: the condition, and whether it is negated.
_AUTH_TEST = re.compile(
    r"^(not\s+)?(?:request\.)?user\.(is_authenticated|is_anonymous)$"
)


def auth_test(args: list[str]) -> bool | None:
    """True when an ``{% if %}`` condition holds only for logged-in visitors, False when only
    for anonymous ones, None for anything else."""
    condition = " ".join(args).strip()
    conjuncts = condition.split(" and ")
    if " or " in condition or not conjuncts:
        return None
    tests = []
    for conjunct in conjuncts:
        match = _AUTH_TEST.match(conjunct.strip())
        tests.append(None if match is None else (match.group(2) == "is_authenticated") != bool(match.group(1)))
    if True in tests:
        return True  # ``user.is_authenticated and ...``: only logged-in visitors get the body
    # The ``else`` of ``not user.is_authenticated`` is for logged-in visitors; that of
    # ``not user.is_authenticated and x`` is not.
    return tests[0] if len(tests) == 1 else None


def literal_name(token: str) -> str | None:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        return token[1:-1]
    return None


def personal_kind(expression: str) -> str:
    parts = expression.split(".")
    if parts[0] == "request" and len(parts) > 1:
        return REQUEST_PERSONAL.get(parts[1], "")
    return PERSONAL_ROOTS.get(parts[0], "")


def identifies_user(expression: str) -> bool:
    """``user``, ``user.pk``, ``request.user.id``, ``request.session.session_key``..."""
    parts = expression.split(".")
    if parts[0] == "request":
        parts = parts[1:]
        if parts[:2] == ["session", "session_key"]:
            return True
    if not parts or parts[0] != "user":
        return False
    return len(parts) == 1 or (len(parts) == 2 and parts[1] in IDENTIFYING_ATTRIBUTES)


def looks_like_variable(fragment: str) -> bool:
    """A ``{% cache %}`` fragment name the author probably meant as a variable: it is dotted
    (``user.id``, ``request.user.pk``) but not a versioned literal such as ``nav.v3``."""
    if literal_name(fragment) is not None or "." not in fragment:
        return False
    parts = fragment.split(".")
    return not _VERSION_SEGMENT.match(parts[-1]) and all(p.isidentifier() for p in parts)


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
    binds: dict[str, str] = field(default_factory=dict)  # name -> the expression it stands for
    uses_super: bool = False
    tags_inside: set[str] | None = None
    # The innermost open region of each tag, this one included: ``current()`` in O(1), so that
    # 40,000 nested {% for %} cost 40,000 steps, not 40,000 squared.
    innermost: dict[str, _Open] = field(default_factory=dict)
    outer_cache: _Open | None = None  # the {% cache %} enclosing this region


def parse_template(text: str, path: str) -> TemplateFacts:
    # Imported here: a warm run reads template facts from the cache and never lexes.
    from django.template.base import DebugLexer, TokenType

    starts = line_starts(text)

    def span_of(position: tuple[int, int]) -> Span:
        start, end = position
        line = bisect.bisect_right(starts, start)
        end_line = bisect.bisect_right(starts, max(start, end - 1))
        return Span(line, start - starts[line - 1] + 1, end_line, end - starts[end_line - 1] + 1)

    stack: list[_Open] = []
    extends: tuple[str, Span] | None = None
    includes: list[TemplateInclude] = []
    blocks: list[BlockDef] = []
    uses: list[TemplateUse] = []
    caches: list[dict] = []
    problems: list[tuple[str, Span]] = []
    language_names: set[str] = {"LANGUAGE_CODE"}
    literal_urls: list[tuple[str, Span]] = []
    translation_tags: list[tuple[str, Span]] = []
    loads_static = False

    # name -> the open regions binding it, innermost last (pushed and popped with the stack)
    scopes: dict[str, list[_Open]] = {}

    def current(tag: str) -> _Open | None:
        return stack[-1].innermost.get(tag) if stack else None

    def bound(name: str) -> str | None:
        """What a {% for %}/{% with %} name stands for ("" for a loop variable)."""
        binders = scopes.get(name)
        return binders[-1].binds[name] if binders else None

    def push(open_: _Open) -> None:
        open_.outer_cache = current("cache")
        open_.innermost = {**stack[-1].innermost, open_.tag: open_} if stack else {open_.tag: open_}
        stack.append(open_)
        for name in open_.binds:
            scopes.setdefault(name, []).append(open_)

    def unbind(open_: _Open) -> None:
        for name in open_.binds:
            binders = scopes[name]
            # The region is the innermost binder unless a region inside it is left open.
            index = next(i for i in range(len(binders) - 1, -1, -1) if binders[i] is open_)
            del binders[index]
        open_.binds = {}

    def close_cache(open_: _Open) -> None:
        """Tags inside a {% cache %} are gathered in the innermost one and passed outwards when
        it closes (adding each tag to every enclosing cache is quadratic in the nesting)."""
        assert open_.cache is not None
        tags = open_.tags_inside or set()
        caches[open_.cache]["tags_inside"] = frozenset(tags)
        outer = open_.outer_cache
        if outer is not None and outer.tags_inside is not None:
            outer.tags_inside |= tags

    def note_uses(expression: str, span: Span) -> None:
        block, cache = current("block"), current("cache")
        for name in names_in(expression):
            meaning = bound(name.split(".", 1)[0])
            if meaning == "":
                continue  # a loop variable shadows the context: {% for user in authors %}
            kind = personal_kind(name)
            if meaning is not None:  # {% with name=user.username %}: personal if its value is
                kind = personal_kind(meaning)
                if not kind:
                    continue
            uses.append(
                TemplateUse(name, kind, span, block and block.name, cache and cache.cache, auth_depth > 0)
            )

    skipping = ""  # inside {% verbatim %} or {% comment %}: the end tag to wait for
    # One entry per open {% if %}: True while only logged-in visitors get its output.
    ifs: list[bool] = []
    if_tests: list[bool | None] = []
    auth_depth = 0  # how many entries of ``ifs`` are True
    text_size = 0  # non-blank characters of markup (outside tags)
    for token in DebugLexer(text).tokenize():
        if token.token_type == TokenType.TEXT:
            if not skipping:
                text_size += len(token.contents.strip())
            if not skipping and ("href" in token.contents or "src" in token.contents):
                start = token.position[0]
                # Markup commented out with <!-- --> is not served.
                contents = _HTML_COMMENT.sub(lambda m: " " * len(m.group()), token.contents)
                for match in _LITERAL_URL.finditer(contents):
                    begin = start + match.start(1)
                    literal_urls.append((match.group(1), span_of((begin, start + match.end(1)))))
            continue
        if token.token_type == TokenType.VAR:
            if skipping:
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
        if skipping:
            if tag == skipping:
                skipping = ""
            continue
        if tag in ("verbatim", "comment"):
            skipping = f"end{tag}"
            continue
        if tag in TRANSLATION_TAGS:
            translation_tags.append((tag, span))
        if not tag.startswith("end"):
            cache = current("cache")
            if cache is not None and cache.tags_inside is not None:
                cache.tags_inside.add(tag)
        if tag.startswith("end") and tag[3:] in PAIRED:
            opened = tag[3:]
            if stack and stack[-1].tag == opened:
                closing = stack[-1]
                unbind(closing)
                stack.pop()
                if opened == "block" and args and closing.name and args[0] != closing.name:
                    problems.append(
                        (f"`{{% endblock {args[0]} %}}` closes `{{% block {closing.name} %}}`", span)
                    )
                if opened == "cache" and closing.cache is not None:
                    close_cache(closing)
                elif opened == "block":
                    block = current("block")
                    blocks.append(
                        BlockDef(closing.name or "", closing.span, block and block.name, closing.uses_super)
                    )
            else:
                expected = f"`{{% end{stack[-1].tag} %}}`" if stack else "nothing is open"
                problems.append(
                    (f"`{{% {tag} %}}` does not close anything open here (expected {expected})", span)
                )
            continue
        if tag in ("if", "elif", "else", "endif"):
            if tag == "if":
                test = auth_test(args)
                if_tests.append(test)
                ifs.append(test is True)
            elif ifs:
                previous = if_tests[-1]
                # ``else`` of a pure auth test flips it; any ``elif`` ends what is known.
                ifs[-1] = tag == "else" and previous is False
                if_tests[-1] = None
                if tag == "endif":
                    ifs.pop()
                    if_tests.pop()
            auth_depth = sum(ifs)
            if tag in ("else", "endif"):
                continue
        if tag in LANGUAGE_BINDING_TAGS and len(args) >= 2 and args[-2] == "as":
            language_names.add(args[-1])
            continue
        if tag in PAIRED:
            open_ = _Open(tag, span)
            if tag == "block":
                open_.name = args[0] if args else ""
            elif tag == "for":
                if "in" in args:
                    position = args.index("in")
                    names = " ".join(args[:position]).replace(",", " ").split()
                    open_.binds = {name: "" for name in names}
                    note_uses(" ".join(args[position + 1 :]), span)
            elif tag == "with":
                open_.binds = _with_bindings(args)
                note_uses(" ".join(v for v in open_.binds.values()), span)
                open_.binds = {k: _meaning(v, bound) for k, v in open_.binds.items()}
            elif tag == "cache":
                open_.cache = len(caches)
                open_.tags_inside = set()
                caches.append(_cache_args(args, span, current("block"), bound, language_names))
            elif tag in ("blocktrans", "blocktranslate"):
                open_.binds = _with_bindings(args)
                note_uses(" ".join(_assigned_values(args)), span)
                open_.binds = {k: _meaning(v, bound) for k, v in open_.binds.items()}
            push(open_)
            continue
        if tag == "load" and "static" in args:
            loads_static = True
        if tag == "extends" and args:
            name = literal_name(args[0])
            if name is not None:
                extends = (name, span)
        elif tag == "include" and args:
            name = literal_name(args[0])
            if name is not None:
                block, cache = current("block"), current("cache")
                includes.append(TemplateInclude(name, span, block and block.name, cache and cache.cache))
            note_uses(" ".join(_assigned_values(args[1:])), span)
        elif tag == "empty":
            loop = current("for")
            if loop is not None:
                unbind(loop)  # Django leaves the loop variable unbound in {% empty %}
        elif tag == "csrf_token":
            block, cache = current("block"), current("cache")
            uses.append(
                TemplateUse(
                    "csrf_token", "csrf_token", span, block and block.name, cache and cache.cache, auth_depth > 0
                )
            )
        elif tag not in NON_PRINTING_TAGS:
            note_uses(" ".join(args), span)
    for open_ in stack:
        problems.append((f"`{{% {open_.tag} %}}` is never closed (no `{{% end{open_.tag} %}}`)", open_.span))
    for open_ in reversed(stack):  # innermost first, so that each passes its tags outwards
        if open_.cache is not None:
            close_cache(open_)
    return TemplateFacts(
        path=path,
        extends=extends,
        includes=tuple(includes),
        blocks=tuple(blocks),
        uses=tuple(uses),
        caches=tuple(CacheBlock(**c) for c in caches),
        problems=tuple(problems),
        literal_urls=tuple(literal_urls),
        loads_static=loads_static,
        translation_tags=tuple(translation_tags),
        suppressions=scan_suppressions(text, template=True),
        only_csrf_token=bool(uses)
        and all(u.kind == "csrf_token" for u in uses)
        and text_size == 0
        and extends is None
        and not includes,
    )


def _meaning(expression: str, bound: object) -> str:
    """Follow an expression's root through enclosing {% with %} names."""
    root, _, rest = expression.partition(".")
    outer = bound(root)  # type: ignore[operator]
    if outer:
        return f"{outer}.{rest}" if rest else outer
    return expression


def _assigned_values(args: list[str]) -> list[str]:
    """Arguments with ``name=value`` pairs reduced to their values: in ``{% include "x" with
    user=post.author %}`` only ``post.author`` is read from the context."""
    return [arg.partition("=")[2] if "=" in arg and not arg.startswith(("'", '"')) else arg for arg in args]


def _with_bindings(args: list[str]) -> dict[str, str]:
    if "as" in args and args.index("as") == 1:  # legacy {% with value as name %}
        return {args[2]: args[0]} if len(args) > 2 else {}
    bindings = {}
    for arg in args:
        name, sep, value = arg.partition("=")
        if sep:
            bindings[name] = value
    return bindings


def _cache_args(
    args: list[str], span: Span, block: _Open | None, bound: object, language_names: set[str]
) -> dict:
    using = None
    rest = []
    for arg in args:
        if arg.startswith("using="):
            using = literal_name(arg[len("using=") :])  # None for a variable: unknown
        else:
            rest.append(arg)
    vary_on = tuple(rest[2:])
    meanings = [_meaning(arg, bound) for arg in vary_on]
    return {
        "span": span,
        "timeout": rest[0] if rest else "",
        "fragment": rest[1] if len(rest) > 1 else None,
        "vary_on": vary_on,
        "using": using,
        "block": block and block.name,
        "tags_inside": frozenset(),
        "varies_by_user": any(identifies_user(m) for m in meanings),
        "varies_by_language": any(
            arg.split(".")[-1] in language_names or "lang" in arg.lower() for arg in vary_on
        ),
    }
