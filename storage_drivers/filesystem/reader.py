"""Streaming a file in bounded chunks from an already opened descriptor."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable

from storage_drivers.base import DEFAULT_CHUNK_SIZE, Chunk
from storage_drivers.filesystem.inline import INLINE_MAX_BYTES, InlineGate
from storage_drivers.filesystem.ops import os_errors
from storage_drivers.threads import ThreadRunner


class FileChunks(AsyncIterator[Chunk]):
    """Yields ``remaining`` bytes from ``offset`` in chunks of at most one MiB.

    A class rather than an async generator so the descriptor is released even when the
    iterator is dropped before its first ``__anext__`` (a generator would never run its
    ``finally`` then). Reading with ``pread`` keeps it independent of the file position.
    The descriptor pins the inode, so a concurrent replace of the path does not change
    what is being read. A read of at most ``INLINE_MAX_BYTES`` (a small blob) runs on the
    event loop while ``gate`` allows it; a bigger one is ``read(fd, length, offset)``
    on a thread (``os.pread``; a reader for sending maps the chunk instead).
    """

    def __init__(
        self,
        runner: ThreadRunner,
        path: str,
        fd: int,
        offset: int,
        remaining: int,
        gate: InlineGate | None = None,
        read: Callable[[int, int, int], Chunk] = os.pread,
    ) -> None:
        self._runner = runner
        self._read: Callable[[int, int, int], Chunk] = read
        self._gate = gate
        self._path = path
        self._fd: int | None = fd
        self._offset = offset
        self._remaining = remaining

    def __aiter__(self) -> FileChunks[Chunk]:
        return self

    async def __anext__(self) -> Chunk:
        fd = self._fd
        if fd is None:
            raise StopAsyncIteration
        if self._remaining <= 0:
            self._release()
            raise StopAsyncIteration
        want = min(self._remaining, self._span())
        gate = self._gate
        chunk: Chunk
        try:
            with os_errors(self._path):
                if want <= INLINE_MAX_BYTES and gate is not None and gate.open():
                    mark = gate.start()
                    try:
                        chunk = os.pread(fd, want, self._offset)
                    finally:
                        gate.took(mark)
                else:
                    chunk = await self._runner.run(self._read, fd, want, self._offset)
        except BaseException:
            self._release()
            raise
        if not chunk:  # the file shrank under us (it is not ours to lock)
            self._release()
            raise StopAsyncIteration
        self._offset += len(chunk)
        self._remaining -= len(chunk)
        return chunk

    def _span(self) -> int:
        """How much the next read asks for."""
        return DEFAULT_CHUNK_SIZE

    async def aclose(self) -> None:
        self._release()

    def _release(self) -> None:
        fd, self._fd = getattr(self, "_fd", None), None
        if fd is not None:
            os.close(fd)

    def __del__(self) -> None:
        self._release()
