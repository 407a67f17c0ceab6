"""The ``gcs`` driver: registry paths as objects in a Google Cloud Storage bucket.

Same options and keys as distribution's ``gcs`` driver (``<rootdirectory>/<path>``), on
google-cloud-storage, whose blocking calls run on the driver's thread pool. As with S3,
a directory is a key prefix with objects below it; writers keep their data as segments
beside the path until ``commit`` composes them (:mod:`storage_drivers.gcs.writer`).
``STORAGE_EMULATOR_HOST`` points the driver at an emulator, as for every Google client.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from storage_drivers.base import DEFAULT_CHUNK_SIZE, FileInfo, FileWriter, StorageDriver
from storage_drivers.errors import InvalidOffset, PathNotFound
from storage_drivers.gcs.backend import GCSBackend
from storage_drivers.gcs.parameters import DRIVER, GCSParameters
from storage_drivers.gcs.writer import GCSWriter
from storage_drivers.object_walk import valid_relative, walked
from storage_drivers.paths import check_path

#: Bytes a reader asks for at a time: memory stays at one such piece per read.
READ_CHUNK = 4 * 1024 * 1024
#: How long a redirect URL stays valid (distribution's value).
REDIRECT_EXPIRY = dt.timedelta(minutes=20)


class GCSDriver(StorageDriver):
    """Stores every path as an object under ``rootdirectory`` in ``bucket``."""

    name: ClassVar[str] = DRIVER

    def __init__(self, **parameters: Any) -> None:
        self.parameters = GCSParameters.from_mapping(parameters)
        self._backend = GCSBackend(self.parameters)
        with contextlib.suppress(Exception):  # else the first call says why
            _ = self._backend.bucket

    def _check(self, path: str, allow_root: bool = False) -> str:
        return check_path(path, driver=self.name, allow_root=allow_root)

    # -- whole objects ------------------------------------------------------------------

    async def get_content(self, path: str) -> bytes:
        self._check(path)
        blob = self._backend.blob(self._backend.key(path))
        data: bytes = await self._backend.call(path, blob.download_as_bytes, checksum=None)
        return data

    async def put_content(self, path: str, content: bytes) -> None:
        self._check(path)
        blob = self._backend.blob(self._backend.key(path))
        await self._backend.call(path, blob.upload_from_string, bytes(content))

    async def reader(
        self, path: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        """The object's size first (errors before the first chunk), then ranged GETs of
        :data:`READ_CHUNK`."""
        self._check(path)
        if offset < 0:
            raise InvalidOffset(path, offset, driver=self.name)
        size = (await self.stat(path, directories=False)).size
        if offset > size:
            raise InvalidOffset(path, offset, driver=self.name)
        end = size if length is None else min(size, offset + max(length, 0))
        return self._chunks(path, offset, end)

    async def _chunks(self, path: str, start: int, end: int) -> AsyncIterator[bytes]:
        blob = self._backend.blob(self._backend.key(path))
        position = start
        while position < end:
            last = min(position + READ_CHUNK, end) - 1
            piece: bytes = await self._backend.call(
                path, blob.download_as_bytes, start=position, end=last, checksum=None
            )
            if not piece:
                return  # the object shrank under us (replaced): what there was is read
            position += len(piece)
            for at in range(0, len(piece), DEFAULT_CHUNK_SIZE):  # the contract's chunk size
                yield piece[at : at + DEFAULT_CHUNK_SIZE]

    # -- writers ------------------------------------------------------------------------

    async def writer(self, path: str, append: bool = False) -> FileWriter:
        self._check(path)
        chunksize = self.parameters.chunksize
        if append:
            return await GCSWriter.resume(self._backend, path, chunksize)
        return await GCSWriter.start(self._backend, path, chunksize)

    # -- metadata -----------------------------------------------------------------------

    async def stat(self, path: str, *, directories: bool = True) -> FileInfo:
        """The object, else (``directories``) a directory when real objects lie below."""
        self._check(path)
        key = self._backend.key(path)
        blob = await self._backend.call(path, self._backend.bucket.get_blob, key)
        if blob is not None:
            modified = blob.updated or dt.datetime.now(dt.UTC)
            return FileInfo(path, int(blob.size or 0), modified, False)
        if directories and await self._has_children(path):
            return FileInfo(path, 0, dt.datetime.now(dt.UTC), True)
        raise PathNotFound(path, driver=self.name)

    async def _has_children(self, path: str) -> bool:
        prefix = self._backend.prefix(path)
        found, prefixes = await self._backend.call(path, self._backend.listing, prefix, "/")
        names = [key[len(prefix) :] for key, _, _ in found]
        names += [p[len(prefix) : -1] for p in prefixes]
        return any(name and valid_relative(name) for name in names)

    async def list(self, path: str) -> list[str]:
        self._check(path, allow_root=True)
        prefix = self._backend.prefix(path)
        found, prefixes = await self._backend.call(path, self._backend.listing, prefix, "/")
        names = [key[len(prefix) :] for key, _, _ in found]
        names += [p[len(prefix) : -1] for p in prefixes]
        children = {
            self._backend.to_path(path, name)
            for name in names
            if name and "/" not in name and valid_relative(name)
        }
        if not children and path != "/":
            raise PathNotFound(path, driver=self.name)
        return sorted(children)

    async def walk(self, path: str) -> AsyncIterator[FileInfo]:
        self._check(path, allow_root=True)
        prefix = self._backend.prefix(path)
        found, _ = await self._backend.call(path, self._backend.listing, prefix)

        async def keys() -> AsyncIterator[tuple[str, int, dt.datetime | None]]:
            for entry in found:
                yield entry

        async for info in walked(path, prefix, keys(), self.stat):
            yield info

    # -- move and delete ----------------------------------------------------------------

    async def move(self, source: str, dest: str) -> None:
        self._check(source)
        self._check(dest)
        if source == dest:
            await self.stat(source, directories=False)
            return
        await self._backend.call(source, self._rewrite, source, dest)
        with contextlib.suppress(PathNotFound):  # moved by another caller meanwhile
            blob = self._backend.blob(self._backend.key(source))
            await self._backend.call(source, blob.delete)

    def _rewrite(self, source: str, dest: str) -> None:
        """Copy ``source`` over ``dest`` server-side, token after token (blocking)."""
        bucket = self._backend.bucket
        target = bucket.blob(self._backend.key(dest))
        origin = bucket.blob(self._backend.key(source))
        token, _, _ = target.rewrite(origin)
        while token is not None:
            token, _, _ = target.rewrite(origin, token=token)

    async def delete(self, path: str) -> None:
        """The object at ``path`` and everything below it, uncommitted writers too."""
        self._check(path)
        key = self._backend.key(path)
        found, _ = await self._backend.call(path, self._backend.listing, key)
        doomed = [
            name
            for name, _, _ in found
            if name == key or name.startswith(key + "/") or name.startswith(key + "~partial/")
        ]
        real = [n for n in doomed if n == key or valid_relative(n[len(key) + 1 :])]
        if not real:
            raise PathNotFound(path, driver=self.name)
        for name in doomed:
            with contextlib.suppress(PathNotFound):
                await self._backend.call(path, self._backend.blob(name).delete)

    # -- misc ---------------------------------------------------------------------------

    async def redirect_url(self, path: str, method: str = "GET") -> str | None:
        """A signed URL valid for 20 minutes, when the credentials can sign (a service
        account's key); None otherwise (an emulator, a VM's default credentials)."""
        self._check(path)
        if method.upper() not in ("GET", "HEAD") or not (
            self.parameters.keyfile or self.parameters.credentials
        ):
            return None
        blob = self._backend.blob(self._backend.key(path))
        url: str = await self._backend.call(
            path,
            blob.generate_signed_url,
            version="v4",
            expiration=REDIRECT_EXPIRY,
            method=method.upper(),
        )
        return url

    async def close(self) -> None:
        self._backend.close()
