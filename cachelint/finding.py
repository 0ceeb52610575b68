"""The value objects every stage shares: positions and findings."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, order=True)
class Span:
    """A region inside one file: 1-based lines and columns, end exclusive like SARIF's endColumn."""

    line: int
    col: int = 1
    end_line: int = 0
    end_col: int = 0

    def __post_init__(self) -> None:
        if self.end_line < self.line:
            object.__setattr__(self, "end_line", self.line)
        if self.end_line == self.line and self.end_col < self.col:
            object.__setattr__(self, "end_col", self.col)


@dataclass(frozen=True, order=True)
class Location:
    """A span in a file; ``path`` is relative to the working directory (``../`` outside it), with
    forward slashes."""

    path: str
    span: Span = Span(1)

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def col(self) -> int:
        return self.span.col

    def __str__(self) -> str:
        return f"{self.path}:{self.span.line}:{self.span.col}"


@dataclass(frozen=True, order=True)
class Evidence:
    """A location that backs a finding, with a short label such as "login required here"."""

    location: Location
    label: str


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    location: Location
    hint: str | None = None
    related: tuple[Evidence, ...] = field(default=())

    @property
    def sort_key(self) -> tuple:
        return (self.location.path, self.location.span, self.code, self.message)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def line_starts(text: str) -> list[int]:
    """Offsets where each line starts, breaking lines exactly where Python does (\\r\\n, \\r, \\n;
    unlike str.splitlines, not at form feeds or Unicode separators)."""
    return [0, *(match.end() for match in _LINE_BREAK.finditer(text))]


def split_lines(text: str) -> list[str]:
    return _LINE_BREAK.split(text)
