"""Node positions, computed only for files that produce a located fact.

libcst's ``PositionProvider`` (through ``MetadataWrapper``) deep-copies the module, then runs a
codegen that splits every token with a regex to track lines and columns: measured at about
1.5x the parse itself. Here the codegen tracks a plain character offset per node (a length
addition per token), and offsets become line/column by bisection only for the few nodes a
fact needs. The cost is close to plain codegen, paid at most once per file, and only by files
that ask for a position at all.

The start recorded is where the node's own code begins. For the nodes cachelint locates
(names, calls, strings, small statements) that is their syntactic start: the whitespace and
comments before them belong to their parents.
"""

from __future__ import annotations

import bisect
import contextlib
from dataclasses import dataclass, field

import libcst as cst
from libcst._nodes.internal import CodegenState

from cachelint.finding import Span, line_starts

_NO_OP = contextlib.nullcontext()


@dataclass
class _OffsetState(CodegenState):
    offset: int = 0
    ranges: dict[int, tuple[int, int]] = field(default_factory=dict)  # id(node) -> (start, end)
    _starts: list[int] = field(default_factory=list)

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        for token in self.indent_tokens:
            self.offset += len(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self.offset += len(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._starts.append(self.offset)

    def after_codegen(self, node: cst.CSTNode) -> None:
        self.ranges[id(node)] = (self._starts.pop(), self.offset)

    def record_syntactic_position(self, node: cst.CSTNode, **_: object) -> contextlib.nullcontext[None]:
        # The base class's @contextmanager generator per node costs a quarter of this pass;
        # offsets come from before/after_codegen already.
        return _NO_OP


class Positions:
    def __init__(self, module: cst.Module) -> None:
        self._module = module
        self._ranges: dict[int, tuple[int, int]] | None = None
        self._line_starts: list[int] = []

    def _compute(self) -> dict[int, tuple[int, int]]:
        state = _OffsetState(
            default_indent=self._module.default_indent, default_newline=self._module.default_newline
        )
        self._module._codegen(state)
        self._line_starts = line_starts("".join(state.tokens))
        return state.ranges

    def _line_col(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def span(self, node: cst.CSTNode) -> Span:
        if self._ranges is None:
            self._ranges = self._compute()
        found = self._ranges.get(id(node))
        if found is None:  # a node built by us, not parsed: no position
            return Span(1)
        start, end = found
        # Whitespace a node owns before its code (rare for located nodes) is skipped.
        line, col = self._line_col(start)
        end_line, end_col = self._line_col(max(start, end))
        return Span(line, col, end_line, end_col)
