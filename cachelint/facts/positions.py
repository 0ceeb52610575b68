"""Node positions, computed only for files that produce a located fact.

libcst's ``MetadataWrapper`` deep-copies the module and resolves every provider for every node;
measured on real trees that costs about twice the parse. Most files yield no located fact at
all, so positions are computed lazily, at most once per file, by one codegen pass with libcst's
own position-tracking codegen state and no wrapper. This is the one place to optimize further.
"""

from __future__ import annotations

import libcst as cst
from libcst._position import CodeRange
from libcst.metadata.position_provider import PositionProvidingCodegenState

from cachelint.finding import Span


class _Sink:
    """Stands in for the metadata provider the codegen state writes into."""

    def __init__(self) -> None:
        self._computed: dict[cst.CSTNode, CodeRange] = {}


class Positions:
    def __init__(self, module: cst.Module) -> None:
        self._module = module
        self._ranges: dict[cst.CSTNode, CodeRange] | None = None

    def span(self, node: cst.CSTNode) -> Span:
        if self._ranges is None:
            sink = _Sink()
            state = PositionProvidingCodegenState(
                default_indent=self._module.default_indent,
                default_newline=self._module.default_newline,
                provider=sink,  # type: ignore[arg-type]
            )
            self._module._codegen(state)
            self._ranges = sink._computed
        code_range = self._ranges.get(node)
        if code_range is None:  # a node built by us, not parsed: no position
            return Span(1)
        start, end = code_range.start, code_range.end
        return Span(start.line, start.column + 1, end.line, end.column + 1)
