"""Blobs: the global content-addressed store, and each repository's view of it through links.

A blob lives once under ``blobs/``; a repository sees it only when
``repositories/<name>/_layers/<alg>/<hex>/link`` names it. Deleting a blob from a
repository removes the link only; reclaiming space is garbage collection's job.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from pyregistry.storage import enumerate as stored
from pyregistry.storage import paths
from pyregistry.storage.blob_read import BlobRead
from pyregistry.storage.context import StorageContext
from pyregistry.storage.descriptors import BlobDescriptor
from pyregistry.storage.digest import ALGORITHMS, Digest
from pyregistry.storage.errors import BlobUnknown, NameInvalid, RangeInvalid
from pyregistry.storage.guard import guarded, guarded_stream
from pyregistry.storage.names import check_name
from storage_drivers.base import Chunk
from storage_drivers.errors import InvalidOffset, PathNotFound
from storage_drivers.errors import Unsupported as DriverUnsupported


async def delete_blob_path(
    ctx: StorageContext, path: str, repository: str | None, digest: Digest
) -> None:
    """Delete a blob's data or link; the cache forgets it even if storage failed midway."""
    try:
        await ctx.driver.delete(path)
    except PathNotFound as exc:
        raise BlobUnknown(detail={"digest": str(digest)}) from exc
    finally:
        if ctx.cache is not None:
            await ctx.cache.delete(repository, digest)


class BlobStore:
    """The global store under ``blobs/``, shared by every repository."""

    def __init__(self, ctx: StorageContext) -> None:
        self._ctx = ctx

    @guarded
    async def stat(self, digest: Digest) -> BlobDescriptor | None:
        """The blob's descriptor if it is in the store (cache first), else None."""
        path = paths.blob_data_path(digest)
        cache = self._ctx.cache
        if cache is not None:
            cached = await cache.get(None, digest)
            if cached is not None:
                return cached
        try:
            info = await self._ctx.driver.stat_file(path)
        except PathNotFound:
            return None
        descriptor = BlobDescriptor(digest, info.size)
        if cache is not None:
            await cache.set(None, descriptor)
        return descriptor

    @guarded
    async def open(
        self, digest: Digest, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        """Stream the blob; errors (BlobUnknown, RangeInvalid) come before the first chunk."""
        return await self._opened(self._ctx.driver.reader, digest, offset, length)

    @guarded
    async def open_for_sending(
        self, digest: Digest, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes | memoryview]:
        """:meth:`open` for chunks sent on untouched (the driver may map, not copy)."""
        return await self._opened(self._ctx.driver.send_reader, digest, offset, length)

    async def _opened(
        self,
        reader: Callable[[str, int, int | None], Awaitable[AsyncIterator[Chunk]]],
        digest: Digest,
        offset: int,
        length: int | None,
    ) -> AsyncIterator[Chunk]:
        path = paths.blob_data_path(digest)
        try:
            chunks = await reader(path, offset, length)
        except PathNotFound as exc:
            raise BlobUnknown(detail={"digest": str(digest)}) from exc
        except InvalidOffset as exc:
            raise RangeInvalid(
                f"offset {offset} is outside the blob", detail={"digest": str(digest)}
            ) from exc
        return guarded_stream(chunks)

    @guarded
    async def put(self, content: bytes, algorithm: str = "sha256") -> BlobDescriptor:
        """Store small content in one atomic write, unless it is there already."""
        if algorithm not in ALGORITHMS:
            raise ValueError(f"unsupported digest algorithm {algorithm!r}")
        digest = Digest.from_bytes(content, algorithm)
        for path, data in (await self.writes_for(content, digest)).items():
            await self._ctx.driver.put_content(path, data)
        return await self.stored(BlobDescriptor(digest, len(content)))

    async def writes_for(self, content: bytes, digest: Digest) -> dict[str, bytes]:
        """What storing small ``content`` (whose digest is ``digest``) writes: its data
        file, or nothing when it is there already. For a caller that makes these writes
        together with its own in one driver call, then calls :meth:`stored`."""
        path = paths.blob_data_path(digest)
        # Ask storage, not the cache: a stale entry must never stop content being written.
        return {} if await self._ctx.file_exists(path) else {path: content}

    async def stored(self, descriptor: BlobDescriptor) -> BlobDescriptor:
        """Note content just written (or found) in the descriptor cache."""
        if self._ctx.cache is not None:
            await self._ctx.cache.set(None, descriptor)
        return descriptor

    @guarded
    async def delete(self, digest: Digest) -> None:
        """Remove the content itself (garbage collection); BlobUnknown if it is not there.

        Links are left alone: the caller makes sure no repository names the blob any more.
        """
        path = paths.blob_path(digest)
        self._ctx.check_writable()
        await delete_blob_path(self._ctx, path, None, digest)

    def enumerate(self) -> AsyncIterator[Digest]:
        """Every blob in the store, read from the driver's tree (garbage collection)."""
        return guarded_stream(blob.digest async for blob in stored.blobs(self._ctx.driver))

    @guarded
    async def redirect_url(self, digest: Digest) -> str | None:
        if not self._ctx.redirect:
            return None
        path = paths.blob_data_path(digest)
        driver = self._ctx.driver
        try:
            url = await driver.redirect_url(path)
        except (DriverUnsupported, NotImplementedError):
            url = None
        for middleware in self._ctx.redirects:
            url = middleware.redirect_url(driver, path, url)
        return url


class LinkedBlobStore:
    """The blobs one repository can see, through its ``_layers`` links."""

    def __init__(self, ctx: StorageContext, repository: str, global_store: BlobStore) -> None:
        self._ctx = ctx
        self.repository = repository
        self._global = global_store

    def _link(self, digest: Digest) -> str:
        return paths.layer_link_path(self.repository, digest)

    @guarded
    async def stat(self, digest: Digest) -> BlobDescriptor:
        """The blob's descriptor if linked here and present in the store; else BlobUnknown."""
        link = self._link(digest)
        cache = self._ctx.cache
        if cache is not None:
            cached = await cache.get(self.repository, digest)
            if cached is not None:
                return cached
        target = await self._ctx.read_link(link)
        if target is None:
            raise BlobUnknown(detail={"digest": str(digest)})
        descriptor = await self._global.stat(target)
        if descriptor is None:
            raise BlobUnknown(detail={"digest": str(digest)})
        descriptor = BlobDescriptor(digest, descriptor.size, descriptor.media_type)
        if cache is not None:
            await cache.set(self.repository, descriptor)
        return descriptor

    async def open(
        self, digest: Digest, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        """Stream a linked blob; BlobUnknown / RangeInvalid are raised before the first chunk."""
        return await (await self.open_read(digest)).stream(offset, length)

    async def open_read(self, digest: Digest) -> BlobRead:
        """A linked blob's descriptor, its bytes opened only when streamed."""
        descriptor = await self.stat(digest)
        return BlobRead(
            descriptor,
            lambda offset, length: self._global.open(digest, offset, length),
            sender=lambda offset, length: self._global.open_for_sending(digest, offset, length),
        )

    async def get(self, digest: Digest) -> bytes:
        """A linked blob's whole content (for small blobs: configs, manifests' references)."""
        return b"".join([chunk async for chunk in await self.open(digest)])

    async def redirect_url(self, digest: Digest) -> str | None:
        """A direct URL from the driver (e.g. a presigned S3 URL), or None."""
        self._link(digest)
        if not self._ctx.redirect:
            return None
        await self.stat(digest)
        return await self._global.redirect_url(digest)

    @guarded
    async def delete(self, digest: Digest) -> None:
        """Unlink the blob from this repository (the content stays for GC to reclaim)."""
        link = self._link(digest)
        self._ctx.check_delete()
        await delete_blob_path(self._ctx, link, self.repository, digest)

    @guarded
    async def held(self, digest: Digest) -> BlobDescriptor | None:
        """The blob's descriptor when the storage holds it, linked here or not (what a
        mount without ``from`` would link), else None; nothing is linked."""
        return await self._global.stat(digest)

    @guarded
    async def mount(self, digest: Digest, from_repository: str | None) -> BlobDescriptor | None:
        """Link a blob that exists elsewhere; None when it cannot (the client then uploads)."""
        link = self._link(digest)
        self._ctx.check_writable()
        if from_repository is None:
            descriptor = await self._global.stat(digest)
        else:
            try:
                source = LinkedBlobStore(self._ctx, check_name(from_repository), self._global)
            except NameInvalid:
                return None  # nothing to mount from: the client uploads instead
            try:
                descriptor = await source.stat(digest)
            except BlobUnknown:
                descriptor = None
        if descriptor is None:
            return None
        await self._link_descriptor(link, descriptor)
        return descriptor

    @guarded
    async def put(self, content: bytes, algorithm: str = "sha256") -> BlobDescriptor:
        """Store and link small content in one go; the digest is computed here."""
        self._ctx.check_writable()
        descriptor = await self._global.put(content, algorithm)
        await self._link_descriptor(self._link(descriptor.digest), descriptor)
        return descriptor

    async def link(self, descriptor: BlobDescriptor) -> None:
        """Make a blob already in the global store visible here (used by upload commit)."""
        await self._link_descriptor(self._link(descriptor.digest), descriptor)

    async def _link_descriptor(self, link: str, descriptor: BlobDescriptor) -> None:
        async with self._ctx.change(self.repository, contents=False):
            await self._ctx.write_link(link, descriptor.digest)
        if self._ctx.cache is not None:
            await self._ctx.cache.set(self.repository, descriptor)
