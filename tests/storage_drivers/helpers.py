"""Helpers for the driver suite: deterministic data, collecting streams, invalid paths,
a third-party driver distribution."""

from __future__ import annotations

import hashlib
import os
import random
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from storage_drivers.base import FileInfo, StorageDriver
from tests.support.command import run

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Drivers whose committed content lives in the test process's own memory: the memory
#: bound of the big-stream test allows them the content's size on top.
IN_PROCESS_DRIVERS = frozenset({"inmemory"})

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


THIRD_PARTY_MODULE = '''
"""A storage driver shipped by another package (written by the tests)."""
from storage_drivers.inmemory import InMemoryDriver


class MyDriver(InMemoryDriver):
    name = "mydriver"

    def __init__(self, greeting: str = "none") -> None:
        super().__init__()
        self.greeting = greeting


class NotADriver:
    pass
'''


def install_third_party_driver(site: Path) -> Path:
    """Lay out an installed distribution ``mypkg`` in ``site`` (a sys.path entry), as pip
    would: the module plus ``*.dist-info`` whose entry points declare drivers."""
    (site / "mypkg").mkdir(parents=True)
    (site / "mypkg" / "__init__.py").write_text(THIRD_PARTY_MODULE)
    info = site / "mypkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mypkg\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[pyregistry.storage_drivers]\nmydriver = mypkg:MyDriver\nnotadriver = mypkg:NotADriver\n"
    )
    return site


def run_python(code: str, *sys_path: Path) -> str:
    """Run ``code`` in a fresh interpreter with ``sys_path`` and this repository importable."""
    path = os.pathsep.join([*map(str, sys_path), str(REPO_ROOT)])
    return run([sys.executable, "-c", code], env={"PYTHONPATH": path}, cwd=REPO_ROOT)
