"""On-disk result cache: per-file facts keyed by content, so unchanged files are never re-parsed.

Sharded pickles per project root in ``.cachelint_cache/`` (``facts-XX.pickle``, with its own
``.gitignore``): a file's entries land in the shard its display path hashes to, and a run writes
only the shards whose entries changed (a large project's cache is tens of MB: rewriting it whole
because one file changed cost more than the change). A file is
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
import zlib
from pathlib import Path
from typing import Any, BinaryIO

from cachelint import __version__
from cachelint.discovery import display_path
from cachelint.reading import read_bytes

CACHE_DIR = ".cachelint_cache"
_FORMAT = 2
SHARDS = 32
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


def _shard_of(key: str) -> int:
    """The shard of a cache key: by the display path it starts with, so that every entry of one
    file (pre-filtered or forced) is in the same shard."""
    return zlib.crc32(key.partition("|")[0].encode("utf-8", "surrogateescape")) % SHARDS


class ResultCache:
    def __init__(self, root: Path, salt: str) -> None:
        self._directory = root / CACHE_DIR
        self._salt = f"{_build_salt()}:{salt}"
        self._entries: dict[str, tuple[int, int, str, Any]] = {}
        self._dirty: set[int] = set()  # shards to write
        self._on_disk: set[int] = set()  # shards read from disk
        self.disabled = ""  # why this run has no cache, for the user to hear once
        if _links_out(root, CACHE_DIR):
            # A committed symlink would make cachelint write wherever it points.
            self._key = None
            self.disabled = f"{display_path(self._directory)}: is a symlink, not followed: no result cache"
            return
        self._key = _user_key(root)
        if self._key is None:  # no place for a secret: run without a cache rather than unsafely
            return
        import gc

        enabled = gc.isenabled()
        gc.disable()  # unpickling builds many objects: no collection in the middle of it
        try:
            for shard in range(SHARDS):
                self._load(shard)
        finally:
            # What was loaded lives for the whole run: later collections need not traverse it.
            gc.freeze()
            if enabled:
                gc.enable()

    def _shard_file(self, shard: int) -> Path:
        return self._directory / f"facts-{shard:02x}.pickle"

    def _load(self, shard: int) -> None:
        assert self._key is not None
        try:
            data = read_bytes(self._shard_file(shard), CACHE_LIMIT)[0]
        except OSError:
            return  # missing, unreadable, not a regular file: that shard starts empty
        try:
            signature, payload = data[:32], data[32:]
            if hmac.compare_digest(signature, _sign(self._key, payload)):
                salt_on_disk, entries = pickle.loads(payload)
                if salt_on_disk == self._salt:
                    self._entries.update(entries)
                    self._on_disk.add(shard)
        except Exception:  # from another build, or damaged: start that shard empty
            pass

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
            self._dirty.add(_shard_of(key))
            return True, result
        return False, None

    def put(self, key: str, result: Any, stat: os.stat_result, content_digest: str) -> None:
        """Remember ``result``, computed from content whose ``digest()`` is ``content_digest``,
        for the file whose stat was ``stat`` when it was read (taken before reading: see
        reading.read_bytes)."""
        self._entries[key] = (stat.st_size, stat.st_mtime_ns, content_digest, result)
        self._dirty.add(_shard_of(key))

    def save(self, keep: set[str]) -> None:
        """Write the entries for ``keep`` (the files of this run), only the shards that changed;
        silently skip if read-only."""
        if self._key is None:
            return
        shards: dict[int, dict[str, tuple[int, int, str, Any]]] = {}
        for key, entry in self._entries.items():
            if key in keep:
                shards.setdefault(_shard_of(key), {})[key] = entry
            else:
                self._dirty.add(_shard_of(key))  # a file gone or renamed: its shard shrinks
        # A shard that was not on disk, or was from another build, is written even if empty.
        changed = sorted(shard for shard in self._dirty | set(shards) if shard in self._dirty or shard not in self._on_disk)
        if not changed:
            return
        directory = self._directory
        try:
            directory.mkdir(exist_ok=True)
            if directory.is_symlink() or not directory.is_dir():
                return  # created meanwhile as a link: never write through it
            gitignore = directory / ".gitignore"
            if not (gitignore.is_file() and gitignore.stat().st_size > 0):
                write_atomically(gitignore, b"# Created by cachelint\n*\n")
            for shard in changed:
                payload = pickle.dumps((self._salt, shards.get(shard, {})), protocol=pickle.HIGHEST_PROTOCOL)
                write_atomically(self._shard_file(shard), _sign(self._key, payload) + payload, mode=0o600)
        except OSError:
            pass


def _links_out(root: Path, name: str) -> bool:
    """Whether ``root/name`` is a symlink (to anything: inside the tree it is still not ours)."""
    return os.path.islink(root / name)
