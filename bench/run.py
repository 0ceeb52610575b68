#!/usr/bin/env python3
"""cachelint benchmark: a pinned corpus of real Django code, timed side by side with its peers.

    .venv/bin/python bench/run.py [--repeat N] [--trees NAMES] [--quick] [--snapshot | --rev REV]

1. builds the corpus named in ``bench/corpus.lock`` (``pip download --no-deps`` with the
   recorded sha256, checked again after download, unpacked under the work directory);
2. creates (or reuses) a separate virtualenv with the peers, bandit and ruff, at the versions
   pinned in the lock;
3. times, per tree and per repetition, interleaved: cachelint cold (``--no-cache``), ruff
   ``check --select ALL --no-cache``, ``bandit -r``, cachelint warm (cache filled, nothing
   changed) and cachelint after one .py file changed (a comment appended); plus
   ``cachelint --version``;
4. checks that the byte pre-filter, the parallel workers and the result cache lose no finding:
   in-process runs compared with a plain parse-everything mode (``PYTHON_TOKENS`` patched to
   ``(b"",)``, ``Config(cache=False, jobs=1)``);
5. prints a Markdown report and writes it to ``bench/results.md``.

Standard library only. Run it with the interpreter cachelint is installed in.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import hashlib
import io
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
LOCK = BENCH / "corpus.lock"
RESULTS = BENCH / "results.md"
DEFAULT_WORK = Path(os.environ.get("CACHELINT_BENCH_WORK", "/tmp/bench-work"))
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
QUICK_TREES = ("djangorestframework", "mezzanine")
TOUCH_MARK = b"\n# cachelint-bench: touched, run %d\n"
TEMPLATE_SUFFIXES = (".html", ".htm", ".txt", ".xml")

# Targets from the performance issue (2 cores, cold, whole tree).
TARGET_VS_RUFF = 2.0  # cachelint cold <= 2x ruff --select ALL
TARGET_VS_BANDIT = 1 / 7  # cachelint cold <= 1/7 of bandit -r
TARGET_WARM = 0.3  # s
TARGET_TOUCHED = 0.5  # s
TARGET_RSS_MB = 250
TARGET_VERSION = 0.15  # s


# --------------------------------------------------------------------------------------------
# The lock file


@dataclass
class Package:
    name: str
    requested: str
    version: str
    filename: str
    sha256: str
    tree: str
    note: str = ""


@dataclass
class Lock:
    packages: list[Package]
    peers: dict[str, str]


def read_lock(path: Path = LOCK) -> Lock:
    import tomllib  # Python 3.11+

    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return Lock([Package(**p) for p in data["package"]], dict(data.get("peers", {})))


def write_lock(lock: Lock, path: Path = LOCK) -> None:
    lines = [
        "# Pinned benchmark corpus for bench/run.py: one archive per package, as on PyPI.",
        "# `requested` is the version the benchmark asks for; `version` is what is pinned (the nearest",
        "# available one when the requested version is not on the index, explained in `note`).",
        "# The sha256 is passed to pip (--require-hashes) and checked again after download.",
        "# Regenerate with: python bench/run.py --update-lock",
        "",
    ]
    for p in lock.packages:
        lines.append("[[package]]")
        for key, value in asdict(p).items():
            if key != "note" or value:
                lines.append(f"{key} = {json.dumps(value)}")
        lines.append("")
    lines.append("# The peers, installed into their own virtualenv under the work directory.")
    lines.append("[peers]")
    lines.extend(f"{name} = {json.dumps(version)}" for name, version in lock.peers.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# The peers' virtualenv and the corpus


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def ensure_peers(work: Path, peers: dict[str, str]) -> Path:
    """A virtualenv with bandit and ruff at the pinned versions; returns its bin directory."""
    venv = work / "venv"
    bindir = venv / "bin"
    wanted = " ".join(f"{name}=={version}" for name, version in sorted(peers.items()))
    stamp = venv / ".bench-peers"
    if stamp.is_file() and stamp.read_text().strip() == wanted and all((bindir / n).exists() for n in peers):
        return bindir
    if not (bindir / "python").exists():
        log(f"creating the peers' virtualenv {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    log(f"installing {wanted}")
    subprocess.run(
        [
            str(bindir / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *wanted.split(),
        ],
        check=True,
    )
    stamp.write_text(wanted + "\n")
    return bindir


def _pip(bindir: Path) -> list[str]:
    return [str(bindir / "python"), "-m", "pip", "--disable-pip-version-check"]


def download(package: Package, dl: Path, bindir: Path) -> Path:
    """The archive of ``package`` in ``dl``, downloaded if needed, its sha256 verified."""
    archive = dl / package.filename
    if archive.is_file() and sha256_of(archive) == package.sha256:
        return archive
    dl.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        requirements = Path(scratch) / "requirements.txt"
        requirements.write_text(f"{package.name}=={package.version} --hash=sha256:{package.sha256}\n")
        log(f"downloading {package.name} {package.version}")
        try:
            subprocess.run(
                [
                    *_pip(bindir),
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--require-hashes",
                    "-r",
                    str(requirements),
                    "-d",
                    scratch,
                ],
                check=True,
            )
        except subprocess.CalledProcessError:
            raise SystemExit(
                f"bench: pip could not download {package.name}=={package.version} with sha256 "
                f"{package.sha256} (a hash mismatch is reported by pip above)"
            ) from None
        got = Path(scratch) / package.filename
        if not got.is_file():
            found = sorted(p.name for p in Path(scratch).iterdir() if p.name != requirements.name)
            raise SystemExit(f"bench: pip downloaded {found}, the lock expects {package.filename}")
        shutil.move(str(got), archive)
    actual = sha256_of(archive)
    if actual != package.sha256:
        archive.unlink()
        raise SystemExit(f"bench: sha256 mismatch for {package.filename}: {actual} != {package.sha256}")
    return archive


def unpack(package: Package, archive: Path, corpus: Path) -> Path:
    """The package's files under ``corpus/<tree>`` (metadata dirs dropped), made a project root."""
    tree = corpus / package.tree
    stamp = tree / ".bench-source"
    if stamp.is_file() and stamp.read_text().strip() == package.sha256:
        return tree
    log(f"unpacking {archive.name}")
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    if archive.name.endswith(".whl") or archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(tree)
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(tree, filter="data")
        entries = list(tree.iterdir())
        if len(entries) == 1 and entries[0].is_dir():  # an sdist's name-version/ folder
            inner = entries[0]
            for child in inner.iterdir():
                child.rename(tree / child.name)
            inner.rmdir()
    for meta in list(tree.glob("*.dist-info")) + list(tree.glob("*.egg-info")):
        shutil.rmtree(meta)
    # A project marker, so cachelint's root (and cache directory) is the tree itself; it has no
    # [tool.*] table, so every tool runs with its defaults. (An sdist brings its own.)
    marker = tree / "pyproject.toml"
    if not marker.exists():
        marker.write_text(f'[project]\nname = "bench-{package.tree}"\nversion = "0"\n')
    stamp.write_text(package.sha256 + "\n")
    return tree


def _version_key(text: str) -> tuple[int, ...] | None:
    if not re.fullmatch(r"\d+(\.\d+)*", text):
        return None  # pre-releases and odd versions are never picked
    return tuple(int(part) for part in text.split("."))


def nearest_version(requested: str, available: list[str]) -> str | None:
    """The highest available version <= requested, else the lowest one above it."""
    want = _version_key(requested)
    keyed = sorted((k, v) for v in available if (k := _version_key(v)) is not None)
    if not keyed or want is None:
        return None
    below = [v for k, v in keyed if k <= want]
    return below[-1] if below else keyed[0][1]


def update_lock(lock: Lock, bindir: Path, dl: Path) -> Lock:
    """Resolve each package's requested version (or the nearest available) and record its hash."""
    dl.mkdir(parents=True, exist_ok=True)
    packages = []
    for p in lock.packages:
        version, note = p.requested, ""
        with tempfile.TemporaryDirectory() as scratch:
            attempt = subprocess.run(
                [*_pip(bindir), "download", "--quiet", "--no-deps", f"{p.name}=={version}", "-d", scratch],
                capture_output=True,
                text=True,
            )
            if attempt.returncode != 0:
                listing = subprocess.run(
                    [*_pip(bindir), "index", "versions", p.name], capture_output=True, text=True
                ).stdout
                match = re.search(r"Available versions: (.*)", listing)
                nearest = nearest_version(p.requested, match.group(1).split(", ") if match else [])
                if nearest is None:
                    raise SystemExit(f"bench: no version of {p.name} found on the index")
                version, note = nearest, f"{p.requested} is not on the index; nearest available is {nearest}"
                log(f"{p.name}: {note}")
                subprocess.run(
                    [
                        *_pip(bindir),
                        "download",
                        "--quiet",
                        "--no-deps",
                        f"{p.name}=={version}",
                        "-d",
                        scratch,
                    ],
                    check=True,
                )
            (got,) = Path(scratch).iterdir()
            archive = dl / got.name
            shutil.move(str(got), archive)
        packages.append(Package(p.name, p.requested, version, archive.name, sha256_of(archive), p.tree, note))
        log(f"locked {p.name} {version}: {archive.name}")
    return Lock(packages, lock.peers)


# --------------------------------------------------------------------------------------------
# Measuring one command


@dataclass
class Sample:
    wall: float  # s, perf_counter around the process
    cpu: float  # s, user + system of the process and its children
    rss_mb: float  # MB, peak RSS of the largest single process (getrusage / time -v)
    tree_rss_mb: float  # MB, peak of the summed PSS of the whole process tree (sampled /proc)
    returncode: int


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _descendants(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as stream:
                    children = [int(c) for c in stream.read().split()]
                found.extend(children)
                stack.extend(children)
        except OSError:
            continue
    return found


def _pss_bytes(pid: int) -> int:
    """Proportional set size: shared pages (a forked worker's copy-on-write memory) counted
    once across the processes that share them; RSS where smaps_rollup is missing."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as stream:
            for line in stream:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    try:
        with open(f"/proc/{pid}/statm") as stream:
            return int(stream.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


class _TreeSampler(threading.Thread):
    """Polls the summed PSS of a process's descendants (the wrapper ``time`` itself excluded)."""

    def __init__(self, pid: int, include_root: bool, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.pid, self.include_root, self.interval = pid, include_root, interval
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        if not os.path.isdir("/proc"):
            return
        while not self.done.is_set():
            pids = _descendants(self.pid) + ([self.pid] if self.include_root else [])
            self.peak = max(self.peak, sum(_pss_bytes(p) for p in pids))
            self.done.wait(self.interval)


def measure(cmd: list[str], cwd: Path, ok: tuple[int, ...] = (0, 1)) -> Sample:
    import resource

    with tempfile.NamedTemporaryFile("r", suffix=".time") as report, tempfile.TemporaryFile("w+") as err:
        full = [TIME, "-v", "-o", report.name, *cmd] if TIME else cmd
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.Popen(
            full, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
        )
        sampler = _TreeSampler(proc.pid, include_root=TIME is None)
        sampler.start()
        proc.wait()
        wall = time.perf_counter() - start
        sampler.done.set()
        sampler.join()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        rss_kb = after.ru_maxrss  # without time(1): the largest child so far, an upper bound
        code = proc.returncode
        if TIME:
            text = report.read()
            fields = dict(re.findall(r"^\s*(.+?): (\S+)$", text, re.M))
            rss_kb = int(fields.get("Maximum resident set size (kbytes)", 0))
            cpu = float(fields.get("User time (seconds)", 0)) + float(fields.get("System time (seconds)", 0))
            code = int(fields.get("Exit status", code))
        if code not in ok:
            err.seek(0)
            log(f"warning: `{shlex.join(cmd)}` exited {code}: {err.read()[-500:]}")
    rss_mb = rss_kb / 1024
    return Sample(wall, cpu, rss_mb, sampler.peak / 2**20, code)


# --------------------------------------------------------------------------------------------
# The benchmark


@dataclass
class TreeInfo:
    name: str
    package: str
    version: str
    py_files: int
    py_mb: float
    templates: int
    touched: str


@dataclass
class TreeResult:
    info: TreeInfo
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    load: list[float] = field(default_factory=list)  # 1-minute load average before each repetition


def prefilter_tokens() -> tuple[bytes, ...]:
    """cachelint's byte pre-filter (the code measured, snapshot or not), so that the changed file
    is one cachelint really re-parses; a stand-in if the internals moved."""
    try:
        from cachelint.engine import PYTHON_TOKENS

        return tuple(PYTHON_TOKENS)
    except (ImportError, AttributeError):
        return (b"cache",)


def _is_test_code(relative: Path) -> bool:
    """What cachelint's discovery skips as test code by default; a stand-in if it moved."""
    try:
        from cachelint.discovery import TEST_DIRS, is_test_file
    except ImportError:
        return "tests" in relative.parts
    return is_test_file(relative.name) or any(part in TEST_DIRS for part in relative.parts[:-1])


def survey(tree: Path, package: Package, tokens: tuple[bytes, ...]) -> TreeInfo:
    py, size, templates = [], 0, 0
    for directory, dirs, files in os.walk(tree):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(directory, name)
            if name.endswith(".py"):
                py.append(path)
                size += path.stat().st_size
            elif name.endswith(TEMPLATE_SUFFIXES) and "templates" in path.relative_to(tree).parts:
                templates += 1
    # The file to change: one that cachelint scans (not test code) and whose bytes pass its
    # pre-filter (so it is re-parsed), of median size.
    candidates = sorted(
        (
            p
            for p in py
            if not _is_test_code(p.relative_to(tree)) and any(t in p.read_bytes() for t in tokens)
        ),
        key=lambda p: (p.stat().st_size, p),
    )
    candidates = candidates or sorted(py, key=lambda p: (p.stat().st_size, p))
    touched = candidates[len(candidates) // 2].relative_to(tree).as_posix() if candidates else ""
    return TreeInfo(package.tree, package.name, package.version, len(py), size / 1e6, templates, touched)


def _backup_path(tree: Path) -> Path:
    return tree.parent / f".{tree.name}.touched-backup.json"


def restore_touched(tree: Path) -> None:
    """Undo an interrupted run's edit of the touched file (its bytes and mtime)."""
    backup = _backup_path(tree)
    if backup.is_file():
        record = json.loads(backup.read_text())
        path = tree / record["path"]
        path.write_bytes(bytes.fromhex(record["data"]))
        os.utime(path, ns=(record["mtime_ns"], record["mtime_ns"]))
        backup.unlink()


def bench_tree(tree: Path, info: TreeInfo, tools: dict[str, list[str]], repeat: int) -> TreeResult:
    result = TreeResult(info)
    cachelint, ruff, bandit = tools["cachelint"], tools["ruff"], tools["bandit"]
    commands = {
        "cold": [*cachelint, "check", ".", "--no-cache"],
        "ruff": [*ruff, "check", "--select", "ALL", "--no-cache", "."],
        "bandit": [*bandit, "-r", "."],
    }
    cached = [*cachelint, "check", "."]
    shutil.rmtree(tree / ".cachelint_cache", ignore_errors=True)
    log(f"{info.name}: first cached run (cold + cache write)")
    result.samples["prime"] = [measure(cached, tree)]
    touched = tree / info.touched
    original, mtime = touched.read_bytes(), touched.stat().st_mtime_ns
    _backup_path(tree).write_text(
        json.dumps({"path": info.touched, "data": original.hex(), "mtime_ns": mtime})
    )
    try:
        for rep in range(1, repeat + 1):
            result.load.append(os.getloadavg()[0])
            for name, cmd in commands.items():
                log(f"{info.name}: run {rep}/{repeat}: {name}")
                result.samples.setdefault(name, []).append(measure(cmd, tree))
            log(f"{info.name}: run {rep}/{repeat}: warm, touched")
            result.samples.setdefault("warm", []).append(measure(cached, tree))
            touched.write_bytes(original + TOUCH_MARK % rep)
            result.samples.setdefault("touched", []).append(measure(cached, tree))
    finally:
        restore_touched(tree)
    return result


def time_version(tools: dict[str, list[str]], repeat: int) -> dict[str, list[Sample]]:
    runs = max(10, repeat)
    out: dict[str, list[Sample]] = {"cachelint --version": [], "python -c pass": []}
    cwd = Path(tempfile.gettempdir())
    for _ in range(runs):
        out["cachelint --version"].append(measure([*tools["cachelint"], "--version"], cwd, ok=(0,)))
        out["python -c pass"].append(measure([sys.executable, "-c", "pass"], cwd, ok=(0,)))
    return out


# --------------------------------------------------------------------------------------------
# No loss of findings


def noloss_child(tree: Path) -> dict:
    """Runs in a subprocess: the same tree checked normally, from the cache, and parsing everything."""
    import cachelint.engine as engine
    from cachelint.config import Config
    from cachelint.registry import all_rules, select_rules

    every_rule = select_rules(all_rules(), ["ALL"], [])
    default_rules = select_rules(all_rules(), None, [])
    os.chdir(tree)
    prefiltered = 0
    for path in Path(".").rglob("*.py"):
        data = path.read_bytes()
        prefiltered += engine.may_matter(data)

    def run(config: Config, rules: dict = every_rule) -> tuple[list[tuple[str, str, int]], float, int]:
        start = time.perf_counter()
        result = engine.check([Path(".")], config, rules)
        keys = sorted((f.code, f.location.path, f.location.line) for f in result.findings)
        return keys, time.perf_counter() - start, len(result.errors)

    shutil.rmtree(".cachelint_cache", ignore_errors=True)
    normal, normal_time, normal_errors = run(Config(cache=False))  # default jobs: all cores
    run(Config(cache=True))  # fills the cache
    warm, _, _ = run(Config(cache=True))
    # The default rules pre-filter more narrowly (no opt-in rule widens it): checked too, against
    # the parse-everything findings of those rules (each rule's findings do not depend on the others).
    default, _, _ = run(Config(cache=False), default_rules)
    shutil.rmtree(".cachelint_cache", ignore_errors=True)
    engine.PYTHON_TOKENS = (b"",)  # every file contains b"": every file is parsed
    plain, plain_time, plain_errors = run(Config(cache=False, jobs=1))

    def diff(a: list, b: list) -> list:
        return sorted((collections.Counter(a) - collections.Counter(b)).elements())

    return {
        "prefiltered": prefiltered,
        "normal": len(normal),
        "warm": len(warm),
        "plain": len(plain),
        "lost": diff(plain, normal),  # found when parsing everything, missed by the normal run
        "extra": diff(normal, plain),
        "warm_lost": diff(plain, warm),
        "warm_extra": diff(warm, plain),
        "default_lost": diff([k for k in plain if k[0] in default_rules], default),
        "default_extra": diff(default, [k for k in plain if k[0] in default_rules]),
        "normal_time": normal_time,
        "plain_time": plain_time,
        "errors": [normal_errors, plain_errors],
    }


NOLOSS_PYTHON = sys.executable  # the interpreter of the cachelint measured (a wheel's venv with --rev)


def noloss(tree: Path) -> dict:
    proc = subprocess.run(
        [NOLOSS_PYTHON, str(Path(__file__).resolve()), "--_noloss", str(tree)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        log(f"warning: no-loss check failed on {tree.name}: {proc.stderr[-1000:]}")
        return {"failed": proc.stderr.strip().splitlines()[-1:] or ["?"]}
    return json.loads(proc.stdout)


# --------------------------------------------------------------------------------------------
# The report


def med(samples: list[Sample], attr: str = "wall") -> float:
    return statistics.median(getattr(s, attr) for s in samples)


def fmt_s(seconds: float) -> str:
    return f"{seconds:.3f}" if seconds < 1 else f"{seconds:.2f}" if seconds < 10 else f"{seconds:.1f}"


def ok(flag: bool) -> str:
    return "PASS" if flag else "FAIL"


def _shown_path(path: Path) -> str:
    try:
        return path.absolute().relative_to(REPO).as_posix()
    except ValueError:
        return path.name


def machine_info(tools: dict[str, list[str]]) -> dict[str, str]:
    def out(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"

    cpu = "?"
    try:
        cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text()).group(1)
    except (OSError, AttributeError):
        pass
    mem = "?"
    try:
        kb = int(re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{kb / 2**20:.1f} GiB"
    except (OSError, AttributeError):
        pass
    commit = out(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = out(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no", "--", "cachelint"])
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": out(["nproc"]) or str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "os": platform.platform(),
        # The interpreter's path relative to the repository (a local path says nothing to readers).
        "python": platform.python_version() + f" ({_shown_path(Path(sys.executable))})",
        "cachelint": out([*tools["cachelint"], "--version"])
        + f", commit {commit}"
        + (" + uncommitted changes in cachelint/" if dirty else ""),
        "ruff": out([*tools["ruff"], "--version"]),
        "bandit": out([*tools["bandit"], "--version"]).splitlines()[0] if tools["bandit"] else "?",
        "time": f"{TIME} -v" if TIME else "resource.getrusage(RUSAGE_CHILDREN)",
    }


def report(
    command: str,
    machine: dict[str, str],
    repeat: int,
    results: list[TreeResult],
    versions: dict[str, list[Sample]],
    losses: dict[str, dict],
    load_end: float,
) -> str:
    lines = [
        "# cachelint benchmark results",
        "",
        f"Command: `{command}`  ",
        f"Date: {machine['date']}  ",
        f"Machine: {machine['nproc']} cores ({machine['cpu']}), {machine['memory']}, {machine['os']}  ",
        f"Python: {machine['python']}  ",
        f"Tools: {machine['cachelint']}; {machine['ruff']}; {machine['bandit']}  ",
        f"Measured with: {machine['time']} (CPU, largest-process RSS) and time.perf_counter (wall); "
        f"{repeat} repetition(s), medians; load average (1 min) per repetition shown per tree, "
        f"{load_end:.2f} at the end.",
        "",
        "Commands, run inside each tree: cachelint cold `cachelint check . --no-cache`; warm and "
        "changed `cachelint check .` (cache filled by a first run; changed = one comment line "
        "appended to the file named below before the run); ruff `ruff check --select ALL "
        "--no-cache .`; bandit `bandit -r .`. Output goes to /dev/null.",
        "",
        "## Wall time: median seconds (fastest run in brackets) and ratios of the medians",
        "",
        "| tree | .py files | .py MB | templates | cachelint cold | ruff ALL | bandit | cold / ruff "
        f"(≤ {TARGET_VS_RUFF:g}) | cold / bandit (≤ {TARGET_VS_BANDIT:.3f}) | warm (< {TARGET_WARM:g} s) | "
        f"1 file changed (< {TARGET_TOUCHED:g} s) | load avg |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]

    def cell(samples: list[Sample]) -> str:
        return f"{fmt_s(med(samples))} ({fmt_s(min(x.wall for x in samples))})"

    for r in results:
        s, i = r.samples, r.info
        cold, ruff, bandit = med(s["cold"]), med(s["ruff"]), med(s["bandit"])
        warm, touched = med(s["warm"]), med(s["touched"])
        loads = "/".join(f"{x:.1f}" for x in r.load)
        lines.append(
            f"| {i.name} {i.version} | {i.py_files} | {i.py_mb:.1f} | {i.templates} | {cell(s['cold'])} | "
            f"{cell(s['ruff'])} | {cell(s['bandit'])} | {cold / ruff:.1f}x {ok(cold / ruff <= TARGET_VS_RUFF)} | "
            f"{cold / bandit:.3f} {ok(cold / bandit <= TARGET_VS_BANDIT)} | {cell(s['warm'])} "
            f"{ok(warm < TARGET_WARM)} | {cell(s['touched'])} {ok(touched < TARGET_TOUCHED)} | {loads} |"
        )
    lines += [
        "",
        "## CPU time (median user+system seconds, all processes) — less sensitive to other load",
        "",
        "| tree | cachelint cold | ruff ALL | bandit | cold / ruff | cold / bandit | warm | 1 file changed "
        "| first cached run (cold + cache write, 1 run) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        s = r.samples
        cold, ruff, bandit = med(s["cold"], "cpu"), med(s["ruff"], "cpu"), med(s["bandit"], "cpu")
        lines.append(
            f"| {r.info.name} | {fmt_s(cold)} | {fmt_s(ruff)} | {fmt_s(bandit)} | {cold / ruff:.1f}x | "
            f"{cold / bandit:.3f} | {fmt_s(med(s['warm'], 'cpu'))} | {fmt_s(med(s['touched'], 'cpu'))} | "
            f"{fmt_s(s['prime'][0].wall)} wall, {fmt_s(s['prime'][0].cpu)} CPU |"
        )
    lines += [
        "",
        "## Throughput (.py files per wall second) and peak RSS (median MB)",
        "",
        "RSS: the largest single process (what `time -v` reports); in brackets the peak of the summed "
        "PSS of the whole process tree (cachelint's workers included; pages shared after fork counted "
        "once), sampled from /proc every 20 ms (a run shorter than that may show 0).",
        "",
        "| tree | cachelint cold files/s | ruff files/s | bandit files/s | cachelint cold RSS | "
        "cachelint warm RSS | cachelint changed RSS | ruff RSS | bandit RSS |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]

    def rss(samples: list[Sample]) -> str:
        return f"{med(samples, 'rss_mb'):.0f} [{med(samples, 'tree_rss_mb'):.0f}]"

    for r in results:
        s, n = r.samples, r.info.py_files
        lines.append(
            f"| {r.info.name} | {n / med(s['cold']):.0f} | {n / med(s['ruff']):.0f} | "
            f"{n / med(s['bandit']):.0f} | {rss(s['cold'])} | {rss(s['warm'])} | {rss(s['touched'])} | "
            f"{rss(s['ruff'])} | {rss(s['bandit'])} |"
        )
    lines += [
        "",
        "Changed file per tree: " + "; ".join(f"{r.info.name}: `{r.info.touched}`" for r in results),
    ]
    lines += ["", "## Startup", "", "| command | median wall | min | runs |", "|---|--:|--:|--:|"]
    for name, samples in versions.items():
        lines.append(
            f"| `{name}` | {fmt_s(med(samples))} | {fmt_s(min(x.wall for x in samples))} | {len(samples)} |"
        )

    if losses:
        lines += [
            "",
            "## No loss of findings",
            "",
            "All rules (`--select ALL`) unless said, in-process. normal: `Config(cache=False)`, all cores, byte "
            "pre-filter on; cached: a second `Config(cache=True)` run (answers from the cache); plain: "
            '`engine.PYTHON_TOKENS = (b"",)` (every file parsed), `Config(cache=False, jobs=1)`. '
            "Compared as sorted (code, path, line). lost = in plain but not in the run; extra = the reverse. "
            "default rules: a normal run with the default rule set (a narrower pre-filter) against plain's "
            "findings of those rules. "
            "Files that discovery leaves out (excluded or test code, per cachelint's configuration) are "
            "left out of all three runs alike.",
            "",
            "| tree | .py files holding a pre-filter token (test code included) | findings normal / cached / plain | lost (normal) "
            "| extra (normal) | lost (cached) | extra (cached) | lost / extra (default rules) | normal s | plain s |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for r in results:
            d = losses.get(r.info.name)
            if d is None:
                continue
            if "failed" in d:
                lines.append(f"| {r.info.name} | check failed: {d['failed']} ||||||||| ")
                continue
            lines.append(
                f"| {r.info.name} | {d['prefiltered']} of {r.info.py_files} | {d['normal']} / {d['warm']} / "
                f"{d['plain']} | {len(d['lost'])} | {len(d['extra'])} | {len(d['warm_lost'])} | "
                f"{len(d['warm_extra'])} | {len(d.get('default_lost', []))} / {len(d.get('default_extra', []))} | "
                f"{fmt_s(d['normal_time'])} | {fmt_s(d['plain_time'])} |"
            )
        details = [
            f"- {name}: {key}: {tuple(item)}"
            for name, d in losses.items()
            for key in ("lost", "extra", "warm_lost", "warm_extra", "default_lost", "default_extra")
            for item in d.get(key, [])
        ]
        if details:
            lines += ["", "Differences:", "", *details[:200]]

    lines += ["", "## Targets (2 cores, cold, whole tree)", ""]
    largest = max(results, key=lambda r: r.info.py_mb) if results else None
    for r in results:
        s = r.samples
        lines.append(
            f"- {r.info.name}: cold {med(s['cold']) / med(s['ruff']):.1f}x ruff "
            f"({ok(med(s['cold']) / med(s['ruff']) <= TARGET_VS_RUFF)}), "
            f"{med(s['cold']) / med(s['bandit']):.3f} of bandit "
            f"({ok(med(s['cold']) / med(s['bandit']) <= TARGET_VS_BANDIT)}), warm {fmt_s(med(s['warm']))} s "
            f"({ok(med(s['warm']) < TARGET_WARM)}), changed {fmt_s(med(s['touched']))} s "
            f"({ok(med(s['touched']) < TARGET_TOUCHED)})"
        )
    if largest is not None:
        cold = largest.samples["cold"]
        lines.append(
            f"- peak RSS on the largest tree ({largest.info.name}): {med(cold, 'rss_mb'):.0f} MB largest "
            f"process ({ok(med(cold, 'rss_mb') < TARGET_RSS_MB)}), {med(cold, 'tree_rss_mb'):.0f} MB "
            f"all processes, PSS ({ok(med(cold, 'tree_rss_mb') < TARGET_RSS_MB)}); target < {TARGET_RSS_MB} MB"
        )
    if versions:
        v = med(versions["cachelint --version"])
        lines.append(
            f"- `cachelint --version`: {fmt_s(v)} s ({ok(v < TARGET_VERSION)}); target < {TARGET_VERSION} s"
        )

    raw = []
    for r in results:
        raw.append(f"{r.info.name}:")
        for name, samples in r.samples.items():
            cells = ", ".join(
                f"[{x.wall:.3f}, {x.cpu:.2f}, {x.rss_mb:.0f}, {x.tree_rss_mb:.0f}]" for x in samples
            )
            raw.append(f"  {name + ':':<9}{cells}")
    for name, samples in versions.items():
        raw.append(f"{name}: " + ", ".join(f"{x.wall:.3f}" for x in samples))
    lines += [
        "",
        "<details><summary>Raw samples: [wall s, CPU s, largest-process RSS MB, process-tree PSS MB]</summary>",
        "",
        "```",
        *raw,
        "```",
        "",
        "</details>",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------


def take_snapshot(work: Path, rev: str | None = None) -> str:
    """Copy the cachelint package (the working tree's, or git revision ``rev``'s) under ``work``
    and put it first on this process's and every child's import path."""
    import importlib.util

    target = work / "snapshot"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    if rev:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", rev, "cachelint"],
            capture_output=True,
            check=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tf:
            tf.extractall(target, filter="data")
    else:
        spec = importlib.util.find_spec("cachelint")
        assert spec is not None and spec.origin is not None
        source = Path(spec.origin).resolve().parent
        shutil.copytree(source, target / "cachelint", ignore=shutil.ignore_patterns("__pycache__"))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target), os.environ.get("PYTHONPATH")]))
    sys.path.insert(0, str(target))  # this process imports cachelint's pre-filter from it too
    digest = hashlib.sha256()
    for path in sorted((target / "cachelint").rglob("*.py")):
        digest.update(path.relative_to(target).as_posix().encode() + b"\0" + path.read_bytes())
    log(
        f"running cachelint from {target} ({rev or 'working tree'}, sources sha256 {digest.hexdigest()[:12]})"
    )
    return digest.hexdigest()[:12]


def find_tools(bindir: Path, snapshot: bool = False) -> dict[str, list[str]]:
    script = Path(sys.executable).parent / "cachelint"
    # The `cachelint` script drops PYTHONPATH (see scripts/cachelint): a snapshot put on
    # PYTHONPATH is only run by `python -m cachelint`.
    cachelint = [str(script)] if script.exists() and not snapshot else [sys.executable, "-m", "cachelint"]
    return {"cachelint": cachelint, "ruff": [str(bindir / "ruff")], "bandit": [str(bindir / "bandit")]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="repetitions per measurement (default 5)")
    parser.add_argument(
        "--trees", help="comma-separated tree names (default: all in bench/corpus.lock), e.g. django,wagtail"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"1 repetition, trees {','.join(QUICK_TREES)} unless --trees, no no-loss check",
    )
    parser.add_argument("--no-loss-check", dest="noloss", action="store_false", help="skip the no-loss check")
    parser.add_argument(
        "--work", type=Path, default=DEFAULT_WORK, help=f"work directory (default {DEFAULT_WORK})"
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the Markdown report")
    parser.add_argument(
        "--update-lock", action="store_true", help="re-resolve the corpus and rewrite the lock"
    )
    parser.add_argument(
        "--corpus-only", action="store_true", help="build the corpus and the peers, then stop"
    )
    parser.add_argument(
        "--snapshot",
        action="store_true",
        help="run a copy of the cachelint package taken at start (stable while others edit the tree)",
    )
    parser.add_argument(
        "--rev", help="run the cachelint package of this git revision (e.g. HEAD), copied with git archive"
    )
    parser.add_argument("--_noloss", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args._noloss is not None:
        print(json.dumps(noloss_child(args._noloss.resolve())))
        return 0

    import importlib.util

    if importlib.util.find_spec("cachelint") is None:  # found, not imported: --snapshot may swap it
        parser.error("run with the interpreter cachelint is installed in, e.g. .venv/bin/python bench/run.py")

    lock = read_lock()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    bindir = ensure_peers(work, lock.peers)
    if args.update_lock:
        lock = update_lock(lock, bindir, work / "dl")
        write_lock(lock)
        log(f"wrote {LOCK}")
    repeat = 1 if args.quick else args.repeat
    names = args.trees.split(",") if args.trees else list(QUICK_TREES) if args.quick else None
    packages = [p for p in lock.packages if names is None or p.tree in names]
    unknown = set(names or ()) - {p.tree for p in packages}
    if unknown:
        parser.error(
            f"unknown tree(s): {', '.join(sorted(unknown))} (known: {', '.join(p.tree for p in lock.packages)})"
        )

    rev = None
    if args.rev:
        rev = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", args.rev],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    # --rev: the wheel of that revision installed (with .pyc) into its own virtualenv, as a user
    # gets it from pip; --snapshot: a copy of the working tree's package on PYTHONPATH.
    wheel_bin = None
    if rev and not args.corpus_only:
        import compare

        rev, wheel_bin = compare.install(rev, work)
    snapshot = take_snapshot(work) if args.snapshot and not rev and not args.corpus_only else ""
    tokens = prefilter_tokens()
    trees: list[tuple[Path, TreeInfo]] = []
    for package in packages:
        tree = unpack(package, download(package, work / "dl", bindir), work / "corpus")
        restore_touched(tree)
        trees.append((tree, survey(tree, package, tokens)))
    if args.corpus_only:
        for tree, info in trees:
            print(
                f"{info.name}: {tree} ({info.py_files} .py files, {info.py_mb:.1f} MB, {info.templates} templates)"
            )
        return 0

    tools = find_tools(bindir, snapshot=bool(snapshot))
    if wheel_bin is not None:
        global NOLOSS_PYTHON
        tools["cachelint"] = [str(wheel_bin / "cachelint")]
        NOLOSS_PYTHON = str(wheel_bin / "python")
    machine = machine_info(tools)
    if rev:
        machine["cachelint"] = (
            machine["cachelint"].split(", commit")[0]
            + f", commit {rev}: its wheel installed with .pyc into its own virtualenv (bench/compare.py)"
        )
    if snapshot:
        machine["cachelint"] += f"; run from a snapshot of the package (sources sha256 {snapshot})"
    results = [bench_tree(tree, info, tools, repeat) for tree, info in trees]
    log("timing --version")
    versions = time_version(tools, repeat)
    losses = {}
    if args.noloss and not args.quick:
        for tree, info in trees:
            log(f"{info.name}: no-loss check")
            losses[info.name] = noloss(tree)
    command = shlex.join(["python", "bench/run.py", *(argv if argv is not None else sys.argv[1:])])
    text = report(command, machine, repeat, results, versions, losses, os.getloadavg()[0])
    print(text)
    args.output.write_text(text, encoding="utf-8")
    log(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
