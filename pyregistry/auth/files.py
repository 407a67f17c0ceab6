"""Files read again when they change (htpasswd, rules) and written atomically.

A change is noticed by comparing ``(mtime_ns, size, inode)`` on each use, so an edit by
the CLI (which replaces the file by rename) or by hand is picked up on the next request
without a restart. A file that turns unreadable or invalid keeps the last good content
and the problem is logged once per change.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

log = logging.getLogger("pyregistry.auth")

T = TypeVar("T")


def _signature(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class WatchedFile(Generic[T]):
    """``get()`` returns ``parse(bytes)`` of the file, re-parsed when the file changed."""

    def __init__(
        self,
        path: str,
        parse: Callable[[bytes], T],
        *,
        what: str,
        missing: Callable[[], T] | None = None,
    ) -> None:
        self.path = path
        #: What an absent file means (None: absence is an error).
        self._missing = missing
        self.what = what
        self._parse = parse
        self._lock = threading.Lock()
        self._signature: tuple[int, int, int] | None = None
        self._failed_signature: tuple[int, int, int] | None = None
        self._value: T | None = None
        #: Bumped on each successful reload; caches keyed on it go stale with the file.
        self.generation = 0

    def load(self) -> T:
        """Read now; raises OSError/ValueError (used at start-up, where errors must show)."""
        with self._lock:
            return self._reload(_signature(self.path), strict=True)

    def get(self) -> T:
        signature = _signature(self.path)
        with self._lock:
            if self._value is not None and signature == self._signature:
                return self._value
            if self._value is not None and signature == self._failed_signature:
                return self._value
            return self._reload(signature, strict=self._value is None)

    def current(self) -> T | None:
        """What :meth:`get` returns when that needs no read: the file is unchanged since
        it was read (one ``stat``). None: call :meth:`get`, off the event loop."""
        signature = _signature(self.path)
        with self._lock:
            if self._value is not None and signature in (self._signature, self._failed_signature):
                return self._value
        return None

    def _reload(self, signature: tuple[int, int, int] | None, *, strict: bool) -> T:
        try:
            try:
                with open(self.path, "rb") as handle:
                    value = self._parse(handle.read())
            except FileNotFoundError:
                if self._missing is None:
                    raise
                value = self._missing()
        except (OSError, ValueError) as exc:
            if strict or self._value is None:
                raise
            if signature != self._failed_signature:
                log.error("%s %s unusable, keeping the previous one: %s", self.what, self.path, exc)
                self._failed_signature = signature
            return self._value
        if self._value is not None:
            log.info("%s %s reloaded", self.what, self.path)
        self._value = value
        self._signature = signature
        self._failed_signature = None
        self.generation += 1
        return value


@contextlib.contextmanager
def file_lock(path: str) -> Iterator[None]:
    """An exclusive lock tied to ``path`` (a hidden ``.<name>.lock`` beside it), so that
    several worker processes starting together create a missing file only once, and CLI
    edits do not interleave.

    The lock file exists only while someone holds it: the holder removes it before
    unlocking, and a waiter that then wins the lock on the removed file sees that the
    name now points elsewhere (or nowhere) and starts over, so two holders never coexist.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    lock_path = os.path.join(directory, f".{os.path.basename(path)}.lock")
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _same_file(fd, lock_path):
            break
        os.close(fd)  # locked a file its holder had already removed: try again
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock_path)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _same_file(fd: int, path: str) -> bool:
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def write_atomically(path: str, data: bytes, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new file, never half.
    A new file gets ``mode`` (default 0600); an existing one keeps its permissions."""
    if mode is None:
        try:
            mode = os.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o600
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
