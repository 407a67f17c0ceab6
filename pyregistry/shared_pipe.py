"""Whole access-log lines from several worker processes on one pipe.

A ``write`` of at most ``PIPE_BUF`` bytes to a pipe lands whole; a longer one (a line
carrying a 5 KiB user agent) goes in pieces once the pipe is nearly full, and another
worker's line can land between them: a reader sees two broken lines (a JSON one no log
shipper can parse). So processes writing to the same pipe, or stream socket (journald's
stdout), take a lock around each batch of lines: ``flock`` on a file named after the
pipe, in the temporary directory, which each process opens for itself (a descriptor
inherited from the supervisor would be one lock shared by all of them). Regular files
and terminals need none, and anything that cannot be locked is written unlocked, as
before.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import tempfile
from types import TracebackType
from typing import Any


class PipeLock:
    """Held around the writes of one batch (a no-op without a lock file)."""

    __slots__ = ("_fd",)

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    def __enter__(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


NO_LOCK = PipeLock(None)
#: Lock files opened by this process, by the (device, inode) of the pipe they guard.
_OPENED: dict[tuple[int, int], PipeLock] = {}


def lock_for(stream: Any) -> PipeLock:
    """The lock for writing to ``stream``: shared with every process writing to the same
    pipe or socket, :data:`NO_LOCK` for anything else."""
    key = _pipe_of(stream)
    if key is None:
        return NO_LOCK
    lock = _OPENED.get(key)
    if lock is None:
        lock = _OPENED[key] = PipeLock(_open_lock_file(key))
    return lock


def remove_lock_file(stream: Any) -> None:
    """Remove the lock file of ``stream``'s pipe (the supervisor, once its workers are
    gone: nothing is left in the temporary directory but after a ``kill -9``)."""
    key = _pipe_of(stream)
    if key is not None:
        with contextlib.suppress(OSError):
            os.unlink(_lock_path(key))


def _pipe_of(stream: Any) -> tuple[int, int] | None:
    """The (device, inode) of the pipe or socket ``stream`` writes to, else None."""
    try:
        status = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return None
    if not (stat.S_ISFIFO(status.st_mode) or stat.S_ISSOCK(status.st_mode)):
        return None
    return status.st_dev, status.st_ino


def _lock_path(key: tuple[int, int]) -> str:
    name = f"pyregistry-{os.getuid()}-pipe-{key[0]}-{key[1]}.lock"
    return os.path.join(tempfile.gettempdir(), name)


def _open_lock_file(key: tuple[int, int]) -> int | None:
    """This process's own descriptor of the pipe's lock file (created 0600, ours alone:
    a file another user made there is not trusted with our writes)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(_lock_path(key), flags, 0o600)
    except OSError:
        return None
    if os.fstat(fd).st_uid != os.getuid():
        os.close(fd)
        return None
    return fd
