"""The Django version a project declares, read from its packaging files (never imported).

Lock files give the exact version; pins (``==``, ``~=``) come next, lower bounds (``>=``, ``^``)
last. Unknown means "assume the latest release" for version-gated rules.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from cachelint.discovery import display_path
from cachelint.reading import read_text, reason

Version = tuple[int, int]

LATEST: Version = (5, 2)

_SPEC = re.compile(
    r"""(?ix)(?<![\w.-])django(?:\[[^\]]*\])?\s*(?:=\s*["']?)?\s*
        (?P<op>===|==|~=|>=|\^|~|>)?\s*["']?\s*(?P<major>\d+)\.(?P<minor>\d+)"""
)
_LOCK_ENTRY = re.compile(r'(?ims)^\s*name\s*=\s*"django"\s*\n\s*version\s*=\s*"(\d+)\.(\d+)')
_RANK = {"===": 3, "==": 3, "~=": 2, "~": 2, ">=": 1, "^": 1, ">": 1, None: 2}


def parse_version(text: str) -> Version | None:
    match = re.fullmatch(r"\s*(\d+)\.(\d+)(?:\.\d+)?\s*", text)
    return (int(match[1]), int(match[2])) if match else None


def _read(path: Path, errors: list[str] | None) -> str:
    # A FIFO or a link to /dev/zero committed as poetry.lock is not read (see reading.py).
    try:
        return read_text(path)
    except FileNotFoundError:
        return ""
    except OSError as error:
        if errors is not None:
            errors.append(f"{display_path(path)}: cannot read: {reason(error)}")
        return ""


def detect(root: Path, errors: list[str] | None = None) -> Version | None:
    """The best-ranked Django version declared in ``root``'s packaging files, if any; a file
    that exists but cannot be read is a line in ``errors``."""
    for lock in ("poetry.lock", "uv.lock", "pdm.lock"):
        match = _LOCK_ENTRY.search(_read(root / lock, errors))
        if match:
            return int(match[1]), int(match[2])
    pipfile_lock = _read(root / "Pipfile.lock", errors)
    if pipfile_lock:
        try:
            pinned = json.loads(pipfile_lock).get("default", {}).get("django", {}).get("version", "")
        except (ValueError, AttributeError):
            pinned = ""
        version = parse_version(pinned.lstrip("=~>"))
        if version:
            return version
    candidates = [root / n for n in ("pyproject.toml", "setup.cfg", "setup.py", "Pipfile")]
    candidates += sorted(root.glob("requirements*.txt")) + sorted(root.glob("requirements/*.txt"))
    best: tuple[int, Version] | None = None
    for path in candidates:
        for match in _SPEC.finditer(_read(path, errors)):
            found = (_RANK[match["op"]], (int(match["major"]), int(match["minor"])))
            if best is None or found[0] > best[0]:
                best = found
    return best[1] if best else None
