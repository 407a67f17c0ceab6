"""Writers that gather what they are given into pieces of ``chunksize`` and hand each to
the store (:meth:`BufferedWriter._store`), the last at ``close``; the store keeps them
where any process can resume them, and ``commit`` joins them into the path's object."""

from __future__ import annotations

import abc

from storage_drivers.base import FileWriter
from storage_drivers.errors import WriterClosed


class BufferedWriter(FileWriter):
    """``stored``: sizes of the pieces the store already keeps (a resumed writer's)."""

    driver = ""

    def __init__(self, path: str, stored: list[int], chunksize: int) -> None:
        self.path = path
        self._stored = stored
        self._chunksize = chunksize
        self._buffer = bytearray()
        self._done = False

    @property
    def pieces(self) -> int:
        """How many pieces the store keeps."""
        return len(self._stored)

    @property
    def size(self) -> int:
        return sum(self._stored) + len(self._buffer)

    def _check(self) -> None:
        if self._done:
            raise WriterClosed(f"writer for {self.path} is closed", driver=self.driver)

    async def write(self, data: bytes) -> int:
        self._check()
        self._buffer += data
        while len(self._buffer) >= self._chunksize:
            piece = bytes(self._buffer[: self._chunksize])
            del self._buffer[: self._chunksize]
            await self._store(piece)
            self._stored.append(len(piece))
        return len(data)

    async def _flush(self) -> None:
        if self._buffer:
            piece, self._buffer = bytes(self._buffer), bytearray()
            await self._store(piece)
            self._stored.append(len(piece))

    async def close(self) -> None:
        if self._done:
            return
        await self._flush()
        self._done = True

    async def cancel(self) -> None:
        self._check()
        self._done = True
        self._buffer = bytearray()
        await self._discard()

    async def commit(self) -> None:
        self._check()
        await self._flush()
        self._done = True
        await self._complete()

    @abc.abstractmethod
    async def _store(self, piece: bytes) -> None:
        """Keep the next piece (number :attr:`pieces` + 1)."""

    @abc.abstractmethod
    async def _complete(self) -> None:
        """Make the kept pieces the path's object, and forget them."""

    @abc.abstractmethod
    async def _discard(self) -> None:
        """Forget the kept pieces; the path stays as it was."""
