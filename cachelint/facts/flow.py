"""Value flow inside one function: which visitor-dependent sources reach each local name.

Built during the collector's one walk. Each assigned value is labelled when the walk reaches
it (in source order, so a name used after its assignment carries what was assigned), and a
name's labels are the union over all its assignments: ``if``/``else`` branches join, and the
cache-aside idiom (``data = cache.get(k)`` ... ``data = {...request.user...}``) keeps both.
Labels are short strings (see ``facts.views.FunctionFlow``); calls of functions that may be
the project's own leave a ``call:N`` label, resolved across functions when the project is
joined (``cachelint.project.flow``).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import replace

import libcst as cst

from cachelint.facts.labels import (  # noqa: F401 (re-exported)
    _DEFERRED,
    IDENTIFYING,
    QUOTED,
    SANE,
    SANITIZERS,
    VISITOR_LABELS,
    is_input,
    is_text,
    kind_of,
    unwrap,
)
from cachelint.facts.names import dotted_name
from cachelint.facts.views import CallSite, FunctionFlow
from cachelint.finding import Span

# What a label under ``request.user`` means, by the attribute read next.
IDENTITY_ATTRIBUTES = frozenset({"pk", "id", "username", "get_username", "uuid", "natural_key"})
AUTH_STATE_ATTRIBUTES = frozenset({"is_authenticated", "is_anonymous"})
# Raw request input (CL604): every distinct value a client sends.
RAW_INPUT = frozenset(
    {
        "GET",
        "POST",
        "query_params",  # DRF
        "data",  # DRF
        "headers",
        "META",
        "COOKIES",
        "path",
        "path_info",
        "get_full_path",
        "get_full_path_info",
        "build_absolute_uri",
    }
)
# ``request.META`` entries the server sets, not the client.
SERVER_META = frozenset({"REMOTE_ADDR", "SERVER_NAME", "SERVER_PORT", "REQUEST_METHOD"})
# Attributes that hold human-readable text (spaces, any length): a cache key built from one is
# invalid on memcached (CL608). ``text:NAME`` labels, ``text:self.NAME`` when read from ``self``.
TEXT_ATTRIBUTES = frozenset(
    {
        "name",
        "title",
        "full_name",
        "display_name",
        "first_name",
        "last_name",
        "headline",
        "caption",
        "subject",
        "description",
    }
)
# Calls that return display text (``user.get_full_name()``); ``x.title()`` is str's method.
TEXT_METHODS = frozenset({"get_full_name", "get_short_name"})
# Receivers whose ``.name`` is an identifier or a storage path, not free text: model fields,
# app configs, tasks, files (storages replace spaces), enum members (``Status.ACTIVE.name``).
CODE_NAMED = frozenset(
    {
        "field",
        "f",
        "app",
        "app_config",
        "config",
        "task",
        "queue",
        "backend",
        "plugin",
        "module",
        "cls",
        "klass",
        "func",
        "function",
        "view",
        "url",
        "pattern",
        "resolver_match",
        "logger",
        "thread",
        "process",
        "column",
        "table",
        "index",
        "model",
        "meta",
        "_meta",
        "widget",
        "form",
        "serializer",
        "command",
        "signal",
        "enum",
        "member",
        "file",
        "image",
        "photo",
        "avatar",
        "attachment",
        "document",
        "upload",
        "picture",
        "thumbnail",
        "logo",
        "video",
        "audio",
        "icon",
        "storage",
        "path",
        "settings",
    }
)


def _free_text_attribute(node: cst.Attribute) -> bool:
    """``product.name``, ``self.title``: display text; not ``field.name``, ``Status.ACTIVE.name``."""
    if node.attr.value not in TEXT_ATTRIBUTES:
        return False
    receiver = _last_name(node.value)
    if receiver is None:
        return True
    return receiver.lower() not in CODE_NAMED and not (receiver.isupper() and len(receiver) > 1)


# ``str(x)`` of these (the object's ``__str__``: its name or title, whatever the model says).
TEXT_OBJECTS = frozenset(
    {
        "self",
        "obj",
        "instance",
        "object",
        "user",
        "item",
        "product",
        "article",
        "post",
        "event",
        "category",
        "tag",
        "author",
        "owner",
        "profile",
        "person",
        "customer",
        "company",
        "organization",
        "team",
        "group",
        "site",
        "city",
        "country",
    }
)
# Calls that make text a valid key: digests, slugs, percent-encoding (no spaces left).
TEXT_SANITIZERS = SANITIZERS | {"quote", "quote_plus", "urlencode", "urlsafe_b64encode", "b64encode", "hash"}
# Normalisers that map distinct usernames to one value (``slugify("a.b") == slugify("ab")``);
# a ``uname`` label marks a value holding a username.
LOSSY_CALLS = frozenset({"slugify"})
LOSSY_METHODS = frozenset({"lower", "casefold", "upper"})
USER_TEXT = frozenset({"username", "get_username"})
# Calls that say nothing about the visitor whatever they are given.
_NEUTRAL_CALLS = frozenset({"isinstance", "hasattr", "callable", "type", "id", "print"})
_MUTATORS = frozenset({"update", "append", "extend", "add", "insert", "setdefault", "__setitem__"})
_MAX_NAME_LABELS = 32  # a name with more sources than this is not worth more precision

Labels = frozenset[str]
EMPTY: Labels = frozenset()


def _last_name(node: cst.BaseExpression) -> str | None:
    """``user.username`` -> ``username``; ``username`` -> ``username``; a call: its callee's."""
    if isinstance(node, cst.Call):
        node = node.func
    if isinstance(node, cst.Attribute):
        return node.attr.value
    if isinstance(node, cst.Name):
        return node.value
    return None


def _callee_text(func: cst.BaseExpression) -> str:
    """``get_template("x").render``: the dotted names around the calls, for a loose match."""
    parts = []
    while isinstance(func, cst.Attribute | cst.Call):
        if isinstance(func, cst.Attribute):
            parts.append(func.attr.value)
            func = func.value
        else:
            func = func.func
    if isinstance(func, cst.Name):
        parts.append(func.value)
    return ".".join(reversed(parts))


def _identity(label: str) -> str:
    """The label of an identity attribute (``.pk``) read from a value with ``label``."""
    kind, at, where = label.partition("@")
    if kind == "user":
        return f"user_id@{where}"
    if kind.startswith("param:"):
        return f"param_id:{kind[6:]}{at}{where}"
    return label


class FunctionFlowBuilder:
    """Labels of one function's values, filled by the collector as it walks the body."""

    def __init__(
        self,
        request_names: set[str],
        params: list[str],
        resolve: Callable[[cst.BaseExpression], str | None],
        locate: Callable[[cst.CSTNode], Span],
        personal_calls: dict[str, str],
    ) -> None:
        self.request_names = request_names
        self.params = set(params) - {"self", "cls"}
        self.resolve = resolve
        self.locate = locate
        self.personal_calls = personal_calls
        self.names: dict[str, set[str]] = {}
        # Keys put into local dicts (``ctx["orders"] = ...``), each with its labels.
        self.dict_keys: dict[str, dict[str, set[str]]] = {}
        self.returns: set[str] = set()
        self.returned_keys: dict[str, set[str]] = {}
        self.sites: list[CallSite] = []
        self.origins: list[Span] = []  # where each source was read: ``user@3`` -> origins[3]
        self._origin_index: dict[tuple[str, Span], int] = {}
        # Literal strings each local may hold (template names, keys), and parameter defaults.
        self.constants: dict[str, list[str]] = {}
        # How often each local is assigned, and how often a literal string: equal counts make
        # a constant (parameters never are one: a caller may pass anything).
        self.assignments: dict[str, int] = {}
        self.literal_assignments: dict[str, int] = {}
        self._memo: dict[int, tuple[cst.BaseExpression, Labels]] = {}

    # --- labelling --------------------------------------------------------------------------

    def labels(self, node: cst.BaseExpression | None) -> Labels:
        if node is None:
            return EMPTY
        try:
            return frozenset(self._labels(node))
        except RecursionError:
            return EMPTY

    def _source(self, kind: str, node: cst.CSTNode) -> set[str]:
        """A source read here: its label names the kind and where (``user@0``)."""
        span = self.locate(node)
        index = self._origin_index.get((kind, span))
        if index is None:
            index = self._origin_index[(kind, span)] = len(self.origins)
            self.origins.append(span)
        return {f"{kind}@{index}"}

    def _request_attribute(self, node: cst.Attribute) -> set[str] | None:
        """Labels of ``request.user.x``/``request.GET``..., None when not a request read."""
        chain: list[cst.Attribute] = []
        current: cst.BaseExpression = node
        while isinstance(current, cst.Attribute):
            chain.append(current)
            current = current.value
        chain.reverse()  # request.user, request.user.pk, ...
        for index, attribute in enumerate(chain):
            owner = dotted_name(attribute.value)
            if owner not in self.request_names:
                continue
            name = attribute.attr.value
            after = chain[index + 1].attr.value if index + 1 < len(chain) else None
            if name == "user":
                if after in IDENTITY_ATTRIBUTES:
                    return self._source("user_id", attribute)
                if after in AUTH_STATE_ATTRIBUTES:
                    return self._source("auth_state", attribute)
                return self._source("user", attribute)
            if name == "session":
                return self._source("session_key" if after == "session_key" else "session", attribute)
            if name in RAW_INPUT and owner.rpartition(".")[2] in ("request", "req"):
                return self._source(f"input:{name}", attribute)
            return None
        return None

    def _labels(self, node: cst.BaseExpression) -> set[str]:
        # Memoized per node: a value labelled as an assignment and again as a dict entry
        # records its call sites once.
        key = id(node)
        if key not in self._memo:
            self._memo[key] = (node, frozenset(self._compute(node)))
        return set(self._memo[key][1])

    def _compute(self, node: cst.BaseExpression) -> set[str]:
        if isinstance(node, cst.Name):
            if node.value in self.names:
                return set(self.names[node.value])
            if node.value in self.params:
                return {f"param:{node.value}"}
            return set()
        if isinstance(node, cst.Attribute):
            found = self._request_attribute(node)
            if found is not None:
                if node.attr.value in USER_TEXT:  # ``request.user.username``: who, as text
                    found = found | self._source("uname", node)
                return found
            inner = self._labels(node.value)
            if node.attr.value in IDENTITY_ATTRIBUTES:  # ``user.pk``: who, not what
                inner = {_identity(label) for label in inner}
            if _free_text_attribute(node):
                owner = "self." if dotted_name(node.value) == "self" else ""
                inner = inner | self._source(f"text:{owner}{node.attr.value}", node)
            elif node.attr.value in USER_TEXT:
                inner = inner | self._source("uname", node)
            return inner
        if isinstance(node, cst.Subscript):
            value = node.value
            if isinstance(value, cst.Attribute) and value.attr.value == "META" and self._server_meta(node):
                return set()
            found = self._labels(value)
            for element in node.slice:
                if isinstance(element.slice, cst.Index):
                    found |= self._labels(element.slice.value)
            return found
        if isinstance(node, cst.Call):
            return self._call_labels(node)
        if isinstance(node, cst.Lambda):
            return self._labels(node.body)
        if isinstance(node, cst.FormattedString):
            found: set[str] = set()
            for part in node.parts:
                if isinstance(part, cst.FormattedStringExpression):
                    found |= self._labels(part.expression)
            return found
        if isinstance(node, cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp):
            found = set()
            parts = [node.key, node.value] if isinstance(node, cst.DictComp) else [node.elt]
            for part in parts:
                found |= self._labels(part)
            comp: cst.CompFor | None = node.for_in
            while comp is not None:
                found |= self._labels(comp.iter)
                comp = comp.inner_for_in
            return found
        found = set()
        for child in node.children:
            if isinstance(child, cst.BaseExpression):
                found |= self._labels(child)
            elif isinstance(child, cst.Element | cst.DictElement | cst.StarredDictElement | cst.Arg):
                for grandchild in child.children:
                    if isinstance(grandchild, cst.BaseExpression):
                        found |= self._labels(grandchild)
            elif isinstance(child, cst.FormattedStringExpression | cst.Comparison | cst.ComparisonTarget):
                for grandchild in child.children:
                    if isinstance(grandchild, cst.BaseExpression):
                        found |= self._labels(grandchild)
        return found

    def _server_meta(self, node: cst.Subscript) -> bool:
        index = node.slice[0].slice if len(node.slice) == 1 else None
        if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
            return index.value.evaluated_value in SERVER_META
        return False

    def _call_labels(self, node: cst.Call) -> set[str]:
        func = node.func
        args = [self._labels(a.value) for a in node.args if a.keyword is None and not a.star]
        kwargs = [(a.keyword.value, self._labels(a.value)) for a in node.args if a.keyword]
        rest: set[str] = set().union(*(self._labels(a.value) for a in node.args if a.star))
        name = self.resolve(func)  # ``?name``: not bound (yet) in the module
        short = func.attr.value if isinstance(func, cst.Attribute) else (name or "").lstrip("?")
        short = short.rpartition(".")[2]
        late = name is not None and name.startswith("?")
        if late:
            name = None if isinstance(func, cst.Attribute) else name
        if isinstance(func, cst.Attribute):
            # ``request.META.get("REMOTE_ADDR")``: a value the server sets.
            if (
                func.attr.value == "get"
                and isinstance(func.value, cst.Attribute)
                and func.value.attr.value == "META"
                and node.args
                and isinstance(node.args[0].value, cst.SimpleString)
                and node.args[0].value.evaluated_value in SERVER_META
            ):
                return set()
            receiver = self._labels(func.value)
        else:
            receiver = set()
        if name in self.personal_calls:
            return self._source(self.personal_calls[name], node)
        if short == "render_to_string" or (
            short == "render" and "template" in (dotted_name(func) or _callee_text(func)).lower()
        ):
            return self._source("html", node)  # rendered template text (CL607)
        everything = receiver | rest | set().union(*args, *(labels for _, labels in kwargs))
        if isinstance(func, cst.Attribute) and func.attr.value in TEXT_METHODS:
            owner = "self." if dotted_name(func.value) == "self" else ""
            everything |= self._source(f"text:{owner}{func.attr.value}", func)
        if isinstance(func, cst.Attribute) and func.attr.value in USER_TEXT:
            everything |= self._source("uname", func)  # ``user.get_username()``
        # ``slugify(user.username)``, ``username.lower()``, ``slugify(f"...{user.get_username()}")``
        lossy = short in LOSSY_CALLS or (isinstance(func, cst.Attribute) and func.attr.value in LOSSY_METHODS)
        if lossy and (
            any(kind_of(label) == "uname" for label in everything)
            or (short in LOSSY_CALLS and node.args and _last_name(node.args[0].value) in USER_TEXT)
            or (isinstance(func, cst.Attribute) and _last_name(func.value) in USER_TEXT)
        ):
            everything |= self._source("lossy:username", node)
        if short in SANITIZERS or (name or "").startswith("hashlib.") or self._constant_lookup(func):
            return {
                SANE + label if label.startswith(_DEFERRED) else label
                for label in everything
                if not is_input(label) and not is_text(label)
            }
        if short in TEXT_SANITIZERS:
            everything = {
                QUOTED + label if label.startswith(_DEFERRED) else label
                for label in everything
                if not is_text(label)
            }
        if short == "str" and name in ("?str", "str") and len(node.args) == 1:
            if _last_name(node.args[0].value) in TEXT_OBJECTS and isinstance(
                node.args[0].value, cst.Name | cst.Attribute
            ):
                owner = "self." if dotted_name(node.args[0].value) == "self" else ""
                return everything | self._source(f"text:{owner}str", node)
        if short == "__str__" and isinstance(func, cst.Attribute):
            owner = "self." if dotted_name(func.value) == "self" else ""
            return everything | self._source(f"text:{owner}str", node)
        if short in _NEUTRAL_CALLS:
            return set()
        callee = None
        if isinstance(func, cst.Attribute) and dotted_name(func.value) == "self":
            callee = f"self.{func.attr.value}"
        elif late and name is not None and short not in dir(builtins):
            callee = name  # maybe a function defined further down the module
        elif name is not None and "." in name and not name.startswith(("django.", "rest_framework.")):
            callee = name
        if callee is None:  # a builtin, a method of a local, a library: it returns what it is given
            return everything
        self.sites.append(
            CallSite(
                callee=callee,
                span=self.locate(node),
                args=tuple(frozenset(a) for a in args),
                kwargs=tuple((k, frozenset(v)) for k, v in kwargs),
                rest=frozenset(receiver | rest),
            )
        )
        return {f"call:{len(self.sites) - 1}"}

    def _constant_lookup(self, func: cst.BaseExpression) -> bool:
        """``ALLOWED_SORTS.get(value, "new")``: a lookup in a constant mapping bounds the value."""
        if isinstance(func, cst.Attribute) and func.attr.value == "get":
            receiver = dotted_name(func.value) or ""
            owner, _, last = receiver.rpartition(".")
            return last.isupper() and owner not in self.request_names
        return False

    # --- statements -------------------------------------------------------------------------

    def bind(self, name: str, labels: Labels) -> None:
        current = self.names.setdefault(name, set())
        if len(current) < _MAX_NAME_LABELS:
            current |= labels

    def validated(self, name: str) -> None:
        """``if name not in ALLOWED: return``: from here on ``name`` is one of the allowed values,
        not raw input or free text (what it says about the visitor stays)."""
        current = self.names.get(name)
        if current is None:
            if name not in self.params:
                return
            current = {f"param:{name}"}
        self.names[name] = {
            SANE + label if label.startswith(_DEFERRED) else label
            for label in current
            if not is_input(label) and not is_text(label)
        }

    def constant(self, name: str, value: object) -> None:
        """Record what literal strings ``name`` is assigned (a non-literal makes it variable)."""
        values = value if isinstance(value, list | tuple) else [value]
        strings = [v for v in values if isinstance(v, str)]
        if strings and len(strings) == len(values):
            self.literal_assignments[name] = self.literal_assignments.get(name, 0) + 1
        if strings:
            known = self.constants.setdefault(name, [])
            known.extend(s for s in strings if s not in known)

    def assign(self, target: cst.BaseExpression, value: cst.BaseExpression, labels: Labels) -> None:
        """``target = value`` (also tuple unpacking, ``x[k] = v`` and ``x += v``)."""
        if isinstance(target, cst.Name):
            self.assignments[target.value] = self.assignments.get(target.value, 0) + 1
            self.bind(target.value, labels)
            if isinstance(value, cst.Dict):
                self._dict_literal(target.value, value)
        elif isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                inner = element.value
                self.assign(inner, value, labels)
        elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            container = target.value.value
            self.bind(container, labels)
            index = target.slice[0].slice if len(target.slice) == 1 else None
            if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
                key = index.value.evaluated_value
                if isinstance(key, str):
                    self.dict_keys.setdefault(container, {}).setdefault(key, set()).update(labels)

    def _dict_literal(self, name: str, node: cst.Dict) -> None:
        for element in node.elements:
            if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
                key = element.key.evaluated_value
                if isinstance(key, str):
                    keys = self.dict_keys.setdefault(name, {})
                    keys.setdefault(key, set()).update(self.labels(element.value))

    def mutate(self, node: cst.Call) -> None:
        """``ctx.update({...})``, ``items.append(x)``: the receiver now holds what it was given."""
        func = node.func
        if not isinstance(func, cst.Attribute) or not isinstance(func.value, cst.Name):
            return
        if func.attr.value not in _MUTATORS or func.value.value in self.request_names:
            return
        name = func.value.value
        given = frozenset().union(*(self.labels(a.value) for a in node.args))
        self.bind(name, given)
        if func.attr.value == "update":
            for arg in node.args:
                if arg.keyword is not None:
                    keys = self.dict_keys.setdefault(name, {})
                    keys.setdefault(arg.keyword.value, set()).update(self.labels(arg.value))
                elif isinstance(arg.value, cst.Dict):
                    self._dict_literal(name, arg.value)

    def returned(self, value: cst.BaseExpression | None) -> None:
        if value is None:
            return
        self.returns |= self.labels(value)
        if isinstance(value, cst.Dict):
            scratch = "\0return"
            self._dict_literal(scratch, value)
            keys = self.dict_keys.pop(scratch, {})
        elif isinstance(value, cst.Name):
            keys = self.dict_keys.get(value.value, {})
        else:
            keys = {}
        for key, labels in keys.items():
            self.returned_keys.setdefault(key, set()).update(labels)

    def template_names(self, target: cst.BaseExpression) -> list[str]:
        """The literal names a local or parameter used as a template name may hold."""
        if isinstance(target, cst.Name):
            return list(self.constants.get(target.value, ()))
        return []

    def finish(self, late: Callable[[str], str]) -> FunctionFlow:
        """``late`` resolves the names bound after their use (an empty name: not a function)."""
        sites = [
            replace(site, callee=late(site.callee)) if site.callee.startswith("?") else site
            for site in self.sites
        ]
        return FunctionFlow(
            names=tuple(sorted((n, frozenset(ls)) for n, ls in self.names.items() if ls)),
            returns=frozenset(self.returns),
            returned_keys=tuple(sorted((k, frozenset(ls)) for k, ls in self.returned_keys.items())),
            sites=tuple(sites),
            origins=tuple(self.origins),
            literals=tuple(
                sorted(
                    (n, tuple(v))
                    for n, v in self.constants.items()
                    if n not in self.params and self.assignments.get(n) == self.literal_assignments.get(n)
                )
            ),
        )
