#!/usr/bin/env python3
"""Where cachelint's cold time goes, by phase, without cProfile's distortion.

    .venv/bin/python bench/profile_phases.py /tmp/bench-work/corpus/wagtail

Runs ``cachelint.engine.check`` in-process (all rules, ``Config(cache=False, jobs=1)``) with a
few of cachelint's and libcst's functions wrapped by exclusive timers (a nested phase pauses
its parent), so each phase's time is its own: libcst parsing, position computation, code_for_node,
literal lowering, the visitor itself, settings lowering, template lexing and template facts,
suppression scans, reading and pre-filtering, discovery, join and rules. Then it measures what
parallel runs and the cache add: pickling the facts (the IPC of a worker pool) and loading /
saving the result cache, and which call site first asks for a position in each file.

cachelint's internals are patched at run time only; nothing is changed on disk. Being tied to
internal names, it may need updating when they change (a missing name is reported, not fatal).
"""

from __future__ import annotations

import collections
import importlib
import os
import pickle
import sys
import time
from pathlib import Path

_stack: list[list] = []  # [category, started_at]
totals: collections.Counter[str] = collections.Counter()
counts: collections.Counter[str] = collections.Counter()


def _enter(category: str) -> None:
    now = time.perf_counter()
    if _stack:
        parent = _stack[-1]
        totals[parent[0]] += now - parent[1]
    _stack.append([category, now])
    counts[category] += 1


def _leave() -> None:
    now = time.perf_counter()
    category, started = _stack.pop()
    totals[category] += now - started
    if _stack:
        _stack[-1][1] = now


def wrap(owner: object, name: str, category: str) -> None:
    original = getattr(owner, name, None)
    if original is None:
        print(f"note: {owner!r} has no {name}; phase {category!r} not separated", file=sys.stderr)
        return

    def wrapper(*args, **kwargs):
        _enter(category)
        try:
            return original(*args, **kwargs)
        finally:
            _leave()

    wrapper.__wrapped__ = original  # type: ignore[attr-defined]
    setattr(owner, name, wrapper)


def main() -> int:
    tree = Path(sys.argv[1]).resolve()
    started = time.perf_counter()
    import django.template.base as django_base
    import libcst

    import cachelint.discovery as discovery
    import cachelint.engine as engine
    import cachelint.facts.positions as positions
    import cachelint.facts.python as python
    import cachelint.facts.settings as settings
    import cachelint.facts.templates as templates
    from cachelint.config import Config
    from cachelint.registry import all_rules, select_rules

    try:  # the libcst visitor moved out of facts/python.py into facts/collector.py
        collector = importlib.import_module("cachelint.facts.collector")
    except ImportError:
        collector = python
    rules = select_rules(all_rules(), ["ALL"], [])
    imports = time.perf_counter() - started

    first_span_caller: collections.Counter[str] = collections.Counter()
    original_span = positions.Positions.span

    def span(self, node):  # which call site makes a file compute its positions
        if self._ranges is None:
            frame = sys._getframe(1)
            while frame and frame.f_code.co_name in ("span", "wrapper", "<lambda>"):
                frame = frame.f_back
            first_span_caller[frame.f_code.co_name if frame else "?"] += 1
            _enter("positions (codegen, once per file)")
            try:
                return original_span(self, node)
            finally:
                _leave()
        counts["span lookups"] += 1
        return original_span(self, node)

    positions.Positions.span = span

    wrap(engine._Parser, "parse", "_Parser.parse rest (I/O, pre-filter, glue)")
    wrap(libcst, "parse_module", "libcst.parse_module")
    wrap(libcst.Module, "visit", "visitor (libcst traversal + collectors)")
    if hasattr(collector, "walk"):  # cachelint's own read-only walker replaced libcst's visit
        wrap(collector, "walk", "visitor (walk + collectors)")
    wrap(libcst.Module, "code_for_node", "code_for_node")
    wrap(collector._Collector, "finish", "collector finish() (decorators, facts)")
    wrap(collector, "lower", "literal lowering/evaluation")
    wrap(collector, "evaluate", "literal lowering/evaluation")
    wrap(collector, "lower_module", "settings lowering")
    wrap(settings, "run_settings", "settings evaluation")
    wrap(templates, "parse_template", "template facts (excluding lexing)")
    wrap(django_base.DebugLexer, "tokenize", "template lexing (DebugLexer)")
    wrap(engine, "scan_suppressions", "suppression scan")
    wrap(engine, "_join", "join")
    wrap(engine, "run_rules", "rules")
    wrap(discovery.Classifier, "classify", "discovery: classify")
    collected: list[object] = []
    original_parse = engine._analyse

    def keep(task, data):
        result = original_parse(task, data)
        collected.append(result)
        return result

    engine._analyse = keep

    def timed_walk(*args, **kwargs):
        _enter("discovery: walk")
        try:
            return iter(list(walk(*args, **kwargs)))
        finally:
            _leave()

    walk = engine.walk
    engine.walk = timed_walk

    os.chdir(tree)
    _enter("other")
    begin = time.perf_counter()
    result = engine.check([Path(".")], Config(cache=False, jobs=1), rules)
    wall = time.perf_counter() - begin
    _leave()

    print(f"tree: {tree}")
    print(f"imports (libcst, django.template, cachelint, rules): {imports:.3f} s")
    print(f"check(): {wall:.2f} s wall, {len(result.findings)} findings, {len(result.errors)} errors")
    print()
    print(f"{'phase':<46} {'seconds':>8} {'share':>6} {'calls':>9}")
    for category, seconds in totals.most_common():
        print(f"{category:<46} {seconds:8.2f} {seconds / wall:6.1%} {counts[category]:9d}")
    print(f"{'(position lookups after the first per file)':<46} {'':>8} {'':>6} {counts['span lookups']:9d}")
    print()
    kinds = collections.Counter(type(r).__name__ for r in collected)
    print("parse results:", dict(kinds))
    print("first position request per file, by caller:", dict(first_span_caller.most_common()))

    # The pool below pickles engine._analyse by name: put the unwrapped function back.
    engine._analyse, engine.walk = getattr(original_parse, "__wrapped__", original_parse), walk

    # What a worker pool adds: each result is pickled in the worker and unpickled in the parent.
    payload = [r for r in collected if r is not None]
    begin = time.perf_counter()
    blobs = [pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL) for r in payload]
    dump = time.perf_counter() - begin
    begin = time.perf_counter()
    for blob in blobs:
        pickle.loads(blob)
    load = time.perf_counter() - begin
    size = sum(map(len, blobs))
    print(
        f"pickling facts (IPC of the pool, per result): dumps {dump:.3f} s, loads {load:.3f} s, {size / 1e6:.1f} MB"
    )

    # The result cache: one pickle of every entry.
    from cachelint.cache import ResultCache

    try:
        engine.check([Path(".")], Config(cache=True, jobs=0), rules)  # fill it
        begin = time.perf_counter()
        ResultCache(tree, f"max_file_size={Config().max_file_size}")
        print(f"result cache load (ResultCache()): {time.perf_counter() - begin:.3f} s")
        cache_files = sorted((tree / ".cachelint_cache").glob("*"))
        print("cache files:", ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in cache_files))
        begin = time.perf_counter()
        engine.check([Path(".")], Config(cache=True, jobs=0), rules)
        print(f"warm check() in-process (imports already done): {time.perf_counter() - begin:.3f} s")
    except Exception as error:  # the cache API changes more often than the rest
        print(f"cache measurement skipped: {type(error).__name__}: {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
