"""A lease as an ``flock`` on a local file: the cheap one, for the filesystem driver.

The kernel drops the lock when its holder dies, so there is no expiry to wait for and
nothing to renew; locks on separately opened files exclude each other within one process
too. It coordinates every worker on one host, and hosts sharing a filesystem whose
``flock`` is coherent across clients (NFSv4 maps it onto byte-range locks); where that
does not hold, configure ``redis``.

The file's directory must exist: the lease is refused (:class:`LeaseTargetMissing`)
rather than creating it, so a lock never brings a removed upload session back. With
``create=False`` the file itself must exist: an upload session locks its ``startedat``,
which it has anyway, instead of a lock file of its own (a file created and deleted per
blob pushed, which on ext4 made every later file creation slower for minutes).
"""

from __future__ import annotations

import errno
import fcntl
import os

from pyregistry.tasks.lease import Lease


class LeaseTargetMissing(Exception):
    """The directory the lock file belongs in does not exist (any more)."""


class FlockLease(Lease):
    """``flock(LOCK_EX | LOCK_NB)`` on ``os_path``, created if missing (unless ``create``
    is false: then a missing file is :class:`LeaseTargetMissing` too)."""

    ttl = 0.0

    def __init__(self, name: str, os_path: str, *, create: bool = True) -> None:
        super().__init__(name)
        self.os_path = os_path
        # Opened for writing even when it is only locked: NFS emulates flock with a
        # byte-range write lock, which a read-only descriptor cannot take.
        self._flags = os.O_RDWR | os.O_CLOEXEC | (os.O_CREAT if create else 0)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    async def acquire(self) -> bool:
        # Two non-blocking system calls on a local file: cheaper inline than on a thread.
        if self._fd is not None:
            return True
        try:
            fd = os.open(self.os_path, self._flags, 0o644)
        except FileNotFoundError as exc:
            raise LeaseTargetMissing(self.os_path) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return False
            raise
        self._fd = fd
        return True

    async def renew(self) -> bool:
        return self._fd is not None

    async def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # the only descriptor: closing it drops the lock
