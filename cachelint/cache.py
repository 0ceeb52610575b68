"""On-disk result cache: per-file facts keyed by content, so unchanged files are never re-parsed.

One pickle per project root in ``.cachelint_cache/`` (with its own ``.gitignore``). A file is
reused when its size and mtime are unchanged, or, failing that, when its content hash is; the
whole cache is invalidated by another cachelint build or another ``max-file-size``. Writes go
to a temporary file renamed into place, so concurrent runs never see a half-written cache (the
last writer wins, which only costs a re-parse).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from cachelint import __version__

CACHE_DIR = ".cachelint_cache"
_FORMAT = 1


def _build_salt() -> str:
    """Identifies this cachelint build: version plus its own sources' sizes and mtimes."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256(f"{_FORMAT}:{__version__}".encode())
    for path in sorted(package.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


class ResultCache:
    def __init__(self, root: Path, salt: str) -> None:
        self._file = root / CACHE_DIR / "facts.pickle"
        self._salt = f"{_build_salt()}:{salt}"
        self._entries: dict[str, tuple[int, int, str, Any]] = {}
        self._dirty = False
        try:
            with self._file.open("rb") as stream:
                salt_on_disk, entries = pickle.load(stream)
            if salt_on_disk == self._salt:
                self._entries = entries
        except Exception:  # missing, unreadable, or from another build: start empty
            self._entries = {}

    @staticmethod
    def content_key(path: Path) -> str | None:
        try:
            return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
        except OSError:
            return None

    def get(self, key: str, path: Path) -> tuple[bool, Any]:
        """``(hit, result)`` for the file at ``path`` known in the cache as ``key``."""
        entry = self._entries.get(key)
        if entry is None:
            return False, None
        try:
            stat = path.stat()
        except OSError:
            return False, None
        size, mtime, digest, result = entry
        if (stat.st_size, stat.st_mtime_ns) == (size, mtime):
            return True, result
        if self.content_key(path) == digest:
            self._entries[key] = (stat.st_size, stat.st_mtime_ns, digest, result)
            self._dirty = True
            return True, result
        return False, None

    def put(self, key: str, path: Path, result: Any) -> None:
        try:
            stat = path.stat()
        except OSError:
            return
        digest = self.content_key(path)
        if digest is not None:
            self._entries[key] = (stat.st_size, stat.st_mtime_ns, digest, result)
            self._dirty = True

    def save(self, keep: set[str]) -> None:
        """Write the entries for ``keep`` (the files of this run); silently skip if read-only."""
        if not self._dirty and set(self._entries) <= keep:
            return
        entries = {k: v for k, v in self._entries.items() if k in keep}
        directory = self._file.parent
        try:
            directory.mkdir(exist_ok=True)
            gitignore = directory / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("# Created by cachelint\n*\n", encoding="utf-8")
            fd, temporary = tempfile.mkstemp(dir=directory, prefix="facts.", suffix=".tmp")
            with os.fdopen(fd, "wb") as stream:
                pickle.dump((self._salt, entries), stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self._file)
        except OSError:
            pass
