"""Upload sessions: blobs pushed in chunks, verified, then moved into the blob store.

On disk (distribution's layout): ``_uploads/<id>/startedat`` (RFC 3339) marks the session,
``_uploads/<id>/data`` receives the bytes through a driver writer that stays uncommitted
(invisible) until the client completes the upload. This process keeps a running hash per
session so commit usually needs no second pass over the data; when other processes (or a
restart) wrote bytes this one never saw, commit re-reads the data to hash it.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import AsyncIterable
from datetime import UTC, datetime

from pyregistry.storage import paths
from pyregistry.storage.blobs import LinkedBlobStore
from pyregistry.storage.context import StorageContext, UploadProgress
from pyregistry.storage.descriptors import BlobDescriptor
from pyregistry.storage.digest import Digest
from pyregistry.storage.errors import BlobUploadUnknown, DigestInvalid, RangeInvalid
from pyregistry.storage.guard import guarded
from storage_drivers.errors import PathNotFound

_FRACTION = re.compile(r"\.(\d+)")


def format_started_at(moment: datetime) -> str:
    """RFC 3339 in UTC, seconds precision, as distribution writes ``startedat``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_started_at(text: str) -> datetime | None:
    """Parse RFC 3339 (also Go's nanosecond form); None when it is not a timestamp."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    value = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value, count=1)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class UploadStore:
    """Creates and finds the upload sessions of one repository."""

    def __init__(self, ctx: StorageContext, repository: str, blobs: LinkedBlobStore) -> None:
        self._ctx = ctx
        self.repository = repository
        self._blobs = blobs

    @guarded
    async def create(self) -> UploadSession:
        self._ctx.check_writable()
        upload_id = str(uuid.uuid4())
        started_at = datetime.now(UTC).replace(microsecond=0)
        driver = self._ctx.driver
        await driver.put_content(
            paths.upload_started_at_path(self.repository, upload_id),
            format_started_at(started_at).encode(),
        )
        writer = await driver.writer(paths.upload_data_path(self.repository, upload_id))
        await writer.close()
        progress = self._ctx.progress(self.repository, upload_id)
        progress.hasher = hashlib.sha256()
        progress.offset = 0
        return UploadSession(self._ctx, self.repository, upload_id, started_at, self._blobs)

    @guarded
    async def resume(self, upload_id: str) -> UploadSession:
        """The session ``upload_id``; BlobUploadUnknown if it never existed or has ended."""
        path = paths.upload_started_at_path(self.repository, upload_id)
        try:
            text = await self._ctx.driver.get_content(path)
        except PathNotFound as exc:
            raise BlobUploadUnknown(detail={"uuid": upload_id}) from exc
        started_at = parse_started_at(text.decode("utf-8", "replace"))
        if started_at is None:
            started_at = datetime.fromtimestamp(0, UTC)
        return UploadSession(self._ctx, self.repository, upload_id, started_at, self._blobs)


class UploadSession:
    """One blob upload in progress; every method re-reads state from storage."""

    def __init__(
        self,
        ctx: StorageContext,
        repository: str,
        upload_id: str,
        started_at: datetime,
        blobs: LinkedBlobStore,
    ) -> None:
        self._ctx = ctx
        self.repository = repository
        self.id = upload_id
        self.started_at = started_at
        self._blobs = blobs
        self._data = paths.upload_data_path(repository, upload_id)
        self._dir = paths.upload_path(repository, upload_id)

    def __repr__(self) -> str:
        return f"UploadSession({self.repository!r}, {self.id!r})"

    def _unknown(self) -> BlobUploadUnknown:
        return BlobUploadUnknown(detail={"uuid": self.id})

    def _progress(self) -> UploadProgress:
        return self._ctx.progress(self.repository, self.id)

    @guarded
    async def size(self) -> int:
        """Bytes received so far (the end of the ``Range`` the API reports)."""
        driver = self._ctx.driver
        try:
            writer = await driver.writer(self._data, append=True)
        except PathNotFound:
            try:
                return (await driver.stat(self._data)).size  # commit under way elsewhere
            except PathNotFound as exc:
                raise self._unknown() from exc
        size = writer.size
        await writer.close()
        return size

    @guarded
    async def append(self, chunks: AsyncIterable[bytes], offset: int | None = None) -> int:
        """Append a chunk; ``offset`` must equal the current size (else RangeInvalid)."""
        self._ctx.check_writable()
        progress = self._progress()
        async with progress.lock:
            return await self._append(progress, chunks, offset)

    async def _append(
        self, progress: UploadProgress, chunks: AsyncIterable[bytes], offset: int | None
    ) -> int:
        try:
            writer = await self._ctx.driver.writer(self._data, append=True)
        except PathNotFound as exc:
            raise self._unknown() from exc
        try:
            start = writer.size
            if offset is not None and offset != start:
                raise RangeInvalid(
                    f"chunk starts at {offset} but the upload has {start} bytes",
                    detail={"uuid": self.id, "offset": offset, "size": start},
                )
            if progress.hasher is None or progress.offset != start:
                # The running hash can only follow bytes it saw from the start.
                progress.hasher = hashlib.sha256() if start == 0 else None
                progress.offset = 0
            async for chunk in chunks:
                if not chunk:
                    continue
                await writer.write(chunk)
                if progress.hasher is not None:
                    progress.hasher.update(chunk)
                    progress.offset += len(chunk)
            return writer.size
        finally:
            await writer.close()

    @guarded
    async def commit(
        self,
        digest: Digest,
        chunks: AsyncIterable[bytes] | None = None,
        offset: int | None = None,
    ) -> BlobDescriptor:
        """Finish the upload: verify ``digest``, move the data into the blob store, link it.

        On a digest mismatch the session is cancelled and DigestInvalid raised; nothing
        becomes visible. A blob already in the store is not written again.
        """
        self._ctx.check_writable()
        blob_data = paths.blob_data_path(digest)
        progress = self._progress()
        async with progress.lock:
            if chunks is not None:
                await self._append(progress, chunks, offset)
            elif offset is not None:
                current = await self.size()
                if offset != current:
                    raise RangeInvalid(
                        f"chunk starts at {offset} but the upload has {current} bytes",
                        detail={"uuid": self.id, "offset": offset, "size": current},
                    )
            size = await self._commit_data()
            computed = await self._digest_of(size, digest.algorithm, progress)
            if computed != digest:
                await self._remove()
                raise DigestInvalid(
                    f"upload has digest {computed}, not {digest}", detail={"digest": str(digest)}
                )
            driver = self._ctx.driver
            if not await self._ctx.exists(blob_data):
                await driver.move(self._data, blob_data)
            await self._remove()
        descriptor = BlobDescriptor(digest, size)
        if self._ctx.cache is not None:
            await self._ctx.cache.set(None, descriptor)
        await self._blobs.link(descriptor)
        return descriptor

    async def _commit_data(self) -> int:
        """Commit the writer so the data is readable at ``_uploads/<id>/data``; its size."""
        driver = self._ctx.driver
        try:
            writer = await driver.writer(self._data, append=True)
        except PathNotFound:
            try:
                return (await driver.stat(self._data)).size  # committed by an earlier attempt
            except PathNotFound as exc:
                raise self._unknown() from exc
        size = writer.size
        await writer.commit()
        return size

    async def _digest_of(self, size: int, algorithm: str, progress: UploadProgress) -> Digest:
        hasher = progress.hasher
        if hasher is not None and progress.offset == size and hasher.name == algorithm:
            return Digest(algorithm, hasher.hexdigest())
        hasher = hashlib.new(algorithm)
        async for chunk in await self._ctx.driver.reader(self._data):
            hasher.update(chunk)
        return Digest(algorithm, hasher.hexdigest())

    async def _remove(self) -> None:
        """Drop the whole session directory and any uncommitted writer data."""
        self._ctx.forget_upload(self.repository, self.id)
        await remove_upload(self._ctx, self.repository, self.id)

    @guarded
    async def cancel(self) -> None:
        """End the session and delete its data; BlobUploadUnknown if it is already gone."""
        self._ctx.check_writable()
        progress = self._progress()
        async with progress.lock:
            if not await remove_upload(self._ctx, self.repository, self.id):
                self._ctx.forget_upload(self.repository, self.id)
                raise self._unknown()
            self._ctx.forget_upload(self.repository, self.id)


async def remove_upload(ctx: StorageContext, repository: str, upload_id: str) -> bool:
    """Delete an upload session's pending writer and directory; False if neither existed."""
    found = False
    try:
        writer = await ctx.driver.writer(paths.upload_data_path(repository, upload_id), True)
    except PathNotFound:
        pass
    else:
        await writer.cancel()
        found = True
    try:
        await ctx.driver.delete(paths.upload_path(repository, upload_id))
        found = True
    except PathNotFound:
        pass
    return found
