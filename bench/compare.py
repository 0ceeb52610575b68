#!/usr/bin/env python3
"""Before/after timings of cachelint revisions, each run from an installed wheel with bytecode.

    python bench/compare.py --rev main --rev HEAD [--repeat 5] [--scenarios fixed,trees,big,precommit]

For each revision: ``git archive`` of the revision, ``pip wheel`` of it, installed with its
dependencies into its own virtualenv under ``WORK/wheels/<rev>/`` (pip compiles every module to
``.pyc`` on install; ``compileall`` is run again to be sure). So what is measured is what a user
gets from ``pip install``, never an editable install without bytecode.

Scenarios, interleaved (every revision and peer once per repetition, so that background load on
a shared machine hits all alike); medians reported, with ratios against peers of the same run:

- ``fixed``: ``cachelint check --no-cache`` on an empty directory and on one small ``views.py``,
  next to ``python -c "import libcst"`` and ``python -c pass`` of the same interpreter;
- ``trees``: cold (``--no-cache``) and warm on every corpus tree, next to ``ruff check --select
  ALL --no-cache``;
- ``big``: the wagtail tree copied N times into one project (``--copies``, default 1,5,10):
  cold, warm and peak RSS, and with ``precommit``: ``cachelint check F1 F2 F3`` with a warm cache
  after 3 files changed (a comment appended to 2 .py files and one template, restored after).

Needs the corpus of bench/run.py (``python bench/run.py --corpus-only``).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402  (bench/run.py: measure(), the lock, the corpus)

SMALL_VIEWS = b'''from django.views.decorators.cache import cache_page
from django.shortcuts import render


@cache_page(60)
def index(request):
    return render(request, "index.html", {"user": request.user})
'''


def install(rev: str, work: Path) -> tuple[str, Path]:
    """A virtualenv with the wheel of ``rev`` installed (bytecode compiled); (short sha, bin)."""
    sha = subprocess.run(
        ["git", "-C", str(bench.REPO), "rev-parse", "--short", rev], capture_output=True, text=True, check=True
    ).stdout.strip()
    base = work / "wheels" / sha
    bindir = base / "venv" / "bin"
    if (bindir / "cachelint").exists() and (base / "ok").exists():
        return sha, bindir
    shutil.rmtree(base, ignore_errors=True)
    (base / "src").mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(bench.REPO), "archive", "--format=tar", sha], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tf:
        tf.extractall(base / "src", filter="data")
    bench.log(f"{rev} ({sha}): building and installing the wheel")
    subprocess.run([sys.executable, "-m", "venv", str(base / "venv")], check=True)
    pip = [str(bindir / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(base / "dist"), str(base / "src")], check=True)
    wheel = next((base / "dist").glob("*.whl"))
    subprocess.run([*pip, "install", str(wheel)], check=True)
    subprocess.run([str(bindir / "python"), "-m", "compileall", "-q", str(base / "venv" / "lib")], check=False)
    (base / "ok").write_text(str(wheel.name))
    return sha, bindir


def make_big(work: Path, copies: int) -> Path:
    """The wagtail tree copied ``copies`` times into one project, as packages app0, app1..."""
    source = work / "corpus" / "wagtail" / "wagtail"
    tree = work / "big" / f"wagtail-x{copies}"
    if (tree / "ok").exists():
        return tree
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    (tree / "pyproject.toml").write_text("")
    for index in range(copies):
        shutil.copytree(source, tree / f"app{index}")
    (tree / "ok").write_text("")
    return tree


def clear_cache(tree: Path) -> None:
    shutil.rmtree(tree / ".cachelint_cache", ignore_errors=True)


def median(samples: list, attr: str = "wall") -> float:
    return statistics.median(getattr(s, attr) for s in samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", action="append", required=True, help="a git revision (repeatable)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scenarios", default="fixed,trees,big,precommit")
    parser.add_argument("--trees", help="corpus trees (default: all)")
    parser.add_argument("--copies", default="1,5,10", help="sizes of the big tree (wagtail copies)")
    parser.add_argument("--work", type=Path, default=bench.DEFAULT_WORK)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    work = args.work.resolve()
    scenarios = set(args.scenarios.split(","))
    lock = bench.read_lock()
    peers = bench.ensure_peers(work, lock.peers)
    ruff = [str(peers / "ruff"), "check", "--select", "ALL", "--no-cache", "."]
    revs = [install(rev, work) for rev in args.rev]
    out: list[str] = []

    def emit(line: str = "") -> None:
        print(line, flush=True)
        out.append(line)

    load = []
    emit(f"Revisions: {', '.join(f'{r} = {sha}' for r, (sha, _) in zip(args.rev, revs))}; installed wheels "
         f"with .pyc, each in its own virtualenv; {args.repeat} repetitions, interleaved; medians.")
    emit(f"Machine: {os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.2f}")
    emit()

    if "fixed" in scenarios:
        empty = work / "fixed" / "empty"
        small = work / "fixed" / "small"
        for d in (empty, small):
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir(parents=True)
            (d / "pyproject.toml").write_text("")
        (small / "views.py").write_bytes(SMALL_VIEWS)
        py = str(revs[0][1] / "python")
        rows: dict[str, list] = {}
        for _rep in range(args.repeat):
            load.append(os.getloadavg()[0])
            rows.setdefault("python -c pass", []).append(bench.measure([py, "-c", "pass"], empty, ok=(0,)))
            rows.setdefault('python -c "import libcst"', []).append(
                bench.measure([py, "-c", "import libcst"], empty, ok=(0,))
            )
            for sha, bindir in revs:
                for name, d in (("empty dir", empty), ("one small views.py", small)):
                    rows.setdefault(f"{sha}: {name}", []).append(
                        bench.measure([str(bindir / "cachelint"), "check", ".", "--no-cache"], d)
                    )
        libcst = median(rows['python -c "import libcst"'])
        libcst_cpu = median(rows['python -c "import libcst"'], "cpu")
        emit("## Fixed cost (`cachelint check . --no-cache`)")
        emit()
        emit("| command | median wall s | minus `import libcst`, wall (target <= 0.15 s) | median CPU s | minus `import libcst`, CPU |")
        emit("|---|--:|--:|--:|--:|")
        for name, samples in rows.items():
            delta = median(samples) - libcst
            cpu = median(samples, "cpu")
            emit(f"| {name} | {median(samples):.3f} | {delta:+.3f} | {cpu:.3f} | {cpu - libcst_cpu:+.3f} |")
        emit()

    if "trees" in scenarios:
        names = args.trees.split(",") if args.trees else [p.tree for p in lock.packages]
        emit("## Corpus trees: cold (`--no-cache`) and warm, against `ruff check --select ALL --no-cache`")
        emit()
        emit("Wall seconds, then CPU seconds (user + system, all processes) in brackets; ratios of the medians.")
        emit()
        header = "| tree | ruff ALL | " + " | ".join(
            f"{sha} cold | {sha} cold/ruff wall [CPU] (<= 2) | {sha} warm" for sha, _ in revs
        ) + " |"
        emit(header)
        emit("|---|--:|" + "--:|--:|--:|" * len(revs))
        for name in names:
            # A private copy: other runs (a developer's, another benchmark) may use the corpus
            # trees and their caches meanwhile.
            tree = work / "compare-corpus" / name
            if not (tree / ".copied").exists():
                shutil.rmtree(tree, ignore_errors=True)
                shutil.copytree(work / "corpus" / name, tree, ignore=shutil.ignore_patterns(".cachelint_cache"))
                (tree / ".copied").write_text("")
            samples: dict[str, list] = {}
            for sha, bindir in revs:
                clear_cache(tree)
                bench.measure([str(bindir / "cachelint"), "check", "."], tree)  # fills the cache
                shutil.rmtree(work / f"cache-{sha}-{name}", ignore_errors=True)
                # each revision's cache lives in its own directory: move it aside meanwhile
                os.replace(tree / ".cachelint_cache", work / f"cache-{sha}-{name}")
            for _rep in range(args.repeat):
                samples.setdefault("ruff", []).append(bench.measure(ruff, tree))
                for sha, bindir in revs:
                    cmd = [str(bindir / "cachelint"), "check", "."]
                    samples.setdefault(f"{sha} cold", []).append(bench.measure([*cmd, "--no-cache"], tree))
                    os.replace(work / f"cache-{sha}-{name}", tree / ".cachelint_cache")
                    samples.setdefault(f"{sha} warm", []).append(bench.measure(cmd, tree))
                    os.replace(tree / ".cachelint_cache", work / f"cache-{sha}-{name}")
            for sha, _ in revs:
                shutil.rmtree(work / f"cache-{sha}-{name}", ignore_errors=True)
            r, rc = median(samples["ruff"]), median(samples["ruff"], "cpu")
            cells = []
            for sha, _ in revs:
                cold, cc = median(samples[f"{sha} cold"]), median(samples[f"{sha} cold"], "cpu")
                warm = samples[f"{sha} warm"]
                cells.append(
                    f"{cold:.3f} [{cc:.2f}] | {cold / r:.2f}x [{cc / rc:.2f}x] | "
                    f"{median(warm):.3f} [{median(warm, 'cpu'):.2f}]"
                )
            emit(f"| {name} | {r:.3f} [{rc:.2f}] | " + " | ".join(cells) + " |")
        emit()

    if "big" in scenarios or "precommit" in scenarios:
        emit("## wagtail copied N times into one project")
        emit()
        emit("| copies | files | rev | cold s | cold CPU s | cold RSS MB | warm s [CPU] | warm RSS MB | 3 files passed, warm s [CPU] | ruff ALL s [CPU] |")
        emit("|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|")
        for copies in [int(c) for c in args.copies.split(",")]:
            tree = make_big(work, copies)
            nfiles = sum(len(files) for _, _, files in os.walk(tree))
            changed = [tree / "app0" / "admin" / "views" / "pages" / "edit.py",
                       tree / "app0" / "models" / "__init__.py",
                       tree / "app0" / "admin" / "templates" / "wagtailadmin" / "base.html"]
            originals = {p: p.read_bytes() for p in changed}
            rows = {}
            try:
                for _rep in range(args.repeat if copies == max(int(c) for c in args.copies.split(",")) else 1):
                    rows.setdefault("ruff", []).append(bench.measure(ruff, tree))
                    for sha, bindir in revs:
                        cmd = [str(bindir / "cachelint"), "check", "."]
                        clear_cache(tree)
                        rows.setdefault(f"{sha} cold", []).append(bench.measure([*cmd, "--no-cache"], tree))
                        bench.measure(cmd, tree)  # fills the cache
                        rows.setdefault(f"{sha} warm", []).append(bench.measure(cmd, tree))
                        if "precommit" in scenarios:
                            for p in changed:
                                p.write_bytes(originals[p] + (b"\n# touched\n" if p.suffix == ".py" else b"\n"))
                            pre = [str(bindir / "cachelint"), "check", *[str(p.relative_to(tree)) for p in changed]]
                            rows.setdefault(f"{sha} pre", []).append(bench.measure(pre, tree))
                            for p in changed:
                                p.write_bytes(originals[p])
                        clear_cache(tree)
            finally:
                for p, data in originals.items():
                    p.write_bytes(data)
            for sha, _ in revs:
                pre = (
                    f"{median(rows[f'{sha} pre']):.3f} [{median(rows[f'{sha} pre'], 'cpu'):.2f}]"
                    if f"{sha} pre" in rows
                    else "-"
                )
                emit(f"| {copies} | {nfiles} | {sha} | {median(rows[f'{sha} cold']):.3f} | "
                     f"{median(rows[f'{sha} cold'], 'cpu'):.2f} | {median(rows[f'{sha} cold'], 'rss_mb'):.0f} "
                     f"[{median(rows[f'{sha} cold'], 'tree_rss_mb'):.0f}] | "
                     f"{median(rows[f'{sha} warm']):.3f} [{median(rows[f'{sha} warm'], 'cpu'):.2f}] | "
                     f"{median(rows[f'{sha} warm'], 'rss_mb'):.0f} | {pre} | "
                     f"{median(rows['ruff']):.3f} [{median(rows['ruff'], 'cpu'):.2f}] |")
        emit()
        emit("RSS: largest single process (getrusage/time -v); in brackets the summed PSS of the process tree.")
        emit()
    emit(f"Load average (1 min) per repetition: {', '.join(f'{x:.1f}' for x in load) or '-'}; "
         f"at the end {os.getloadavg()[0]:.2f}")
    if args.output:
        args.output.write_text("\n".join(out) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
