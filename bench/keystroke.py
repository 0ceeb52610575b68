#!/usr/bin/env python3
"""How long the language server takes to re-check after a keystroke, on the benchmark corpus.

    python bench/keystroke.py [--work DIR] [--trees NAMES] [--repeat N]

Not a test. For each tree of the corpus (built by ``python bench/run.py --corpus-only``), in
process, as ``cachelint server`` does: load the project into a warm model (``WarmTree``, the
first check), then edit an open buffer in memory and re-check, ``--repeat`` times, for

- a Python file: of median size among those that pass the byte pre-filter (so it is re-parsed),
  as bench/run.py picks it; the edit appends a line, alternately with and without it;
- a template: the one the most other templates extend (a base template: the edit changes what
  every page that extends it renders), the edit appends an HTML comment.

Reported: the first (cold) check, and per keystroke the median wall and CPU time and the worst
re-check, with the parse of the changed buffer alone beside it (the rest is the join, demand
rounds, rules and filters; on a loaded machine the CPU time is the one to read); and whether
the quick re-check found exactly what an exact one finds (after the last edit, and once the
edit is undone, what the first check found). Nothing is written to the corpus (buffers live in
memory; no result cache).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))  # the checkout's cachelint, when run from it
DEFAULT_WORK = Path(os.environ.get("CACHELINT_BENCH_WORK", "/tmp/bench-work"))
EXTENDS = re.compile(rb"""\{%\s*extends\s+["']([^"']+)["']""")


def python_target(project) -> Path | None:
    from cachelint.engine import may_matter

    candidates = sorted(
        (s.path for s in project.sources if s.kind == "python" and may_matter(s.path.read_bytes())),
        key=lambda p: (p.stat().st_size, p),
    )
    return candidates[len(candidates) // 2] if candidates else None


def template_target(project) -> Path | None:
    counts: dict[str, int] = {}
    names = {s.template_name: s.path for s in project.sources if s.kind == "template"}
    for source in project.sources:
        if source.kind == "template":
            for name in EXTENDS.findall(source.path.read_bytes()):
                name = name.decode("utf-8", "replace")
                if name in names:
                    counts[name] = counts.get(name, 0) + 1
    if not counts:
        return None
    best = max(sorted(counts), key=lambda n: counts[n])
    return names[best]


def keystrokes(project, buffers, path: Path, addition: bytes, repeat: int) -> dict:
    from cachelint.engine import facts_from_bytes

    source = next(s for s in project.sources if s.path == path)
    original = path.read_bytes()
    buffers[path] = original
    project.forget(path)
    project.check()  # opened
    times, cpu_times, parse_times, parsed = [], [], [], []
    quick = None
    for index in range(repeat):
        text = original + addition if index % 2 == 0 else original
        buffers[path] = text
        project.forget(path)
        cpu = time.process_time()
        check = quick = project.check(exact=False)  # as after a keystroke (the server's debounced re-check)
        cpu_times.append(time.process_time() - cpu)
        times.append(check.seconds)
        parsed.append(check.parsed)
        start = time.perf_counter()
        facts_from_bytes(source, text, project.config, project.rules, False)
        parse_times.append(time.perf_counter() - start)
    # The quick check (the modules parsed on demand kept from the last check) finds what an
    # exact one (demand rounds from nothing, as `cachelint check`) finds for the same buffer.
    same = quick is not None and project.check(exact=True).findings == quick.findings
    del buffers[path]
    project.forget(path)
    return {
        "same": same,
        "file": path.relative_to(project.root).as_posix(),
        "bytes": len(original),
        "median": statistics.median(times),
        "cpu": statistics.median(cpu_times),
        "max": max(times),
        "parse": statistics.median(parse_times),
        "parsed": max(parsed),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--trees", help="comma-separated tree names (default: every tree of the corpus)")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    from cachelint.server.model import WarmTree

    corpus = args.work / "corpus"
    trees = args.trees.split(",") if args.trees else sorted(p.name for p in corpus.iterdir() if p.is_dir())
    rows = []
    for name in trees:
        tree = (corpus / name).resolve()
        os.chdir(tree)  # an editor starts the server in the workspace folder
        buffers: dict[Path, bytes] = {}
        start = time.perf_counter()
        warm = WarmTree(tree, buffers, disk_cache=False)
        project = max(warm.projects, key=lambda p: len(p.sources))  # a tree of several: the largest
        first = project.check()
        cold = time.perf_counter() - start
        findings = sum(len(f) for f in first.findings.values())
        first_findings = first.findings
        for kind, target, addition in (
            ("python", python_target(project), b"\nx_cachelint_bench = 1\n"),
            ("template", template_target(project), b"\n<!-- cachelint bench -->\n"),
        ):
            if target is None:
                continue
            row = keystrokes(project, buffers, target, addition, args.repeat)
            row.update(tree=name, kind=kind, sources=len(project.sources), cold=cold, findings=findings)
            row["same"] = row["same"] and project.check(exact=False).findings == first_findings
            rows.append(row)
            print(
                f"{name:20} {kind:8} {row['file'][:60]:60} median {row['median'] * 1000:6.1f} ms"
                f" (CPU {row['cpu'] * 1000:6.1f} ms)"
                f"  max {row['max'] * 1000:6.1f} ms  (parse of the buffer {row['parse'] * 1000:5.1f} ms)",
                flush=True,
            )
    print()
    print(
        "| tree | files | first check | changed file | bytes | re-check median | CPU median | worst "
        "| parse of the buffer | findings | same as exact |"
    )
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        print(
            f"| {row['tree']} | {row['sources']} | {row['cold']:.2f} s | {row['kind']}: `{row['file']}` | "
            f"{row['bytes']} | {row['median'] * 1000:.1f} ms | {row['cpu'] * 1000:.1f} ms | {row['max'] * 1000:.1f} ms | "
            f"{row['parse'] * 1000:.1f} ms | {row['findings']} | {'yes' if row['same'] else 'NO'} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
