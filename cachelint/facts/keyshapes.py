"""Key shapes: what the key of a low-level cache call looks like, so that a write and the code
that invalidates it can be matched across modules (CL601) although they spell the key apart.

A shape is a short string (picklable, comparable; matched by ``cache_calls.shapes_match``):

- ``s:<skeleton>``: a string built from literals, with ``HOLE`` for each part not known here:
  ``"user:%s" % pk``, ``f"{PREFIX}:{pk}"`` (``PREFIX`` resolved when the module assigns it),
  ``"user:{}".format(pk)``, ``"user:" + str(pk)``; the glob of ``delete_pattern("user:*")``.
- ``n:<name>``: a named constant or attribute the key comes from, matched by its last name
  wherever it is used: ``PROFILE_KEY``, ``PROFILE_KEY.format(pk)``, ``self.cache_key``,
  ``settings.POLYGON_KEY % pk``.
- ``c:<function>`` then one skeleton per positional argument (separated by ``ARG``): a key
  built by a named function, ``profile_key(user.pk)``, ``self.get_cache_key()``.

A local variable stands for what the function assigns to it. Parameters and anything else
give no shape (the rule then compares the key's source text within one module).
"""

from __future__ import annotations

import re

import libcst as cst

from cachelint.facts.names import ImportTable, dotted_name
from cachelint.facts.views import ARG, HOLE

Scope = dict[str, list[cst.BaseExpression]]  # local name -> the values assigned to it

_MAX_DEPTH = 4  # local variables followed through at most this many assignments
_FORMAT_FIELD = re.compile(r"\{\{|\}\}|\{[^{}]*\}")
_PERCENT_FIELD = re.compile(r"%%|%(?:\([^)]*\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[a-zA-Z]")
_GLOB = re.compile(r"\*|\?|\[[^\]]*\]")
# django-redis calls whose argument is a glob of keys.
PATTERN_METHODS = frozenset({"delete_pattern", "keys", "iter_keys", "adelete_pattern"})
# Methods worth following a receiver variable for (``store.set(...)``): the cache API's that write
# or delete (not ``get``, which every dict has: following each one would cost every function).
_CACHE_API = {"set", "add", "get_or_set", "delete", "touch", "incr", "decr", "clear"}
_CACHE_API |= {"set_many", "delete_many", "delete_pattern", "keys", "iter_keys", "expire"}
CACHE_API = frozenset(_CACHE_API | {f"a{m}" for m in _CACHE_API})
# Calls whose argument is a list of keys (``set_many``'s dict keys are read from its value).
MANY_METHODS = frozenset({"delete_many", "adelete_many", "get_many", "aget_many"})


class KeyShaper:
    """Shapes of cache keys in one module; knows its module-level string constants and, per
    function, its local assignments (both read once, when a cache call first needs them)."""

    def __init__(self, module: cst.Module, imports: ImportTable) -> None:
        self._module = module
        self._imports = imports
        self._constants: Scope | None = None
        self._locals: dict[int, Scope] = {}
        self._functions: dict[str, cst.FunctionDef] | None = None

    def call_shapes(
        self,
        method: str,
        key: cst.BaseExpression | None,
        value: cst.BaseExpression | None,
        function: cst.FunctionDef,
    ) -> tuple[str, ...]:
        """The shapes of the keys a cache call names (each element of ``delete_many([...])``,
        each key of ``set_many({...})``)."""
        scope = self._assignments(function)
        if method in ("set_many", "aset_many"):
            nodes = self._elements(value, scope, dict_keys=True) if value is not None else []
        elif method in MANY_METHODS:
            nodes = self._elements(key, scope) if key is not None else []
        else:
            nodes = [key] if key is not None else []
        found: list[str] = []
        for node in nodes:
            for shape in self._shapes(node, scope, _MAX_DEPTH, pattern=method in PATTERN_METHODS):
                if shape not in found:
                    found.append(shape)
        return tuple(found)

    def bound_value(self, name: str, function: cst.FunctionDef | None) -> cst.BaseExpression | None:
        """The one value a local variable or module global is assigned, if it has one:
        ``store = caches["long"]`` makes ``store.set(...)`` a cache call."""
        scope = self._assignments(function) if function is not None else {}
        values = scope.get(name) if name in scope else self._module_constants().get(name)
        return values[0] if values and len(values) == 1 else None

    # --- scopes -------------------------------------------------------------------------------

    def _module_constants(self) -> Scope:
        if self._constants is None:
            self._constants = {}
            for statement in self._module.body:
                if isinstance(statement, cst.SimpleStatementLine):
                    for small in statement.body:
                        _add_assignment(small, self._constants)
        return self._constants

    def _returns(self, name: str) -> list[tuple[cst.BaseExpression, Scope]]:
        """What a module-level function of this module returns (a key function), with the
        function's local assignments."""
        if self._functions is None:
            self._functions = {
                statement.name.value: statement
                for statement in self._module.body
                if isinstance(statement, cst.FunctionDef)
            }
        function = self._functions.get(name)
        if function is None:
            return []
        collector = _Returns()
        function.body.visit(collector)
        local = self._assignments(function)
        return [(value, local) for value in collector.values]

    def _assignments(self, function: cst.FunctionDef) -> Scope:
        """``name = value`` anywhere in the function (nested blocks included), by name."""
        table = self._locals.get(id(function))
        if table is None:
            table = {}
            collector = _Assignments(table)
            function.body.visit(collector)
            self._locals[id(function)] = table
        return table

    # --- shapes -------------------------------------------------------------------------------

    def _elements(
        self, node: cst.BaseExpression, scope: Scope, dict_keys: bool = False
    ) -> list[cst.BaseExpression]:
        """The key expressions of a literal list/dict of keys (or a comprehension of them), also
        through a local variable."""
        if isinstance(node, cst.List | cst.Tuple | cst.Set) and not dict_keys:
            return [e.value for e in node.elements if isinstance(e, cst.Element)]
        if isinstance(node, cst.Dict) and dict_keys:
            return [e.key for e in node.elements if isinstance(e, cst.DictElement)]
        if isinstance(node, cst.ListComp | cst.SetComp | cst.GeneratorExp) and not dict_keys:
            return [node.elt]
        if isinstance(node, cst.DictComp) and dict_keys:
            return [node.key]
        if isinstance(node, cst.Name) and node.value in scope:
            return [e for value in scope[node.value] for e in self._elements(value, {}, dict_keys)]
        return []

    def _shapes(self, node: cst.BaseExpression, scope: Scope, depth: int, pattern: bool = False) -> list[str]:
        if depth <= 0:
            return []
        if isinstance(node, cst.Name):
            if node.value in scope:  # a local variable: what the function assigns to it
                values = scope[node.value]
                return [s for value in values for s in self._shapes(value, scope, depth - 1, pattern)]
            found = [f"n:{node.value}"] if self._is_constant(node.value) else []
            for value in self._module_constants().get(node.value, []):
                found += self._shapes(value, {}, depth - 1, pattern)
            return found
        if isinstance(node, cst.Attribute):
            return [f"n:{node.attr.value}"]
        if isinstance(node, cst.Call):
            return self._call_shapes(node, scope, depth, pattern)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
            template = node.left
            found = [] if _is_string(template) else self._shapes(template, scope, depth - 1)
            found = [s for s in found if s.startswith("n:")]
            for text in self._strings(template, scope, depth - 1):
                found.append("s:" + _fill(_PERCENT_FIELD, text, {"%%": "%"}, pattern))
            return found
        skeleton = self._skeleton(node, scope, depth, pattern)
        return [f"s:{skeleton}"] if skeleton is not None and skeleton != HOLE else []

    def _call_shapes(self, node: cst.Call, scope: Scope, depth: int, pattern: bool) -> list[str]:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "format":
            template = func.value
            found = [] if _is_string(template) else self._shapes(template, scope, depth - 1)
            found = [s for s in found if s.startswith("n:")]
            for text in self._strings(template, scope, depth - 1):
                found.append("s:" + _fill(_FORMAT_FIELD, text, {"{{": "{", "}}": "}"}, pattern))
            return found
        name = dotted_name(func)
        if name is None or name.rpartition(".")[2] in ("str", "lower", "upper", "strip"):
            skeleton = self._skeleton(node, scope, depth, pattern)
            return [f"s:{skeleton}"] if skeleton is not None and skeleton != HOLE else []
        args = [a.value for a in node.args if a.keyword is None and not a.star]
        parts = [name.rpartition(".")[2]]
        parts += [self._skeleton(a, scope, depth - 1, False) or HOLE for a in args]
        found = ["c:" + ARG.join(parts)]
        # A key function of this module: what it returns, its parameters unknown.
        for value, local in self._returns(name) if depth > 1 else []:
            found += [s for s in self._shapes(value, local, depth - 1, pattern) if s.startswith("s:")]
        return found

    def _skeleton(self, node: cst.BaseExpression, scope: Scope, depth: int, pattern: bool) -> str | None:
        """The text of a string expression with ``HOLE`` for what is not known; None when the
        expression is no string at all (a bare variable)."""
        if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
            value = node.evaluated_value
            if not isinstance(value, str):
                return None
            return _GLOB.sub(HOLE, value) if pattern else value
        if isinstance(node, cst.FormattedString):
            pieces = []
            for part in node.parts:
                if isinstance(part, cst.FormattedStringText):
                    text = part.value.replace("{{", "{").replace("}}", "}")
                    pieces.append(_GLOB.sub(HOLE, text) if pattern else text)
                elif isinstance(part, cst.FormattedStringExpression):
                    known = self._constant_text(part.expression, scope, depth - 1)
                    pieces.append(known if known is not None and part.format_spec is None else HOLE)
            return _collapse("".join(pieces))
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            left = self._skeleton(node.left, scope, depth - 1, pattern)
            right = self._skeleton(node.right, scope, depth - 1, pattern)
            if left is None and right is None:
                return None
            return _collapse((left or HOLE) + (right or HOLE))
        known = self._constant_text(node, scope, depth - 1)
        return known if known is not None else HOLE

    def _strings(self, node: cst.BaseExpression, scope: Scope, depth: int) -> list[str]:
        """The literal strings a format template can be (a literal, a constant, a variable)."""
        if depth <= 0:
            return []
        if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
            value = node.evaluated_value
            return [value] if isinstance(value, str) else []
        if isinstance(node, cst.Name):
            values = scope.get(node.value) or self._module_constants().get(node.value, [])
            return [s for value in values for s in self._strings(value, {}, depth - 1)]
        return []

    def _constant_text(self, node: cst.BaseExpression, scope: Scope, depth: int) -> str | None:
        """The text of an f-string field or concatenated part whose value is one constant."""
        if depth <= 0:
            return None
        if isinstance(node, cst.Integer):
            return node.value
        if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
            value = node.evaluated_value
            return value if isinstance(value, str) else None
        if isinstance(node, cst.Name):
            values = scope[node.value] if node.value in scope else self._module_constants().get(node.value)
            texts = {self._constant_text(v, {}, depth - 1) for v in values or []}
            return texts.pop() if len(texts) == 1 else None
        return None

    def _is_constant(self, name: str) -> bool:
        """A module-level or imported name: the same object wherever the key is built."""
        return name in self._module_constants() or name in self._imports.bindings


class _Returns(cst.CSTVisitor):
    def __init__(self) -> None:
        self.values: list[cst.BaseExpression] = []

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.values.append(node.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # a nested function's returns are not this one's


class _Assignments(cst.CSTVisitor):
    def __init__(self, table: Scope) -> None:
        self.table = table

    def visit_Assign(self, node: cst.Assign) -> None:
        _add_assignment(node, self.table)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        _add_assignment(node, self.table)

    def visit_For(self, node: cst.For) -> None:
        # ``for key in [...]: cache.delete(key)``: the loop variable is each element.
        if isinstance(node.target, cst.Name) and isinstance(node.iter, cst.List | cst.Tuple | cst.Set):
            values = [e.value for e in node.iter.elements if isinstance(e, cst.Element)]
            self.table.setdefault(node.target.value, []).extend(values)


def _add_assignment(node: cst.CSTNode, table: Scope) -> None:
    if isinstance(node, cst.Assign):
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                table.setdefault(target.target.value, []).append(node.value)
    elif isinstance(node, cst.AnnAssign) and node.value is not None and isinstance(node.target, cst.Name):
        table.setdefault(node.target.value, []).append(node.value)


def _is_string(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.SimpleString | cst.ConcatenatedString | cst.FormattedString)


def _fill(fields: re.Pattern[str], text: str, escapes: dict[str, str], pattern: bool) -> str:
    """A ``%``/``format`` template with its fields as holes."""
    if pattern:
        text = _GLOB.sub(HOLE, text)
    return _collapse(fields.sub(lambda m: escapes.get(m.group(0), HOLE), text))


def _collapse(skeleton: str) -> str:
    while HOLE * 2 in skeleton:
        skeleton = skeleton.replace(HOLE * 2, HOLE)
    return skeleton
