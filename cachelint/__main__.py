"""Entry point of ``python -m cachelint`` and of the ``cachelint`` command (see scripts/cachelint).

It imports nothing but os and sys, which the interpreter has loaded before any program runs,
until sys.path is safe: the working directory and PYTHONPATH usually point into the project
being scanned (``python -m`` puts the working directory first; Django CI setups export
PYTHONPATH), and a project module named like one that cachelint or its libraries import
(``calendar``, ``email``, ``platform``, ``uuid``...) would be imported, i.e. executed, instead of
the real one.

When the interpreter started with such directories on sys.path, it may already have imported
modules from them (``python -m`` itself imports ``types``, ``functools``... before this file
runs). So ``run`` first replaces the process (same pid, open files and exit status) with a fresh
interpreter that has neither the working directory nor PYTHONPATH on sys.path, and continues
in-process only where that is not possible.
"""

import os
import sys

# The command line of the fresh interpreter: ``-c`` puts the working directory first on sys.path
# (dropped before anything is imported); the directory cachelint runs from comes first when it
# was on the unsafe path (a checkout run with ``python -m cachelint`` from its root).
BOOTSTRAP = (
    "import sys\n"
    "if sys.path and sys.path[0] == '': del sys.path[0]\n"
    "own = sys.argv[1]\n"
    "del sys.argv[:2]\n"
    "if own: sys.path.insert(0, own)\n"
    "from cachelint.__main__ import main\n"
    "main()\n"
)


def _own_dir() -> str:
    """The directory the cachelint package is imported from."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _unsafe_dirs() -> set[str]:
    """The working directory and the PYTHONPATH entries (unless the interpreter ignores it)."""
    unsafe = {"", os.getcwd()}
    if not sys.flags.ignore_environment:
        unsafe.update(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)
    return {os.path.abspath(p) for p in unsafe}


def _is_unsafe(entry: str, unsafe: set[str]) -> bool:
    return os.path.abspath(entry) in unsafe


def isolate_sys_path() -> None:
    """Drop the working directory and PYTHONPATH entries from sys.path, except the directory
    cachelint itself is imported from (when it runs from a checkout)."""
    unsafe, own = _unsafe_dirs(), _own_dir()
    sys.path[:] = [p for p in sys.path if not _is_unsafe(p, unsafe) or os.path.abspath(p) == own]


def _interpreter_options() -> list[str]:
    """The command-line options of this interpreter that the fresh one keeps (the environment
    variables it reads are passed on as they are, but PYTHONPATH)."""
    flags = sys.flags
    options = ["-" + "O" * flags.optimize] if flags.optimize else []
    for name, option in (
        ("debug", "-d"),
        ("dont_write_bytecode", "-B"),
        ("no_user_site", "-s"),
        ("no_site", "-S"),
        ("ignore_environment", "-E"),
        ("safe_path", "-P"),  # Python 3.11+
        ("verbose", "-v"),
        ("bytes_warning", "-b"),
        ("quiet", "-q"),
    ):
        options += [option] * int(getattr(flags, name, 0))
    options += [f"-W{option}" for option in sys.warnoptions]
    options += [f"-X{k}" if v is True else f"-X{k}={v}" for k, v in sys._xoptions.items()]
    return options


def _reexec_isolated() -> None:
    """Replace this process with one whose sys.path holds neither the working directory nor
    PYTHONPATH, when this one had them on sys.path. Returns when that is not needed or possible:
    isolate_sys_path then does what it can in-process."""
    unsafe = _unsafe_dirs()
    if os.name != "posix" or not any(_is_unsafe(p, unsafe) for p in sys.path):
        return  # Windows has no exec that keeps the process (its exit status, its console)
    if sys.gettrace() is not None or sys.getprofile() is not None:
        return  # a debugger, profiler or coverage tool would lose the run
    own = _own_dir()
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    argv = [sys.executable, *_interpreter_options(), "-c", BOOTSTRAP, own if own in unsafe else "", *sys.argv]
    try:
        os.execve(sys.executable, argv, environ)
    except (OSError, ValueError):  # no interpreter path, an argument list too long: go on here
        pass


def main() -> None:
    """Run the command line in this process."""
    isolate_sys_path()
    import gc

    # A linter run builds millions of short-lived CST nodes and no cycles worth collecting
    # early: the default thresholds spent a quarter of the run in the collector.
    gc.set_threshold(100_000, 50, 100)
    from cachelint.cli import main as cli_main

    cli_main()


def run() -> None:
    _reexec_isolated()
    main()


if __name__ == "__main__":
    run()
