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

import contextlib
import hashlib
import hmac
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

from cachelint import __version__
from cachelint.discovery import display_path
from cachelint.reading import read_bytes

CACHE_DIR = ".cachelint_cache"
_FORMAT = 1
_KEY_SIZE = 32
# A cache this large was not written by cachelint for any real project: not read.
CACHE_LIMIT = 1024 * 1024 * 1024


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
        key = read_bytes(path, 4096)[0]
        # A short key (a full disk left it empty) is no secret: replace it.
        if len(key) >= _KEY_SIZE:
            return key
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a temporary name, then renamed: no run ever sees a partial key.
        # Two first runs racing both succeed; the last rename wins, which costs one re-parse.
        write_atomically(path, os.urandom(_KEY_SIZE), mode=0o600)
        key = read_bytes(path, 4096)[0]
        return key if len(key) >= _KEY_SIZE else None
    except OSError:
        return None


def write_atomically(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place; on any
    failure (a full disk) the temporary file is removed and ``path`` is left as it was."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            _write(stream, data)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _write(stream: BinaryIO, data: bytes) -> None:
    stream.write(data)  # where a full disk raises ENOSPC (tests replace it to simulate one)


def digest(content: bytes) -> str:
    """What the cache compares a file's content by when its stat changed."""
    return hashlib.blake2b(content, digest_size=16).hexdigest()


_digest = digest


def _sign(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


class ResultCache:
    def __init__(self, root: Path, salt: str) -> None:
        self._file = root / CACHE_DIR / "facts.pickle"
        self._salt = f"{_build_salt()}:{salt}"
        self._entries: dict[str, tuple[int, int, str, Any]] = {}
        self._dirty = False
        self.disabled = ""  # why this run has no cache, for the user to hear once
        if _links_out(root, CACHE_DIR):
            # A committed symlink would make cachelint write wherever it points.
            self._key = None
            self.disabled = f"{display_path(self._file.parent)}: is a symlink, not followed: no result cache"
            return
        self._key = _user_key(root)
        if self._key is None:  # no place for a secret: run without a cache rather than unsafely
            return
        try:
            data = read_bytes(self._file, CACHE_LIMIT)[0]
            signature, payload = data[:32], data[32:]
            if hmac.compare_digest(signature, _sign(self._key, payload)):
                salt_on_disk, entries = pickle.loads(payload)
                if salt_on_disk == self._salt:
                    self._entries = entries
        except Exception:  # missing, unreadable, not a regular file, or from another build: start empty
            self._entries = {}

    @staticmethod
    def content_key(path: Path) -> str | None:
        try:
            return _digest(read_bytes(path, CACHE_LIMIT)[0])
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

    def put(self, key: str, result: Any, stat: os.stat_result, content_digest: str) -> None:
        """Remember ``result``, computed from content whose ``digest()`` is ``content_digest``,
        for the file whose stat was ``stat`` when it was read (taken before reading: see
        reading.read_bytes)."""
        self._entries[key] = (stat.st_size, stat.st_mtime_ns, content_digest, result)
        self._dirty = True

    def save(self, keep: set[str]) -> None:
        """Write the entries for ``keep`` (the files of this run); silently skip if read-only."""
        if self._key is None or (not self._dirty and set(self._entries) <= keep):
            return
        entries = {k: v for k, v in self._entries.items() if k in keep}
        directory = self._file.parent
        try:
            directory.mkdir(exist_ok=True)
            if directory.is_symlink() or not directory.is_dir():
                return  # created meanwhile as a link: never write through it
            gitignore = directory / ".gitignore"
            if not (gitignore.is_file() and gitignore.stat().st_size > 0):
                write_atomically(gitignore, b"# Created by cachelint\n*\n")
            payload = pickle.dumps((self._salt, entries), protocol=pickle.HIGHEST_PROTOCOL)
            write_atomically(self._file, _sign(self._key, payload) + payload, mode=0o600)
        except OSError:
            pass


def _links_out(root: Path, name: str) -> bool:
    """Whether ``root/name`` is a symlink (to anything: inside the tree it is still not ours)."""
    return os.path.islink(root / name)
