"""Facts of one Python file: the picklable result of parsing it (see ``collector``).

This module imports no libcst, so a warm run that reads every fact from the result cache
never pays for importing the parser.
"""

from __future__ import annotations

from dataclasses import dataclass

from cachelint.facts.settings import SettingsFacts
from cachelint.facts.views import ViewFacts
from cachelint.finding import Span
from cachelint.suppressions import Suppression


@dataclass(frozen=True)
class PythonFacts:
    path: str
    module: str
    views: ViewFacts
    settings: SettingsFacts | None
    suppressions: tuple[Suppression, ...] = ()


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
