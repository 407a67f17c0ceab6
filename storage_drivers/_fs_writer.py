"""The filesystem driver's writer: data goes to a hidden sidecar, ``commit`` renames it.

All state lives on disk (the sidecar ``.<name>~partial`` next to the target), so an upload
closed by one process can be resumed with ``append=True`` by another, and a crash leaves
at most a sidecar behind, never a partially written file at the target path.
"""

from __future__ import annotations

import os

from storage_drivers._fs_ops import (
    DRIVER,
    Root,
    fsync_dir,
    make_parents,
    os_errors,
    write_all,
)
from storage_drivers._threads import ThreadRunner
from storage_drivers.base import DEFAULT_CHUNK_SIZE, FileWriter
from storage_drivers.errors import StorageDriverError, WriterClosed

_OPEN_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC


def open_sidecar(root: Root, path: str, append: bool) -> tuple[str, str, int, int]:
    """Open (resume) or create (truncate) the sidecar: (target, sidecar, fd, size)."""
    with os_errors(path):
        os_path, partial = root.resolve_file(path)
        if append:
            fd = os.open(partial, _OPEN_FLAGS)
            return os_path, partial, fd, os.fstat(fd).st_size
        make_parents(path, os_path)
        fd = os.open(partial, _OPEN_FLAGS | os.O_CREAT | os.O_TRUNC, 0o644)
        return os_path, partial, fd, 0


def _flush(fd: int, data: bytes | bytearray, sync: bool) -> None:
    write_all(fd, data)
    if sync:
        os.fsync(fd)


def _commit(path: str, fd: int, partial: str, os_path: str) -> None:
    with os_errors(path):
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(partial, os_path)
        fsync_dir(os.path.dirname(os_path))


def _cancel(fd: int, partial: str) -> None:
    os.close(fd)
    try:
        os.unlink(partial)
    except FileNotFoundError:
        pass


class FilesystemWriter(FileWriter):
    """Buffers up to one chunk in memory, then appends it to the sidecar on a thread.

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
        self._buffer = bytearray()
        self._failed = False

    @property
    def size(self) -> int:
        return self._flushed + len(self._buffer)

    def _open_fd(self) -> int:
        if self._fd is None:
            raise WriterClosed("writer already closed", driver=DRIVER, path=self._path)
        if self._failed:
            raise StorageDriverError(
                "an earlier write failed; cancel and start again", driver=DRIVER, path=self._path
            )
        return self._fd

    async def _write_out(self, fd: int, data: bytes | bytearray, sync: bool = False) -> None:
        self._failed = True  # until the write is known to have completed
        with os_errors(self._path):
            await self._runner.run(_flush, fd, data, sync)
        self._failed = False

    async def write(self, data: bytes) -> int:
        fd = self._open_fd()
        if len(self._buffer) + len(data) < DEFAULT_CHUNK_SIZE:
            self._buffer += data
            return len(data)
        pending: bytes | bytearray
        if self._buffer:
            self._buffer += data
            pending, self._buffer = self._buffer, bytearray()
        else:
            pending = data
        self._flushed += len(pending)
        await self._write_out(fd, pending)
        return len(data)

    async def _drain(self, fd: int, sync: bool) -> None:
        pending, self._buffer = self._buffer, bytearray()
        self._flushed += len(pending)
        await self._write_out(fd, pending, sync)

    async def close(self) -> None:
        """Flush and fsync the sidecar; a no-op after commit, cancel or an earlier close."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if not self._failed:
                await self._drain(fd, sync=True)
        finally:
            os.close(fd)

    async def cancel(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            raise WriterClosed("writer already closed", driver=DRIVER, path=self._path)
        self._buffer = bytearray()
        with os_errors(self._path):
            await self._runner.run(_cancel, fd, self._partial)

    async def commit(self) -> None:
        fd = self._open_fd()
        try:
            await self._drain(fd, sync=False)
        except BaseException:
            self._fd = None
            os.close(fd)
            raise
        self._fd = None
        await self._runner.run(_commit, self._path, fd, self._partial, self._os_path)

    def __del__(self) -> None:
        # A writer dropped without close must not leak its descriptor.
        fd, self._fd = getattr(self, "_fd", None), None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass
