"""Entry point of ``cachelint`` and ``python -m cachelint``.

It imports nothing but os and sys before making sys.path safe: the working directory and
PYTHONPATH usually point into the project being scanned (``python -m`` puts the working
directory first; Django CI setups export PYTHONPATH), and a project module named like one that
cachelint or its libraries import (``calendar``, ``email``, ``platform``, ``uuid``...) would be
imported, i.e. executed, instead of the real one.
"""

import os
import sys


def isolate_sys_path() -> None:
    """Drop the working directory and PYTHONPATH entries from sys.path, except the directory
    cachelint itself is imported from (when it runs from a checkout)."""
    own = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    unsafe = {"", ".", os.getcwd(), *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)}
    unsafe = {os.path.abspath(p) if p else p for p in unsafe}
    sys.path[:] = [
        p for p in sys.path if (os.path.abspath(p) if p else p) not in unsafe or os.path.abspath(p) == own
    ]


def run() -> None:
    isolate_sys_path()
    import gc

    # A linter run builds millions of short-lived CST nodes and no cycles worth collecting
    # early: the default thresholds spent a quarter of the run in the collector.
    gc.set_threshold(100_000, 50, 100)
    from cachelint.cli import main

    main()


if __name__ == "__main__":
    run()
