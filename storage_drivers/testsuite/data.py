"""What the suite's tests share: deterministic data, collecting streams, path examples.

Public so that a driver's own tests (beyond the suite) can use the same data and helpers.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import AsyncIterator, Iterator

from storage_drivers.base import FileInfo, StorageDriver

#: Paths the grammar refuses (each a different way of being wrong).
INVALID_PATHS = [
    "",
    "a",
    "/a/",
    "//a",
    "/a/../b",
    "/..",
    "/a/./b",
    "/a b",
    "/a%2fb",
    "/a\\b",
    "/a\x00",
    "/a/..",
    "/.",
    "a/b",
    "/a//b",
    "/é",
    "/a~b",
]

#: Unusual paths the grammar accepts.
VALID_ODD_PATHS = ["/a.b-c_d", "/...", "/.hidden", "/-", "/_/A9"]


def pattern(size: int, seed: int = 0) -> bytes:
    """``size`` deterministic, non-repeating-looking bytes."""
    return random.Random(seed).randbytes(size)


class ChunkStream:
    """A big deterministic stream generated chunk by chunk, never held whole.

    Chunk ``k`` is its 8-byte index followed by a window into a fixed random block, so
    every chunk differs and any range can be regenerated for checking.
    """

    def __init__(self, chunk_size: int, count: int) -> None:
        self.chunk_size = chunk_size
        self.count = count
        self._block = pattern(chunk_size + 4096, seed=1)

    @property
    def size(self) -> int:
        return self.chunk_size * self.count

    def chunk(self, k: int) -> bytes:
        start = (k * 7919) % 4096
        return k.to_bytes(8, "big") + self._block[start : start + self.chunk_size - 8]

    def chunks(self) -> Iterator[bytes]:
        for k in range(self.count):
            yield self.chunk(k)

    def sha256(self) -> str:
        h = hashlib.sha256()
        for c in self.chunks():
            h.update(c)
        return h.hexdigest()

    def range(self, offset: int, length: int) -> bytes:
        out = bytearray()
        k, skip = divmod(offset, self.chunk_size)
        while len(out) < length and k < self.count:
            out += self.chunk(k)[skip:]
            skip = 0
            k += 1
        return bytes(out[:length])


async def read_all(
    driver: StorageDriver, path: str, offset: int = 0, length: int | None = None
) -> bytes:
    return b"".join([c async for c in await driver.reader(path, offset, length)])


async def walk_paths(driver: StorageDriver, path: str) -> list[str]:
    return [info.path async for info in driver.walk(path)]


async def walk_infos(driver: StorageDriver, path: str) -> list[FileInfo]:
    return [info async for info in driver.walk(path)]


async def drain(it: AsyncIterator[bytes]) -> int:
    n = 0
    async for c in it:
        n += len(c)
    return n


async def leave_pending(driver: StorageDriver, path: str, data: bytes) -> None:
    """Write ``data`` for ``path`` and close without committing: an upload left to resume."""
    w = await driver.writer(path)
    await w.write(data)
    await w.close()
