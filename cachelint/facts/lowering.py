"""Lowering libcst expressions and module statements to the picklable IR of ``values`` and
``settings`` (parse side only: this module needs libcst, the IR's consumers do not)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import libcst as cst

from cachelint.facts.names import ImportTable, dotted_name
from cachelint.facts.settings import SettingsFacts, Stmt
from cachelint.facts.values import IR
from cachelint.finding import Span

ENV_GETTERS = {"os.environ.get", "os.getenv", "decouple.config", "environ.get"}
ENV_CASTS = {"", "str", "bool", "int", "float"}
# An environment lookup without a default: it evaluates to UNKNOWN like ``("?",)``, but rules
# can tell from the IR that the value is the deployment's (CL308: a server from the environment).
ENV_WITHOUT_DEFAULT: IR = ("env", ("?",), "")
# Path joins (``os.path.join(BASE_DIR, "static")``, ``Path(BASE_DIR, "static")``): lowered to
# ("path", parts), which evaluates to UNKNOWN like ``("?",)``; CL501 reads the literal parts.
PATH_JOINS = frozenset({"os.path.join", "posixpath.join", "pathlib.Path", "pathlib.PurePath"})


def _is_env_call(callee: str | None) -> str | None:
    """Return the cast (``bool`` for ``env.bool``) if ``callee`` reads the environment."""
    if callee is None:
        return None
    if callee in ENV_GETTERS:
        return ""
    head, _, cast = callee.partition(".")
    # django-environ: env = environ.Env(); env("X", default=...), env.bool("X", default=...)
    if head == "env" and cast in ENV_CASTS:
        return cast
    return None


Resolve = Callable[[str | None], str | None]
Locate = Callable[[cst.CSTNode], Span]


def lower(node: cst.BaseExpression, resolve: Resolve, locate: Locate) -> IR:
    """Lower a libcst expression to IR.

    ``resolve`` maps dotted names through the import table; ``locate`` gives a node's span
    (dict keys keep theirs, so a finding can point at ``"OPTIONS"`` rather than at ``CACHES``).
    """
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return ("c", value) if isinstance(value, (str, bytes)) else ("?",)
    if isinstance(node, cst.Integer | cst.Float):
        return ("c", node.evaluated_value)
    if isinstance(node, cst.Name):
        if node.value in ("True", "False", "None"):
            return ("c", {"True": True, "False": False, "None": None}[node.value])
        return ("n", node.value)
    if isinstance(node, cst.UnaryOperation):
        operand = lower(node.expression, resolve, locate)
        if isinstance(node.operator, cst.Not):
            return ("not", operand)
        if isinstance(node.operator, cst.Minus) and operand[0] == "c":
            return ("c", -operand[1]) if isinstance(operand[1], int | float) else ("?",)
        return ("?",)
    if isinstance(node, cst.Dict):
        entries = []
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                key = element.key
                entries.append(
                    (lower(key, resolve, locate), lower(element.value, resolve, locate), locate(key))
                )
            else:  # **splat
                entries.append((None, lower(element.value, resolve, locate), None))
        return ("d", tuple(entries))
    if isinstance(node, cst.List | cst.Tuple | cst.Set):
        items = []
        spans = []
        for element in node.elements:
            if isinstance(element, cst.StarredElement):
                items.append(("*", lower(element.value, resolve, locate)))
                spans.append(None)
            else:
                items.append(lower(element.value, resolve, locate))
                spans.append(locate(element.value))
        kind = {cst.List: "list", cst.Tuple: "tuple", cst.Set: "set"}[type(node)]
        return ("l", tuple(items), kind, tuple(spans))
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        return ("+", lower(node.left, resolve, locate), lower(node.right, resolve, locate))
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide):
        # ``BASE_DIR / "static"``: a path join, kept so that rules can read its literal parts
        # (CL501 matches STATICFILES_DIRS with bundler output folders); it evaluates to UNKNOWN.
        return ("path", (lower(node.left, resolve, locate), lower(node.right, resolve, locate)))
    if isinstance(node, cst.Comparison) and len(node.comparisons) == 1:
        target = node.comparisons[0]
        op = {cst.Equal: "==", cst.NotEqual: "!=", cst.In: "in", cst.NotIn: "not in"}.get(
            type(target.operator)
        )
        if op:
            return ("cmp", op, lower(node.left, resolve, locate), lower(target.comparator, resolve, locate))
        return ("?",)
    if isinstance(node, cst.FormattedString):
        parts: list[IR] = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(("c", part.value))
            elif isinstance(part, cst.FormattedStringExpression) and part.format_spec is None:
                parts.append(lower(part.expression, resolve, locate) if part.conversion is None else ("?",))
            else:
                parts.append(("?",))
        return ("f", tuple(parts))
    if isinstance(node, cst.Subscript) and len(node.slice) == 1:
        if resolve(dotted_name(node.value)) == "os.environ":
            return ENV_WITHOUT_DEFAULT  # ``os.environ["REDIS_URL"]``
        index = node.slice[0].slice
        if isinstance(index, cst.Index):
            return ("[]", lower(node.value, resolve, locate), lower(index.value, resolve, locate))
        return ("?",)
    if isinstance(node, cst.Call):
        return _lower_call(node, resolve, locate)
    return ("?",)


def _lower_call(node: cst.Call, resolve: Resolve, locate: Locate) -> IR:
    raw = dotted_name(node.func)
    callee = resolve(raw)
    positional = [a.value for a in node.args if a.keyword is None and not a.star]
    keywords = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
    # ``env = environ.Env()`` binds ``env`` locally, so match the spelling as well.
    cast = _is_env_call(callee)
    if cast is None:
        cast = _is_env_call(raw)
    if cast is not None:
        default = keywords.get("default")
        if default is None and len(positional) > 1:
            default = positional[1]
        if default is None:
            return ENV_WITHOUT_DEFAULT  # unknown, but known to come from the environment
        cast_node = keywords.get("cast")
        if cast_node is not None:
            cast = dotted_name(cast_node) or "?"
        return ("env", lower(default, resolve, locate), cast)
    if callee in PATH_JOINS and positional and not keywords:
        return ("path", tuple(lower(a, resolve, locate) for a in positional))  # evaluates to UNKNOWN
    if callee == "dict" and not positional:
        entries = tuple(
            (("c", key), lower(value, resolve, locate), locate(value)) for key, value in keywords.items()
        )
        return ("d", entries)
    return ("?",)


def lower_module(module: cst.Module, imports: ImportTable, locate: Locate) -> SettingsFacts:
    resolve = imports.resolve
    assigned: set[str] = set()
    stars: list[str] = []
    schemas = _environ_schemas(module, resolve, locate)

    def lower_value(node: cst.BaseExpression) -> IR:
        """``env("DEBUG")`` takes its default from ``env = environ.Env(DEBUG=(bool, False))``."""
        if (
            isinstance(node, cst.Call)
            and node.args
            and (dotted_name(node.func) or "").split(".")[0] in schemas
        ):
            schema = schemas[(dotted_name(node.func) or "").split(".")[0]]
            name = node.args[0].value
            key = name.evaluated_value if isinstance(name, cst.SimpleString) else None
            if len(node.args) == 1 and key in schema:
                return schema[key]
        return lower(node, resolve, locate)

    def block(statements: Any) -> tuple[Stmt, ...]:
        out: list[Stmt] = []
        for statement in statements:
            out.extend(lower_statement(statement))
        return tuple(out)

    def body_of(node: Any) -> tuple[Stmt, ...]:
        return block(node.body.body) if isinstance(node.body, cst.IndentedBlock) else block([node.body])

    def lower_statement(node: cst.CSTNode) -> list[Stmt]:
        if isinstance(node, cst.SimpleStatementLine):
            return [s for small in node.body for s in lower_small(small)]
        if isinstance(node, cst.If):
            orelse: tuple[Stmt, ...] = ()
            if isinstance(node.orelse, cst.If):
                orelse = tuple(lower_statement(node.orelse))
            elif isinstance(node.orelse, cst.Else):
                orelse = body_of(node.orelse)
            return [("if", lower(node.test, resolve, locate), body_of(node), orelse)]
        if isinstance(node, cst.Try):
            handlers = tuple(s for h in node.handlers for s in body_of(h))
            tail = body_of(node.orelse) if node.orelse else ()
            final = body_of(node.finalbody) if node.finalbody else ()
            return [("try", body_of(node) + tail, handlers), *final]
        if isinstance(node, cst.FunctionDef | cst.ClassDef):
            return [("?", (node.name.value,))]
        if isinstance(node, cst.For | cst.With | cst.While):
            return [("?", tuple(_names_bound_in(node)))]
        return []

    def lower_small(node: cst.BaseSmallStatement) -> list[Stmt]:
        if isinstance(node, cst.Assign):
            value = lower_value(node.value)
            names: list[str] = []
            out: list[Stmt] = []
            for target in node.targets:
                t = target.target
                if isinstance(t, cst.Name):
                    names.append(t.value)
                elif isinstance(t, cst.Subscript):
                    path = _subscript_path(t, resolve, locate)
                    if path:
                        out.append(("[]=", path[0], path[1], value, locate(node)))
                elif isinstance(t, cst.Tuple | cst.List):
                    out.append(("?", tuple(_names_in_target(t))))
            if names:
                assigned.update(names)
                out.insert(0, ("=", tuple(names), value, locate(node)))
            return out
        if isinstance(node, cst.AnnAssign) and isinstance(node.target, cst.Name) and node.value:
            assigned.add(node.target.value)
            return [("=", (node.target.value,), lower(node.value, resolve, locate), locate(node))]
        if isinstance(node, cst.AugAssign) and isinstance(node.target, cst.Name):
            name = node.target.value
            if isinstance(node.operator, cst.AddAssign):
                return [("+=", name, lower(node.value, resolve, locate), locate(node))]
            return [("?", (name,))]
        if isinstance(node, cst.Expr) and isinstance(node.value, cst.Call):
            func = node.value.func
            if resolve(dotted_name(func)) in SPLIT_SETTINGS_INCLUDE:
                included = [module for module in _included_modules(node.value, imports) if module]
                stars.extend(included)
                return [("*", module) for module in included]
            if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
                args = tuple(lower(a.value, resolve, locate) for a in node.value.args)
                return [("call", func.value.value, func.attr.value, args, locate(node))]
            return []
        if isinstance(node, cst.ImportFrom):
            if isinstance(node.names, cst.ImportStar):
                # The import table already recorded the resolved module, in order.
                module = imports.star_imports[len(stars)]
                stars.append(module)
                return [("*", module)]
            return [("?", tuple(_alias_names(node.names)))]
        if isinstance(node, cst.Import):
            return [("?", tuple(_alias_names(node.names)))]
        return []

    statements = block(module.body)
    return SettingsFacts(statements, frozenset(assigned), tuple(stars))


def _alias_names(names: Any) -> list[str]:
    out = []
    for alias in names:
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            out.append(alias.asname.name.value)
        else:
            out.append((dotted_name(alias.name) or "").split(".")[0])
    return out


def _names_in_target(node: cst.BaseExpression) -> list[str]:
    if isinstance(node, cst.Name):
        return [node.value]
    if isinstance(node, cst.Tuple | cst.List):
        return [n for e in node.elements for n in _names_in_target(e.value)]
    return []


def _names_bound_in(node: cst.CSTNode) -> list[str]:
    names: list[str] = []

    class Collector(cst.CSTVisitor):
        def visit_AssignTarget(self, target: cst.AssignTarget) -> None:
            names.extend(_names_in_target(target.target))

    node.visit(Collector())
    if isinstance(node, cst.For):
        names.extend(_names_in_target(node.target))
    return names


def _subscript_path(node: cst.Subscript, resolve: Any, locate: Locate) -> tuple[str, tuple[IR, ...]] | None:
    """``CACHES["default"]["OPTIONS"]`` -> ("CACHES", (key irs...))."""
    keys: list[IR] = []
    current: cst.BaseExpression = node
    while isinstance(current, cst.Subscript):
        if len(current.slice) != 1 or not isinstance(current.slice[0].slice, cst.Index):
            return None
        keys.append(lower(current.slice[0].slice.value, resolve, locate))
        current = current.value
    if not isinstance(current, cst.Name):
        return None
    return current.value, tuple(reversed(keys))


SPLIT_SETTINGS_INCLUDE = frozenset({"split_settings.tools.include"})
SPLIT_SETTINGS_OPTIONAL = frozenset({"split_settings.tools.optional"})


def _included_modules(call: cst.Call, imports: ImportTable) -> list[str]:
    """django-split-settings' ``include("components/base.py", optional("local.py"))``: the files,
    relative to the including module's folder, run in order in its namespace, exactly like a
    chain of star imports. Glob patterns cannot be resolved statically and are skipped."""
    package = imports.module_name if imports.is_package else imports.module_name.rpartition(".")[0]
    modules = []
    for argument in call.args:
        value = argument.value
        if (
            isinstance(value, cst.Call)
            and imports.resolve(dotted_name(value.func)) in SPLIT_SETTINGS_OPTIONAL
        ):
            value = value.args[0].value if value.args else value
        path = value.evaluated_value if isinstance(value, cst.SimpleString) else None
        if not isinstance(path, str) or not path.endswith(".py") or any(c in path for c in "*?["):
            continue
        parts = [p for p in path[:-3].split("/") if p and p != "."]
        if ".." in parts:
            continue
        modules.append(".".join([package, *parts]) if package else ".".join(parts))
    return modules


ENVIRON_CLASSES = frozenset({"environ.Env", "environ.FileAwareEnv", "environ.environ.Env"})


def _environ_schemas(module: cst.Module, resolve: Resolve, locate: Locate) -> dict[str, dict[str, IR]]:
    """django-environ schemas declared at module level: ``env = environ.Env(DEBUG=(bool, False))``
    -> {"env": {"DEBUG": env IR with default False, cast bool}}."""
    schemas: dict[str, dict[str, IR]] = {}
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not (
                isinstance(small, cst.Assign)
                and len(small.targets) == 1
                and isinstance(small.value, cst.Call)
            ):
                continue
            target = small.targets[0].target
            if (
                not isinstance(target, cst.Name)
                or resolve(dotted_name(small.value.func)) not in ENVIRON_CLASSES
            ):
                continue
            schema: dict[str, IR] = {}
            for argument in small.value.args:
                value = argument.value
                if argument.keyword and isinstance(value, cst.Tuple) and len(value.elements) == 2:
                    cast = dotted_name(value.elements[0].value) or "?"
                    schema[argument.keyword.value] = (
                        "env",
                        lower(value.elements[1].value, resolve, locate),
                        cast,
                    )
            schemas[target.value] = schema
    return schemas
