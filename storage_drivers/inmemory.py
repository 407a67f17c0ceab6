"""A driver that keeps everything in one process's memory: for tests and embedding."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import ClassVar

from storage_drivers.base import DEFAULT_CHUNK_SIZE, FileInfo, FileWriter, StorageDriver
from storage_drivers.errors import InvalidOffset, PathNotFound, WriterClosed
from storage_drivers.paths import check_path


class _File:
    """Committed content; never mutated once stored, so readers may keep a reference."""

    __slots__ = ("data", "mod_time")

    def __init__(self, data: bytes | bytearray = b"") -> None:
        self.data = data
        self.mod_time = datetime.now(UTC)


class InMemoryDriver(StorageDriver):
    """Files in a dict keyed by path; directories are implied by their descendants."""

    name: ClassVar[str] = "inmemory"
    removals_wait = False

    def __init__(self, **_: object) -> None:
        self._files: dict[str, _File] = {}
        self._pending: dict[str, bytearray] = {}

    def _check(self, path: str, allow_root: bool = False) -> str:
        return check_path(path, driver=self.name, allow_root=allow_root)

    def _is_dir(self, path: str) -> bool:
        prefix = "/" if path == "/" else path + "/"
        return any(p.startswith(prefix) for p in self._files)

    async def get_content(self, path: str) -> bytes:
        self._check(path)
        f = self._files.get(path)
        if f is None:
            raise PathNotFound(path, driver=self.name)
        return bytes(f.data)

    async def put_content(self, path: str, content: bytes) -> None:
        self._check(path)
        self._files[path] = _File(bytes(content))

    async def reader(
        self, path: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        self._check(path)
        f = self._files.get(path)
        if f is None:
            raise PathNotFound(path, driver=self.name)
        if offset < 0 or offset > len(f.data):
            raise InvalidOffset(path, offset, driver=self.name)
        data = f.data
        end = len(data) if length is None else min(len(data), offset + max(length, 0))

        async def chunks() -> AsyncIterator[bytes]:
            # Copy one chunk at a time: memory stays bounded by the chunk size.
            for i in range(offset, end, DEFAULT_CHUNK_SIZE):
                yield bytes(data[i : min(end, i + DEFAULT_CHUNK_SIZE)])

        return chunks()

    async def writer(self, path: str, append: bool = False) -> FileWriter:
        self._check(path)
        if append:
            if path not in self._pending:
                raise PathNotFound(path, driver=self.name)
        else:
            self._pending[path] = bytearray()
        return _InMemoryWriter(self, path)

    async def stat(self, path: str) -> FileInfo:
        self._check(path)
        f = self._files.get(path)
        if f is not None:
            return FileInfo(path, len(f.data), f.mod_time, False)
        if self._is_dir(path):
            return FileInfo(path, 0, datetime.now(UTC), True)
        raise PathNotFound(path, driver=self.name)

    async def list(self, path: str) -> list[str]:
        self._check(path, allow_root=True)
        prefix = "/" if path == "/" else path + "/"
        children = {
            prefix + p[len(prefix) :].split("/", 1)[0] for p in self._files if p.startswith(prefix)
        }
        if not children:
            if path == "/":
                return []
            raise PathNotFound(path, driver=self.name)
        return sorted(children)

    async def move(self, source: str, dest: str) -> None:
        self._check(source)
        self._check(dest)
        f = self._files.pop(source, None)
        if f is None:
            raise PathNotFound(source, driver=self.name)
        for p in [p for p in self._files if p.startswith(dest + "/")]:
            del self._files[p]
        self._files[dest] = f

    async def delete(self, path: str) -> None:
        self._check(path)
        doomed = [p for p in self._files if p == path or p.startswith(path + "/")]
        pending = [p for p in self._pending if p == path or p.startswith(path + "/")]
        if not doomed and not pending:
            raise PathNotFound(path, driver=self.name)
        for p in doomed:
            del self._files[p]
        for p in pending:
            del self._pending[p]

    async def walk(self, path: str) -> AsyncIterator[FileInfo]:
        self._check(path, allow_root=True)
        if path != "/" and path in self._files:
            return
        for child in await self.list(path):
            info = await self.stat(child)
            yield info
            if info.is_dir:
                async for sub in self.walk(child):
                    yield sub


class _InMemoryWriter(FileWriter):
    """A handle on the driver's pending buffer for a path: all state stays in the driver,
    so a writer reopened with append=True sees what earlier ones wrote."""

    def __init__(self, driver: InMemoryDriver, path: str) -> None:
        self._driver = driver
        self._path = path
        self._done = False

    @property
    def size(self) -> int:
        buf = self._driver._pending.get(self._path)
        return len(buf) if buf is not None else 0

    def _buffer(self) -> bytearray:
        if self._done:
            raise WriterClosed("writer already closed", driver="inmemory", path=self._path)
        buf = self._driver._pending.get(self._path)
        if buf is None:
            raise PathNotFound(self._path, driver="inmemory")
        return buf

    async def write(self, data: bytes) -> int:
        self._buffer().extend(data)
        return len(data)

    async def close(self) -> None:
        self._done = True

    async def cancel(self) -> None:
        self._buffer()
        self._driver._pending.pop(self._path, None)
        self._done = True

    async def commit(self) -> None:
        buf = self._buffer()
        self._driver._pending.pop(self._path, None)
        # The buffer now belongs to the committed file (no copy of a possibly big blob).
        self._driver._files[self._path] = _File(buf)
        self._done = True
