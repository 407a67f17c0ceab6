"""The driver contract on a flat object store: a path is the object ``<root>/<path>``, a
directory a name prefix with real objects below it. What a writer keeps before commit
is named ``<name>~...``: ``~`` is outside the path grammar, so listings and walks never
show it, and deleting a path takes it along."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

from storage_drivers.base import DEFAULT_CHUNK_SIZE, FileInfo, StorageDriver
from storage_drivers.errors import InvalidOffset, PathNotFound
from storage_drivers.object_store.conditions import StoreConditions
from storage_drivers.object_store.store import Listed, ObjectStore
from storage_drivers.object_walk import valid_relative, walked
from storage_drivers.paths import check_path

#: Bytes a reader asks the store for at a time (handed out in the contract's chunks).
READ_CHUNK = 4 * 1024 * 1024
#: What starts the names a writer keeps beside its path.
HIDDEN = "~"


S = TypeVar("S", bound=ObjectStore)


class ObjectStoreDriver(StorageDriver, Generic[S]):
    """Everything but the writers, on :attr:`store`."""

    store: S

    def _check(self, path: str, allow_root: bool = False) -> str:
        return check_path(path, driver=self.name, allow_root=allow_root)

    # -- whole objects ------------------------------------------------------------------

    async def get_content(self, path: str) -> bytes:
        self._check(path)
        return await self.store.call(path, self.store.get, self.store.key(path))

    async def put_content(self, path: str, content: bytes) -> None:
        self._check(path)
        await self.store.call(path, self.store.put, self.store.key(path), bytes(content))

    # -- conditional writes (see conditions.py) -----------------------------------------

    @functools.cached_property
    def _conditions(self) -> StoreConditions:
        return StoreConditions(self.store)

    async def conditional_writes(self) -> bool:
        return await self._conditions.supported()

    async def get_content_version(self, path: str) -> tuple[bytes, str]:
        self._check(path)
        return await self.store.call(path, self.store.get_versioned, self.store.key(path))

    async def put_content_if(self, path: str, content: bytes, version: str | None) -> str:
        self._check(path)
        key = self.store.key(path)
        return await self.store.call(path, self.store.put_if, key, bytes(content), version)

    async def delete_if(self, path: str, version: str) -> None:
        self._check(path)
        with contextlib.suppress(PathNotFound):
            await self.store.call(path, self.store.remove_if, self.store.key(path), version)

    async def reader(
        self, path: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        """The object's size first (errors before the first chunk), then ranged reads."""
        self._check(path)
        if offset < 0:
            raise InvalidOffset(path, offset, driver=self.name)
        size = (await self.stat(path, directories=False)).size
        if offset > size:
            raise InvalidOffset(path, offset, driver=self.name)
        end = size if length is None else min(size, offset + max(length, 0))
        return self._chunks(path, offset, end)

    async def _chunks(self, path: str, start: int, end: int) -> AsyncIterator[bytes]:
        name = self.store.key(path)
        position = start
        while position < end:
            count = min(READ_CHUNK, end - position)
            piece = await self.store.call(path, self.store.read, name, position, count)
            if not piece:
                return  # the object shrank under us (replaced): what there was is read
            position += len(piece)
            for at in range(0, len(piece), DEFAULT_CHUNK_SIZE):
                yield piece[at : at + DEFAULT_CHUNK_SIZE]

    # -- metadata -----------------------------------------------------------------------

    async def stat(self, path: str, *, directories: bool = True) -> FileInfo:
        """The object, else (``directories``) a directory when real objects lie below."""
        self._check(path)
        found = await self.store.call(path, self.store.head, self.store.key(path))
        if found is not None:
            return FileInfo(path, found[0], found[1], False)
        if directories and await self._children(path):
            return FileInfo(path, 0, dt.datetime.now(dt.UTC), True)
        raise PathNotFound(path, driver=self.name)

    async def stat_file(self, path: str) -> FileInfo:
        return await self.stat(path, directories=False)

    async def _children(self, path: str) -> list[str]:
        """Driver paths of the real entries one level below ``path``."""
        prefix = self.store.prefix(path)
        found, prefixes = await self.store.call(path, self.store.listing, prefix, "/")
        names = [name[len(prefix) :] for name, _, _ in found]
        names += [p[len(prefix) : -1] for p in prefixes]
        children = {
            self.store.to_path(path, name)
            for name in names
            if name and "/" not in name and valid_relative(name)
        }
        return sorted(children)

    async def list(self, path: str) -> list[str]:
        self._check(path, allow_root=True)
        children = await self._children(path)
        if not children and path != "/":
            raise PathNotFound(path, driver=self.name)
        return children

    async def walk(self, path: str) -> AsyncIterator[FileInfo]:
        self._check(path, allow_root=True)
        prefix = self.store.prefix(path)
        found, _ = await self.store.call(path, self.store.listing, prefix)
        async for info in walked(path, prefix, _listed(found), self.stat):
            yield info

    # -- move and delete ----------------------------------------------------------------

    async def move(self, source: str, dest: str) -> None:
        """A server-side copy, then the source removed."""
        self._check(source)
        self._check(dest)
        if source == dest:
            await self.stat(source, directories=False)
            return
        name = self.store.key(source)
        await self.store.call(source, self.store.copy, name, self.store.key(dest))
        with contextlib.suppress(PathNotFound):  # moved by another caller meanwhile
            await self.store.call(source, self.store.remove, name)

    async def delete(self, path: str) -> None:
        """The object at ``path``, everything below it, and what writers keep there."""
        self._check(path)
        name = self.store.key(path)
        found, _ = await self.store.call(path, self.store.listing, name)
        doomed = [
            listed
            for listed, _, _ in found
            if listed == name or listed.startswith((name + "/", name + HIDDEN))
        ]
        if not any(d == name or valid_relative(d[len(name) + 1 :]) for d in doomed):
            raise PathNotFound(path, driver=self.name)
        for listed in doomed:
            with contextlib.suppress(PathNotFound):
                await self.store.call(path, self.store.remove, listed)

    # -- misc ---------------------------------------------------------------------------

    async def redirect_url(self, path: str, method: str = "GET") -> str | None:
        """A signed URL valid for 20 minutes, when the store's credentials can sign."""
        self._check(path)
        if method.upper() not in ("GET", "HEAD"):
            return None
        return await self.store.call(
            path, self.store.signed_url, self.store.key(path), method.upper()
        )

    async def close(self) -> None:
        self.store.close()


async def _listed(found: list[Listed]) -> AsyncIterator[tuple[str, int, dt.datetime | None]]:
    for entry in found:
        yield entry
