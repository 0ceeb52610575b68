"""A progress bar on stderr for scans that take more than a second, on a terminal only."""

from __future__ import annotations

import sys
import time
from typing import Any

from cachelint.engine import Progress

DELAY = 1.0  # seconds before a bar appears: quick scans stay silent


class TerminalProgress(Progress):
    def __init__(self) -> None:
        self._total = 0
        self._done = 0
        self._started = time.monotonic()
        self._bar: Any = None
        self._task: Any = None

    def add_total(self, count: int) -> None:
        self._total += count
        if self._bar is not None:
            self._bar.update(self._task, total=self._total)

    def advance(self) -> None:
        self._done += 1
        if self._bar is None and time.monotonic() - self._started > DELAY:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("parsing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("parse", total=self._total)
        if self._bar is not None:
            self._bar.update(self._task, completed=self._done)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def for_terminal(quiet: bool) -> Progress | None:
    """A TerminalProgress when stderr is a terminal and not ``--quiet``, else None."""
    if quiet or not sys.stderr.isatty():
        return None
    return TerminalProgress()
