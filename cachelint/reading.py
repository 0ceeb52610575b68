"""The one way cachelint reads a file: regular files only, never blocking, never past a size cap.

The scanned tree may be hostile: a FIFO named ``views.py`` would block a plain ``open()``
forever, a committed symlink to ``/dev/zero`` would be read until memory runs out. So the file
is opened with ``O_NONBLOCK`` (opening a FIFO then returns at once), the *opened* descriptor is
checked (no race with a rename between a check and the open), and only a regular file no larger
than the cap is read. Everything refused is an ``OSError`` whose ``strerror`` says why, so callers
handle it as any unreadable file.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

# For the files that are not sources (.gitignore, lock files, pyproject.toml, a baseline):
# far above any real one, far below what would exhaust memory.
AUXILIARY_LIMIT = 64 * 1024 * 1024
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


# ``--stdin-filename``: the text of a file read from standard input instead of from disk, by
# absolute path. Every read of that path (the scan, the quoted lines, baselines) sees it.
_OVERRIDES: dict[str, bytes] = {}


def override(path: Path | str, data: bytes) -> None:
    _OVERRIDES[os.path.abspath(path)] = data


def overridden(path: Path | str) -> bool:
    return bool(_OVERRIDES) and os.path.abspath(path) in _OVERRIDES


def clear_overrides() -> None:
    _OVERRIDES.clear()


class Refused(OSError):
    """The file exists but is not read: not a regular file, or larger than the limit."""


class TooLarge(Refused):
    pass


def read_bytes(path: Path | str, limit: int = AUXILIARY_LIMIT) -> tuple[bytes, os.stat_result]:
    """The bytes of the regular file ``path`` and its stat, taken on the opened file before
    reading (so a file edited meanwhile looks changed next time, never the reverse)."""
    if _OVERRIDES and os.path.abspath(path) in _OVERRIDES:
        data = _OVERRIDES[os.path.abspath(path)]
        if len(data) > limit:
            raise TooLarge(errno.EFBIG, f"file is larger than {limit} bytes", str(path))
        return data, os.stat_result((stat.S_IFREG | 0o644, 0, 0, 1, 0, 0, len(data), 0, 0, 0))
    fd = os.open(path, _FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "a special file")
            raise Refused(errno.EINVAL, f"not a regular file ({kind})", str(path))
        if info.st_size > limit:
            raise TooLarge(errno.EFBIG, f"file is larger than {limit} bytes", str(path))
        chunks = []
        wanted = limit + 1  # one byte more than allowed tells a file that grew past the limit
        while wanted > 0:
            chunk = os.read(fd, min(wanted, max(info.st_size, 65536)))
            if not chunk:
                break
            chunks.append(chunk)
            wanted -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise TooLarge(errno.EFBIG, f"file is larger than {limit} bytes", str(path))
        return data, info
    finally:
        os.close(fd)


def read_text(path: Path | str, limit: int = AUXILIARY_LIMIT) -> str:
    """The file decoded as UTF-8, undecodable bytes replaced."""
    return read_bytes(path, limit)[0].decode("utf-8", errors="replace")


def reason(error: OSError) -> str:
    """What to tell the user about a file that could not be read."""
    return error.strerror or str(error)
