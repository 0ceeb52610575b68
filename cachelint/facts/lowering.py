"""Lowering libcst expressions and module statements to the picklable IR of ``values`` and
``settings`` (parse side only: this module needs libcst, the IR's consumers do not)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import libcst as cst

from cachelint.facts.names import ImportTable, dotted_name, module_of
from cachelint.facts.settings import CONFIGURATION_BASES, ConfigClass, SettingsFacts, Stmt
from cachelint.facts.values import IR
from cachelint.finding import Span

# Environment lookups: "get" ones give None when the variable is unset and has no default,
# "required" ones fail (django-environ, python-decouple, environs).
ENV_GETTERS = {
    "os.environ.get": "get",
    "os.getenv": "get",
    "os.environ.setdefault": "get",
    "decouple.config": "required",
    "environ.get": "get",
}
ENV_CASTS = {"", "str", "bool", "int", "float", "list", "tuple", "dict", "json"}
# Cache URL parsers, and the variable each reads when none is named.
CACHE_URL_READERS = {"cache_url": "CACHE_URL", "cache": "CACHE_URL", "dj_cache_url": "CACHE_URL"}
DJANGO_CACHE_URL = {"django_cache_url.config", "django_cache_url.parse"}
# django-configurations' values: the cast each applies to its environment variable.
CONFIGURATION_VALUES = {
    "Value": "",
    "CharValue": "",
    "BooleanValue": "bool",
    "IntegerValue": "int",
    "PositiveIntegerValue": "int",
    "FloatValue": "float",
    "ListValue": "list",
    "TupleValue": "tuple",
    "SingleNestedTupleValue": "tuple",
    "SingleNestedListValue": "list",
    "SetValue": "list",
    "DictValue": "dict",
    "URLValue": "",
    "EmailValue": "",
    "PathValue": "",
    "RegexValue": "",
    "SecretValue": "",
}
# Path joins (``os.path.join(BASE_DIR, "static")``, ``Path(BASE_DIR, "static")``): lowered to
# ("path", parts), which evaluates to UNKNOWN like ``("?",)``; CL501 reads the literal parts.
PATH_JOINS = frozenset({"os.path.join", "posixpath.join", "pathlib.Path", "pathlib.PurePath"})


def _is_env_call(callee: str | None) -> str | None:
    """Return the cast (``bool`` for ``env.bool``) if ``callee`` reads the environment."""
    if callee is None:
        return None
    if callee in ENV_GETTERS:
        return ""
    if callee.startswith("os.environ.") or callee.startswith("environ.Env."):
        return None
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
        if resolve(node.value) == "django.VERSION":
            return ("djver",)
        return ("n", node.value)
    if isinstance(node, cst.Attribute):
        dotted = dotted_name(node)
        if dotted is not None and resolve(dotted) == "django.VERSION":
            return ("djver",)
        # ``Base.INSTALLED_APPS`` in a django-configurations class: the base class's setting.
        if dotted is not None and dotted.count(".") == 1 and node.attr.value.isupper():
            return ("n", dotted)
        return ("?",)
    if isinstance(node, cst.IfExp):
        return (
            "ifexp",
            lower(node.test, resolve, locate),
            lower(node.body, resolve, locate),
            lower(node.orelse, resolve, locate),
        )
    if isinstance(node, cst.BooleanOperation):
        op = "and" if isinstance(node.operator, cst.And) else "or"
        return (op, lower(node.left, resolve, locate), lower(node.right, resolve, locate))
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
        op = {
            cst.Equal: "==",
            cst.NotEqual: "!=",
            cst.In: "in",
            cst.NotIn: "not in",
            cst.LessThan: "<",
            cst.LessThanEqual: "<=",
            cst.GreaterThan: ">",
            cst.GreaterThanEqual: ">=",
            cst.Is: "is",
            cst.IsNot: "is not",
        }.get(type(target.operator))
        if (
            op in ("in", "not in")
            and isinstance(node.left, cst.SimpleString)
            and resolve(dotted_name(target.comparator)) == "os.environ"
        ):
            test = ("envset", node.left.evaluated_value)
            return test if op == "in" else ("not", test)
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
            key = node.slice[0].slice
            var = _literal_text(key.value) if isinstance(key, cst.Index) else None
            return ("env", None, "", var, "required")  # ``os.environ["REDIS_URL"]``
        index = node.slice[0].slice
        if isinstance(index, cst.Index):
            return ("[]", lower(node.value, resolve, locate), lower(index.value, resolve, locate))
        if isinstance(index, cst.Slice) and index.step is None:
            bounds = tuple(
                lower(b, resolve, locate) if b is not None else None for b in (index.lower, index.upper)
            )
            return ("[:]", lower(node.value, resolve, locate), *bounds)
        return ("?",)
    if isinstance(node, cst.Call):
        return _lower_call(node, resolve, locate)
    return ("?",)


def _literal_text(node: cst.BaseExpression | None) -> str | None:
    value = node.evaluated_value if isinstance(node, cst.SimpleString) else None
    return value if isinstance(value, str) else None


def _lower_call(node: cst.Call, resolve: Resolve, locate: Locate, target: str | None = None) -> IR:
    raw = dotted_name(node.func)
    callee = resolve(raw)
    positional = [a.value for a in node.args if a.keyword is None and not a.star]
    keywords = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
    url = _lower_cache_url(raw, callee, positional, keywords, resolve, locate)
    if url is not None:
        return url
    if callee is not None and callee.startswith("configurations.values."):
        return _lower_configuration_value(callee, positional, keywords, resolve, locate, target)
    # ``env = environ.Env()`` binds ``env`` locally, so match the spelling as well.
    cast = _is_env_call(callee)
    if cast is None:
        cast = _is_env_call(raw)
    if cast is not None:
        var = _literal_text(positional[0]) if positional else _literal_text(keywords.get("var"))
        kind = ENV_GETTERS.get(callee or "", ENV_GETTERS.get(raw or "", "required"))
        default = keywords.get("default")
        if default is None and len(positional) > 1:
            default = positional[1]
        cast_node = keywords.get("cast")
        if cast_node is not None:
            cast = dotted_name(cast_node) or "?"
        default_ir = lower(default, resolve, locate) if default is not None else None
        return ("env", default_ir, cast, var, kind)
    if callee in PATH_JOINS and positional and not keywords:
        return ("path", tuple(lower(a, resolve, locate) for a in positional))  # evaluates to UNKNOWN
    if callee == "dict" and not positional:
        entries = tuple(
            (("c", key), lower(value, resolve, locate), locate(value)) for key, value in keywords.items()
        )
        return ("d", entries)
    return ("?",)


def _lower_cache_url(
    raw: str | None, callee: str | None, positional: list, keywords: dict, resolve: Resolve, locate: Locate
) -> IR | None:
    """``env.cache_url("CACHE_URL", default="locmem://")``, ``env.cache()``, environs'
    ``env.dj_cache_url(...)``, ``django_cache_url.config(default=...)`` / ``.parse(url)``."""
    if callee in DJANGO_CACHE_URL:
        if callee.endswith(".parse"):
            return ("envurl", lower(positional[0], resolve, locate), None) if positional else ("?",)
        var = _literal_text(keywords.get("env")) or (_literal_text(positional[0]) if positional else None)
        default = keywords.get("default")
        if default is None and len(positional) > 1:
            default = positional[1]
        default_ir = lower(default, resolve, locate) if default is not None else ("c", "locmem://")
        return ("envurl", default_ir, var or "CACHE_URL")
    head, _, method = (raw or "").rpartition(".")
    if head.split(".")[-1] == "env" and method in CACHE_URL_READERS:
        var = _literal_text(positional[0]) if positional else _literal_text(keywords.get("var"))
        if positional and var is None:
            return ("?",)
        default = keywords.get("default")
        if default is None and len(positional) > 1:
            default = positional[1]
        default_ir = lower(default, resolve, locate) if default is not None else None
        return ("envurl", default_ir, var or CACHE_URL_READERS[method])
    return None


def _lower_configuration_value(
    callee: str, positional: list, keywords: dict, resolve: Resolve, locate: Locate, target: str | None
) -> IR:
    """``values.BooleanValue(False)``: the environment variable ``DJANGO_<NAME>`` (or
    ``environ_prefix``/``environ_name``), defaulting to the first argument."""
    name = callee.rsplit(".", 1)[-1]
    default = keywords.get("default", positional[0] if positional else None)
    default_ir = lower(default, resolve, locate) if default is not None else None
    environ = keywords.get("environ")
    if isinstance(environ, cst.Name) and environ.value == "False":
        return default_ir or ("?",)
    if name == "CacheURLValue":
        var = _literal_text(keywords.get("environ_name")) or "CACHE_URL"
        alias = _literal_text(keywords.get("alias")) or "default"
        return ("d", ((("c", alias), ("envurl", default_ir, var), None),))
    if name not in CONFIGURATION_VALUES:
        return ("?",)
    prefix_node = keywords.get("environ_prefix")
    prefix = "DJANGO" if prefix_node is None else (_literal_text(prefix_node) or "")
    var_name = _literal_text(keywords.get("environ_name")) or target
    var = (f"{prefix}_{var_name}" if prefix else var_name) if var_name else None
    return ("env", default_ir, CONFIGURATION_VALUES[name], var, "required")


def _single_return(node: cst.FunctionDef) -> cst.BaseExpression | None:
    """EXPR of ``def f(): return EXPR`` (a docstring allowed); None for anything else."""
    params = node.params
    if params.params or params.posonly_params or params.kwonly_params or node.decorators:
        return None
    if not isinstance(params.star_arg, cst.MaybeSentinel) or params.star_kwarg is not None:
        return None
    if node.asynchronous is not None or not isinstance(node.body, cst.IndentedBlock):
        return None
    statements = list(node.body.body)
    if (
        len(statements) == 2
        and isinstance(statements[0], cst.SimpleStatementLine)
        and len(statements[0].body) == 1
        and isinstance(statements[0].body[0], cst.Expr)
        and isinstance(statements[0].body[0].value, cst.SimpleString | cst.ConcatenatedString)
    ):
        statements = statements[1:]
    if len(statements) != 1 or not isinstance(statements[0], cst.SimpleStatementLine):
        return None
    only = statements[0].body
    if len(only) != 1 or not isinstance(only[0], cst.Return) or only[0].value is None:
        return None
    return only[0].value


def lower_module(module: cst.Module, imports: ImportTable, locate: Locate) -> SettingsFacts:
    resolve = imports.resolve
    assigned: set[str] = set()
    stars: list[str] = []
    classes: list[ConfigClass] = []
    schemas = _environ_schemas(module, resolve, locate)
    package = imports.module_name if imports.is_package else imports.module_name.rpartition(".")[0]
    uses_configurations = any(
        target == "configurations" or target.startswith("configurations.")
        for target in imports.bindings.values()
    )

    # Module-level functions without parameters whose body is one ``return EXPR``
    # (``CACHES = _parse_caches()``): the call is lowered as EXPR, read when it is called.
    returns_of: dict[str, cst.BaseExpression] = {}
    inlining: set[str] = set()

    def lower_value(node: cst.BaseExpression, target: str | None = None) -> IR:
        """``env("DEBUG")`` takes its default from ``env = environ.Env(DEBUG=(bool, False))``."""
        if (
            isinstance(node, cst.Call)
            and not node.args
            and isinstance(node.func, cst.Name)
            and node.func.value in returns_of
            and node.func.value not in inlining
        ):
            inlining.add(node.func.value)
            try:
                return lower_value(returns_of[node.func.value], target)
            finally:
                inlining.discard(node.func.value)
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
        if isinstance(node, cst.Call):
            return _lower_call(node, resolve, locate, target)
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
            catches_import = any(_catches_import(h, resolve) for h in node.handlers)
            return [("try", body_of(node) + tail, handlers, catches_import), *final]
        if isinstance(node, cst.ClassDef) and nesting == 0:
            config = lower_class(node)
            if config is not None:
                classes.append(config)
            return [("?", (node.name.value,))]
        if isinstance(node, cst.FunctionDef | cst.ClassDef):
            if isinstance(node, cst.FunctionDef) and nesting == 0:
                returned = _single_return(node)
                if returned is not None:
                    returns_of[node.name.value] = returned
                else:
                    returns_of.pop(node.name.value, None)
            return [("?", (node.name.value,))]
        if isinstance(node, cst.For | cst.With | cst.While):
            return [("?", tuple(_names_bound_in(node)))]
        return []

    def lower_small(node: cst.BaseSmallStatement) -> list[Stmt]:
        if isinstance(node, cst.Assign):
            first = node.targets[0].target if node.targets else None
            value = lower_value(node.value, first.value if isinstance(first, cst.Name) else None)
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
                # Python 2 read ``from base import *`` inside a package as the sibling module
                # first (implicit relative import).
                implicit = f"{package}.{module}" if package and not node.relative and "." not in module else None
                return [("*", module, implicit, locate(node))]
            source = module_of(node.module)
            return [("?", tuple(_alias_names(node.names)), (source,) if source else ())]
        if isinstance(node, cst.Import):
            modules = tuple(module_of(alias.name) for alias in node.names)
            return [("?", tuple(_alias_names(node.names)), modules)]
        return []

    nesting = 0

    def lower_class(node: cst.ClassDef) -> ConfigClass | None:
        """A module-level class that may be a django-configurations ``Configuration``: its
        bases (qualified) and its body as statements (decided when the project is joined)."""
        nonlocal nesting
        bases = tuple(resolve(dotted_name(arg.value)) or "" for arg in node.bases if arg.keyword is None)
        if not isinstance(node.body, cst.IndentedBlock) or not (bases or uses_configurations):
            return None  # a mixin without bases counts only beside django-configurations
        if not uses_configurations and not any(b in CONFIGURATION_BASES or "." in b for b in bases):
            return None
        nesting += 1
        before = set(assigned)
        try:
            body = block(node.body.body)
        finally:
            nesting -= 1
            if not uses_configurations:  # an ordinary class: its attributes are not settings
                assigned.intersection_update(before)
        return ConfigClass(node.name.value, bases, body, locate(node.name))

    statements = block(module.body)
    return SettingsFacts(statements, frozenset(assigned), tuple(stars), tuple(classes))


def _catches_import(handler: cst.ExceptHandler, resolve: Resolve) -> bool:
    """``except ImportError`` (or ModuleNotFoundError, Exception, a bare ``except``, a tuple)."""
    if handler.type is None:
        return True
    types = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type]
    for element in types:
        node = element.value if isinstance(element, cst.Element) else element
        name = (dotted_name(node) or "").rsplit(".", 1)[-1]
        if name in ("ImportError", "ModuleNotFoundError", "Exception", "BaseException"):
            return True
    return False


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
                        argument.keyword.value,
                        "required",
                    )
            schemas[target.value] = schema
    return schemas
