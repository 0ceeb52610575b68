"""The progress bar: only on a terminal, only after a second, never with --quiet."""

from __future__ import annotations

import io

from cachelint import progress


def test_no_bar_when_quiet_or_not_a_terminal(monkeypatch):
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert progress.for_terminal(quiet=False) is None
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    assert progress.for_terminal(quiet=True) is None
    assert isinstance(progress.for_terminal(quiet=False), progress.TerminalProgress)


def test_bar_appears_only_after_the_delay(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(progress, "DELAY", 1.0)
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    bar = progress.TerminalProgress()  # started at 0.0
    bar.add_total(3)
    now[0] = 0.5
    bar.advance()  # still silent
    assert bar._bar is None
    now[0] = 2.0
    bar.advance()  # the bar starts
    assert bar._bar is not None
    bar.advance()
    bar.stop()
