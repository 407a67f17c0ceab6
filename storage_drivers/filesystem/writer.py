"""The filesystem driver's writer: data goes to a hidden sidecar, ``commit`` renames it.

A resumed writer (``append=True``) learns its size from a ``stat`` of the sidecar, which
the driver makes on the event loop while such calls are fast, and opens the sidecar only
in the thread hop of its first flush, close or commit: a small chunk (a PATCH, the PUT
that completes a small upload) then costs one hop in all, not two.

All state lives on disk (the sidecar ``.<name>~partial`` next to the target), so an upload
closed by one process can be resumed with ``append=True`` by another, and a crash leaves
at most a sidecar behind, never a partially written file at the target path.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import stat as stat_mod

from storage_drivers.base import DEFAULT_CHUNK_SIZE, FileWriter
from storage_drivers.errors import PathNotFound, StorageDriverError, WriterClosed
from storage_drivers.filesystem.ops import (
    create_file,
    delete_path,
    os_errors,
    place_file,
    put_atomic,
    write_parts,
)
from storage_drivers.filesystem.root import DRIVER, Root
from storage_drivers.filesystem.taps import Tap, tap_and_write
from storage_drivers.threads import ThreadRunner

_OPEN_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC

#: A writer hands its buffered pieces to a thread once they reach this much (128 and
#: 256 KiB batches cost more in thread hops than they saved in cache misses).
FLUSH_SIZE = DEFAULT_CHUNK_SIZE
#: While the thread still writes a batch, the next one grows up to this before it waits
#: (what bounds a writer's memory).
MAX_BUFFER = 2 * 1024 * 1024
#: A tail below this is shown to the tap on the event loop rather than in a thread hop.
INLINE_TAP = 64 * 1024


def open_sidecar(root: Root, path: str, append: bool) -> tuple[str, str, int, int]:
    """Open (resume) or create (truncate) the sidecar: (target, sidecar, fd, size)."""
    with os_errors(path):
        os_path, partial = root.resolve_file(path)
        if append:
            fd = os.open(partial, _OPEN_FLAGS)
            return os_path, partial, fd, os.fstat(fd).st_size
        fd = create_file(path, partial, _OPEN_FLAGS | os.O_TRUNC)
        return os_path, partial, fd, 0


#: The descriptor of a writer whose sidecar is not opened yet (see the docstring).
LAZY = -1


def find_sidecar(root: Root, path: str) -> tuple[str, str, int]:
    """The sidecar to resume, not opened: (target, sidecar, size); PathNotFound if none."""
    with os_errors(path):
        os_path, partial = root.resolve_file(path)
        st = os.stat(partial)
        if not stat_mod.S_ISREG(st.st_mode):
            raise PathNotFound(path, driver=DRIVER)
        return os_path, partial, st.st_size


def _opened(fd: int, partial: str) -> int:
    """``fd``, or the sidecar opened now when the writer deferred it."""
    return os.open(partial, _OPEN_FLAGS) if fd == LAZY else fd


def _append(fd: int, partial: str, pending: list[bytes], tap: Tap | None, tapped: int) -> int:
    """Write the buffered pieces (opening the sidecar first if need be); the open fd."""
    opened = _opened(fd, partial)
    try:
        tap_and_write(opened, pending, tap, tapped)
    except BaseException:
        if opened != fd:
            os.close(opened)
        raise
    return opened


def start_sidecar(root: Root, path: str, beside: dict[str, bytes]) -> tuple[str, str]:
    """``put_atomic`` each small marker of ``beside`` (not synced: a session that has
    received nothing promises nothing, see the driver's ``start_writer``), then create a
    fresh, empty sidecar for ``path``, left closed (the first write opens it):
    (target, sidecar)."""
    for other, content in beside.items():
        put_atomic(root, other, content, sync=False)
    os_path, partial, fd, _ = open_sidecar(root, path, append=False)
    os.close(fd)
    return os_path, partial


def _commit(path: str, fd: int, pending: list[bytes], partial: str, os_path: str) -> None:
    """Write what is left, sync the data, rename: one thread hop for the whole commit.

    The fsync makes committed content (blob data) survive a power loss whole; a crash
    of the process alone is covered by the rename.
    """
    _sync_out(path, fd, pending, partial)
    with os_errors(path):
        os.replace(partial, os_path)


def _sync_out(path: str, fd: int, pending: list[bytes], partial: str) -> None:
    """Write the unwritten pieces to the sidecar, fsync it and close it."""
    with os_errors(path):
        fd = _opened(fd, partial)
        try:
            write_parts(fd, pending)
            os.fsync(fd)
        finally:
            os.close(fd)


def publish_sidecar(
    root: Root,
    path: str,
    parts: tuple[int, list[bytes], str],
    dest: str,
    beside: dict[str, bytes],
    remove: str,
) -> None:
    """The driver's ``publish`` in one thread hop: the sidecar (``parts``: its fd, the
    unwritten pieces, its OS path) is written out, synced and renamed straight onto
    ``dest`` (no stop at ``path``), then the ``beside`` files are put and ``remove``
    deleted, in that order."""
    fd, pending, partial = parts
    _sync_out(path, fd, pending, partial)
    with os_errors(dest):
        dst = root.resolve(dest)
    place_file(path, partial, dest, dst)
    for other, content in beside.items():
        put_atomic(root, other, content)
    with contextlib.suppress(PathNotFound):
        delete_path(root, remove)


def _cancel(fd: int, partial: str) -> None:
    if fd != LAZY:
        os.close(fd)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(partial)


def _close(fd: int, partial: str, pending: list[bytes]) -> None:
    fd = _opened(fd, partial)
    try:
        write_parts(fd, pending)
    finally:
        os.close(fd)


class FilesystemWriter(FileWriter):
    """Buffers pieces in memory and appends them to the sidecar on a thread, in batches.

    The buffer is the list of pieces as they were written (``writev`` takes them as
    they are): no copy into one contiguous buffer. A batch of :data:`FLUSH_SIZE` goes to
    a thread without waiting for it: the next pieces are received meanwhile, and the
    batch after waits for it only once it has grown to :data:`MAX_BUFFER` (so batches
    are written strictly in order, one at a time). A failed batch is reported by the
    next ``write``, ``observed``, ``close`` or ``commit``, so no caller ever learns that
    its data is written when it is not.

    ``close`` writes the buffer out without fsync: the sidecar is uncommitted data, which
    the kernel keeps across a crash of the process; only ``commit`` syncs.
    Not safe for concurrent use of one writer from several tasks (nor is any writer).
    """

    def __init__(
        self, runner: ThreadRunner, path: str, os_path: str, partial: str, fd: int, size: int
    ) -> None:
        self._runner = runner
        self._path = path
        self._os_path = os_path
        self._partial = partial
        self._fd: int | None = fd
        self._flushed = size
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._failed = False
        self._inflight: asyncio.Future[int] | None = None
        self._tap: Tap | None = None
        #: The buffer's leading pieces the tap has already seen.
        self._tapped = 0

    @property
    def size(self) -> int:
        return self._flushed + self._buffered

    def observe(self, tap: Tap) -> bool:
        self._tap = tap
        self._tapped = len(self._buffer)  # pieces written before are not the tap's
        return True

    def _open_fd(self) -> int:
        if self._fd is None:
            raise WriterClosed("writer already closed", driver=DRIVER, path=self._path)
        if self._failed:
            raise StorageDriverError(
                "an earlier write failed; cancel and start again", driver=DRIVER, path=self._path
            )
        return self._fd

    async def write(self, data: bytes) -> int:
        fd = self._open_fd()
        # A caller's mutable buffer is copied: it may be reused before the flush.
        piece = data if type(data) is bytes else bytes(data)
        self._buffer.append(piece)
        self._buffered += len(piece)
        if self._buffered < FLUSH_SIZE:
            return len(data)
        inflight = self._inflight
        if inflight is not None:
            if not inflight.done() and self._buffered < MAX_BUFFER:
                return len(data)
            fd = await self._settle()
        self._flush(fd)
        return len(data)

    def _flush(self, fd: int) -> None:
        """Hand the buffer to a thread (shown to the tap and written: :mod:`taps`);
        :meth:`_settle` learns how it went."""
        tapped, self._tapped = self._tapped, 0
        pending = self._take_buffer()
        self._inflight = self._runner.start(_append, fd, self._partial, pending, self._tap, tapped)

    async def _settle(self) -> int:
        """Wait for the batch on its thread, if any: the writer's fd afterwards (the batch
        may have opened it). Its error, if it failed; a cancelled wait leaves it pending
        for a later call (``close``) to settle."""
        inflight = self._inflight
        fd = self._open_fd() if inflight is None else None
        if inflight is not None:
            try:
                with os_errors(self._path):
                    fd = await asyncio.shield(inflight)
            except asyncio.CancelledError:
                raise
            except BaseException:
                self._inflight, self._failed = None, True
                raise
            self._inflight = None
            self._fd = fd
        assert fd is not None
        return fd

    async def observed(self) -> None:
        """Small tails are shown to the tap here, on the loop (no thread hop: a small
        blob's bytes are then written by its commit's hop); larger ones are flushed."""
        fd = await self._settle()
        tap = self._tap
        if tap is None or self._tapped == len(self._buffer):
            return
        if self._buffered < INLINE_TAP:
            for piece in self._buffer[self._tapped :]:
                tap(piece)
            self._tapped = len(self._buffer)
            return
        self._flush(fd)
        await self._settle()

    def _take_buffer(self) -> list[bytes]:
        pending, self._buffer = self._buffer, []
        self._flushed += self._buffered
        self._buffered = 0
        return pending

    async def _finish(self) -> int:
        """The fd, with every batch written and every piece seen by the tap; on failure
        (or cancellation) the writer is released and closed."""
        try:
            await self.observed()
            return self._open_fd()
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        """Close the writer without writing anything more; the fd is closed once no
        thread uses it any more."""
        fd, self._fd = self._fd, None
        inflight, self._inflight = self._inflight, None
        self._buffer, self._buffered = [], 0
        if inflight is not None and not inflight.done():
            inflight.add_done_callback(functools.partial(_close_after, fd))
        elif fd is not None and fd != LAZY:
            os.close(fd)

    async def close(self) -> None:
        """Flush the buffer; a no-op after commit, cancel or an earlier close."""
        if self._fd is None:
            return
        if self._failed and self._inflight is None:
            self._release()  # the failure was reported by the write that saw it
            return
        fd = await self._finish()
        self._fd = None
        if not self._buffer:
            if fd != LAZY:
                os.close(fd)
            return
        with os_errors(self._path):
            await self._runner.run(_close, fd, self._partial, self._take_buffer())

    async def cancel(self) -> None:
        if self._fd is None:
            raise WriterClosed("writer already closed", driver=DRIVER, path=self._path)
        with contextlib.suppress(StorageDriverError):
            await self._settle()
        fd, self._fd = self._fd, None
        self._buffer, self._buffered = [], 0
        with os_errors(self._path):
            await self._runner.run(_cancel, fd, self._partial)

    async def commit(self) -> None:
        fd = await self._finish()
        self._fd = None
        pending = self._take_buffer()
        await self._runner.run(_commit, self._path, fd, pending, self._partial, self._os_path)

    async def detach(self) -> tuple[int, list[bytes], str]:
        """Hand over what ``commit`` would write (fd, unwritten pieces, sidecar) to be
        committed elsewhere (``publish_sidecar``); the writer is closed afterwards."""
        fd = await self._finish()
        self._fd = None
        return fd, self._take_buffer(), self._partial

    def __del__(self) -> None:
        # A writer dropped without close must not leak its descriptor.
        if getattr(self, "_inflight", None) is not None:
            return  # the thread still owns it; _release's callback is not armed, so leak
        fd, self._fd = getattr(self, "_fd", None), None
        if fd is not None and fd != LAZY:
            with contextlib.suppress(OSError):
                os.close(fd)


def _close_after(fd: int | None, done: asyncio.Future[int]) -> None:
    """Close a released writer's fd once its last batch is done with it."""
    failed = done.cancelled() or done.exception() is not None
    opened = fd if failed else done.result()
    if opened is not None and opened != LAZY:
        with contextlib.suppress(OSError):
            os.close(opened)
