"""On-disk result cache: per-file facts keyed by content, so unchanged files are never re-parsed.

One pickle per project root in ``.cachelint_cache/`` (with its own ``.gitignore``). A file is
reused when its size and mtime are unchanged, or, failing that, when its content hash is; the
whole cache is invalidated by another cachelint build or another ``max-file-size``. Writes go
to a temporary file renamed into place, so concurrent runs never see a half-written cache (the
last writer wins, which only costs a re-parse).

The cache lives in the scanned tree, which may be hostile (a repository can commit a
``.cachelint_cache/``), and unpickling runs code. So every cache file is signed with an HMAC
keyed by a per-user secret kept outside any project (``$XDG_CACHE_HOME/cachelint/key``, mode
0600): a file cachelint did not write for this user is never unpickled. A key inside the
scanned tree (``XDG_CACHE_HOME`` pointed into the checkout, as CI caches often are) could have
been committed with a forged cache, so it is not used: that run has no result cache.
"""

from __future__ import annotations

import hashlib
import hmac
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


def _user_key(root: Path) -> bytes | None:
    """This user's secret for signing caches, created on first use; None if impossible or if
    it would live inside the scanned tree ``root``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(base) / "cachelint" / "key"
    if Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root)):
        return None
    try:
        key = path.read_bytes()
        # A short key (a concurrent first run still writing it, a full disk) is no secret.
        return key if len(key) >= 32 else None
    except OSError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as stream:
            stream.write(os.urandom(32))
        return path.read_bytes()
    except FileExistsError:  # another run is creating it: no cache this time
        return None
    except OSError:
        return None


def _digest(content: bytes) -> str:
    return hashlib.blake2b(content, digest_size=16).hexdigest()


def _sign(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


class ResultCache:
    def __init__(self, root: Path, salt: str) -> None:
        self._file = root / CACHE_DIR / "facts.pickle"
        self._salt = f"{_build_salt()}:{salt}"
        self._entries: dict[str, tuple[int, int, str, Any]] = {}
        self._dirty = False
        self._key = _user_key(root)
        if self._key is None:  # no place for a secret: run without a cache rather than unsafely
            return
        try:
            data = self._file.read_bytes()
            signature, payload = data[:32], data[32:]
            if hmac.compare_digest(signature, _sign(self._key, payload)):
                salt_on_disk, entries = pickle.loads(payload)
                if salt_on_disk == self._salt:
                    self._entries = entries
        except Exception:  # missing, unreadable, or from another build: start empty
            self._entries = {}

    @staticmethod
    def content_key(path: Path) -> str | None:
        try:
            return _digest(path.read_bytes())
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

    def put(self, key: str, path: Path, result: Any, content: bytes | None = None) -> None:
        """Remember ``result`` for the file; ``content`` is its bytes when already read."""
        try:
            stat = path.stat()
        except OSError:
            return
        digest = self.content_key(path) if content is None else _digest(content)
        if digest is not None:
            self._entries[key] = (stat.st_size, stat.st_mtime_ns, digest, result)
            self._dirty = True

    def save(self, keep: set[str]) -> None:
        """Write the entries for ``keep`` (the files of this run); silently skip if read-only."""
        if self._key is None or (not self._dirty and set(self._entries) <= keep):
            return
        entries = {k: v for k, v in self._entries.items() if k in keep}
        directory = self._file.parent
        try:
            directory.mkdir(exist_ok=True)
            gitignore = directory / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("# Created by cachelint\n*\n", encoding="utf-8")
            payload = pickle.dumps((self._salt, entries), protocol=pickle.HIGHEST_PROTOCOL)
            fd, temporary = tempfile.mkstemp(dir=directory, prefix="facts.", suffix=".tmp")
            with os.fdopen(fd, "wb") as stream:
                stream.write(_sign(self._key, payload) + payload)
            os.replace(temporary, self._file)
        except OSError:
            pass
