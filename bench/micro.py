#!/usr/bin/env python3
"""Micro-benchmarks of single pipeline stages, for before/after comparisons of one defect each.

    python bench/micro.py --rev main --rev HEAD [--repeat 5]

Each revision runs from its installed wheel (see bench/compare.py); each stage is timed in a
fresh interpreter of that revision's virtualenv, CPU time of the stage itself (process_time),
median of ``--repeat`` runs, revisions interleaved. Stages:

- ``report-text`` / ``report-text-color`` / ``report-json``: 6,000 findings (600 files x 10, with
  related evidence and quoted source lines) written by the text reporter without colors (a pipe,
  CI, pre-commit), with colors (a terminal), and by the JSON reporter, to /dev/null;
- ``targets``: keeping the findings of 5,000 paths passed by name (pre-commit on a large change);
- ``discover``: walking and classifying the wagtail tree copied 10 times;
- ``skipped``: import lists of every .py file of the django and wagtail trees.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare  # noqa: E402
import run as bench  # noqa: E402

STAGE = r'''
import os, sys, time
from pathlib import Path
stage, work = sys.argv[1], Path(sys.argv[2])

def findings_tree():
    from cachelint.finding import Evidence, Finding, Location, Severity, Span
    tree = work / "micro" / "report"
    if not tree.exists():
        for i in range(600):
            (tree / f"app{i}").mkdir(parents=True, exist_ok=True)
            (tree / f"app{i}" / "views.py").write_text("".join(f"line {n} = cache_page(60)\n" for n in range(40)))
    os.chdir(tree)
    out = []
    for i in range(600):
        for n in range(10):
            loc = Location(f"app{i}/views.py", Span(3 * n + 2, 1, 3 * n + 2, 10))
            out.append(Finding("CL101", Severity.ERROR, f"message {n} [not markup]", loc,
                               related=(Evidence(Location(f"app{i}/views.py", Span(1)), "evidence"),),
                               hint="do something"))
    return out

if stage.startswith("report"):
    from cachelint.registry import all_rules
    from cachelint.reporters import write_report
    rules = all_rules()
    findings = findings_tree()
    with open(os.devnull, "w") as sink:
        start = time.process_time()
        fmt = "json" if stage == "report-json" else "text"
        write_report(fmt, findings, rules, sink, color=stage == "report-text-color")
        print(time.process_time() - start)
elif stage == "targets":
    from cachelint import engine
    from cachelint.finding import Finding, Location, Severity, Span
    tree = work / "micro" / "targets"
    if not tree.exists():
        for i in range(5000):
            (tree / f"d{i % 50}").mkdir(parents=True, exist_ok=True)
            (tree / f"d{i % 50}" / f"m{i}.py").write_text("")
    os.chdir(tree)
    paths = [tree / f"d{i % 50}" / f"m{i}.py" for i in range(5000)]
    findings = [Finding("CL101", Severity.ERROR, "m", Location(f"d{i % 50}/m{i}.py", Span(1))) for i in range(0, 10000, 2)]
    start = time.process_time()
    wanted = engine._Targets(paths)
    kept = [f for f in findings if f.location.path in wanted]
    print(time.process_time() - start)
elif stage == "discover":
    from cachelint.discovery import Classifier, walk
    root = work / "big" / "wagtail-x10"
    os.chdir(root)
    start = time.process_time()
    classifier = Classifier(root)
    sources = [s for s in (classifier.classify(p) for p in walk(root)) if s is not None]
    print(time.process_time() - start)
elif stage == "skipped":
    from cachelint.facts.python import skipped_module
    data = []
    for name in ("django", "wagtail"):
        for d, _, files in os.walk(work / "corpus" / name):
            data += [open(os.path.join(d, f), "rb").read() for f in files if f.endswith(".py")]
    start = time.process_time()
    for b in data:
        skipped_module(b, "x.y", False)
    print(time.process_time() - start)
'''

STAGES = ("report-text", "report-text-color", "report-json", "targets", "discover", "skipped")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", action="append", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--work", type=Path, default=bench.DEFAULT_WORK)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    work = args.work.resolve()
    revs = [compare.install(rev, work) for rev in args.rev]
    compare.make_big(work, 10)
    stages = args.stages.split(",")
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.repeat):
        for stage in stages:
            for sha, bindir in revs:
                out = subprocess.run(
                    [str(bindir / "python"), "-c", STAGE, stage, str(work)],
                    capture_output=True, text=True, check=True,
                ).stdout
                times.setdefault((stage, sha), []).append(float(out.split()[-1]))
    lines = [
        f"Stage CPU seconds (process_time), median of {args.repeat}; installed wheels of "
        + ", ".join(f"{r} = {sha}" for r, (sha, _) in zip(args.rev, revs)),
        "",
        "| stage | " + " | ".join(sha for sha, _ in revs) + " |",
        "|---|" + "--:|" * len(revs),
    ]
    for stage in stages:
        lines.append(
            f"| {stage} | " + " | ".join(f"{statistics.median(times[(stage, sha)]):.3f}" for sha, _ in revs) + " |"
        )
    lines.append("")
    lines.append(f"Load average at the end: {os.getloadavg()[0]:.2f}")
    text = "\n".join(lines)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
