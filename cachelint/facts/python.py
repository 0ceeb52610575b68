"""Facts of one Python file: the picklable result of parsing it (see ``collector``).

This module imports no libcst, so a warm run that reads every fact from the result cache
never pays for importing the parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cachelint.facts.settings import SettingsFacts
from cachelint.facts.views import ViewFacts
from cachelint.finding import Span
from cachelint.suppressions import Suppression


@dataclass(frozen=True)
class RedisClient:
    """``redis.from_url(settings.REDIS_URL)`` in project code: its own Redis client on the URL
    a setting holds (CL304 compares it with the caches' databases)."""

    setting: str
    span: Span
    callee: str


@dataclass(frozen=True)
class PythonFacts:
    path: str
    module: str
    views: ViewFacts
    settings: SettingsFacts | None
    suppressions: tuple[Suppression, ...] = ()
    digest: str = ""  # content_digest of the bytes these facts come from: --fix checks it
    redis_clients: tuple[RedisClient, ...] = ()


@dataclass(frozen=True)
class SkippedModule:
    """A Python file the byte pre-filter found nothing in: not parsed, but what it imports is
    kept, so that it is parsed after all when it imports something a rule follows (a cache alias
    such as ``@cache_day``, a project decorator applying ``cache_page`` or, for CL106, login).

    The names are one newline-separated string: most runs never look at them, and a warm run
    unpickles one per file of the project (a string is several times cheaper than a set)."""

    imports: str
    # Whether a class statement may list more than one base: only such a class can put a mixin
    # after a view in its MRO (CL111), so only such a module is worth parsing for that.
    multiple_bases: bool = True
    # Whether the text names ``dispatch`` (a mixin may wrap it): parsed only when a class that
    # may put it after a view can reach it (CL111's demand).
    names_dispatch: bool = True
    # Whether it has a star import: a settings module when it star-imports one (prod.py:
    # ``from .base import *``), parsed on demand then.
    star_imports: bool = True

    def imported(self) -> set[str]:
        return set(self.imports.split("\n"))


# One pass over the file finds both kinds of import statement (group 1-3: ``from``; group 4:
# ``import``); most skipped files are never asked what they import, so this is all they cost.
_IMPORTS = re.compile(
    rb"^[ \t]*(?:from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]*(\([^)]*\)|[^\n#;]*)|import[ \t]+([\w. \t,]+))",
    re.M,
)
_WORD = re.compile(rb"[\w.]+")
_CLASS_WITH_BASES = re.compile(rb"^[ \t]*class[ \t]+\w+[ \t]*\(", re.M)
# A base list without nested brackets; one with them (``six.with_metaclass(A, B)``) is not
# matched, and so counts as having several bases.
_SIMPLE_BASES = re.compile(rb"^[ \t]*class[ \t]+\w+[ \t]*\(([^()\[\]]*)\)", re.M)


def _names_dispatch(source: bytes) -> bool:
    """Defines ``dispatch`` or names it as a string (``method_decorator(..., name="dispatch")``);
    ``django.dispatch`` signals do not count."""
    return b"def dispatch" in source or b'dispatch"' in source or b"dispatch'" in source


def _multiple_bases(source: bytes) -> bool:
    """Could a class statement of ``source`` have two bases or more? (A comment or keyword in
    the list may say yes where the answer is no: then the module is parsed, as before.)"""
    headers = len(_CLASS_WITH_BASES.findall(source))
    simple = _SIMPLE_BASES.findall(source)
    return len(simple) < headers or any(b"," in bases for bases in simple)


def skipped_module(source: bytes, module: str, is_package: bool) -> SkippedModule:
    """The modules ``source`` imports, and each name it imports from them as a module too
    (``from app import caching``); from the text, so an import inside a string may count."""
    if b"import" not in source:
        return SkippedModule("", _multiple_bases(source), _names_dispatch(source), False)
    found: set[str] = set()
    for dots, name, names, plain in _IMPORTS.findall(source):
        if plain:
            found.update(w.decode("ascii", "replace") for w in _WORD.findall(plain) if w != b"as")
            continue
        base = absolute_module(name.decode("ascii", "replace"), len(dots), module, is_package)
        found.add(base)
        for word in _WORD.findall(names):
            if word != b"as":
                found.add(
                    f"{base}.{word.decode('ascii', 'replace')}" if base else word.decode("ascii", "replace")
                )
    return SkippedModule(
        "\n".join(sorted(found)), _multiple_bases(source), _names_dispatch(source), b"import *" in source
    )


def absolute_module(module: str, level: int, current_module: str, is_package: bool) -> str:
    """Resolve ``from ..x import y`` against the importing module's dotted name."""
    if level == 0:
        return module
    package = current_module if is_package else current_module.rpartition(".")[0]
    for _ in range(level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{module}" if module and package else (module or package)


class ParseError(Exception):
    """The file could not be parsed; ``span`` locates the problem when known."""

    def __init__(self, reason: str, span: Span = Span(1)) -> None:
        super().__init__(reason)
        self.reason = reason
        self.span = span


def parse_python(source: bytes, path: str, module: str, is_package: bool, settings_like: bool) -> PythonFacts:
    """One libcst parse and one traversal of ``source``; raises ParseError."""
    from cachelint.facts.collector import collect

    return collect(source, path, module, is_package, settings_like)
