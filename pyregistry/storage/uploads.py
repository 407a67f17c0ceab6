"""Upload sessions: blobs pushed in chunks, verified, then moved into the blob store.

On disk (distribution's layout): ``_uploads/<id>/startedat`` (RFC 3339) marks the session,
``_uploads/<id>/data`` receives the bytes through a driver writer that stays uncommitted
(invisible) until the client completes the upload. This process keeps a running hash per
session, fed off the event loop as chunks arrive (``hashing.py``), so commit usually needs
no second pass over the data; when other processes (or a restart) wrote bytes this one
never saw, it takes up the hash state they saved (``hash_states.py``), and only without
one does commit re-read the data to hash it.

Every write (append, commit, cancel) holds the session through ``ctx.upload_locks``
(``session_lock.py``), so the offset check and the write it guards are one step for every
worker and instance: a second concurrent writer is refused, never acknowledged.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterable, Callable
from datetime import UTC, datetime

from pyregistry.storage import hash_states, paths
from pyregistry.storage.blobs import LinkedBlobStore
from pyregistry.storage.context import StorageContext, UploadProgress, link_content
from pyregistry.storage.descriptors import BlobDescriptor
from pyregistry.storage.digest import Digest
from pyregistry.storage.errors import (
    BlobUploadUnknown,
    RangeInvalid,
    UploadDigestMismatch,
)
from pyregistry.storage.guard import guarded
from pyregistry.storage.hashing import HashFeeder
from pyregistry.storage.resumable_hash import new_running_hash
from pyregistry.storage.started_at import format_started_at, parse_started_at
from storage_drivers.base import FileWriter
from storage_drivers.errors import PathNotFound

#: The running hash's algorithm until a client names its digest (almost always sha256).
DEFAULT_ALGORITHM = "sha256"


def _running_hash_matches(progress: UploadProgress, descriptor: BlobDescriptor) -> bool:
    """The running hash saw every byte of the session and they hash to its digest."""
    hasher = progress.hasher
    digest = descriptor.digest
    return (
        hasher is not None
        and progress.offset == descriptor.size
        and hasher.name == digest.algorithm
        and hasher.hexdigest() == digest.hex
    )


class UploadStore:
    """Creates and finds the upload sessions of one repository."""

    def __init__(self, ctx: StorageContext, repository: str, blobs: LinkedBlobStore) -> None:
        self._ctx = ctx
        self.repository = repository
        self._blobs = blobs

    @guarded
    async def create(self) -> UploadSession:
        """A new session: ``startedat`` (for purging) and an empty, uncommitted writer."""
        self._ctx.check_writable()
        upload_id = str(uuid.uuid4())
        started_at = datetime.now(UTC).replace(microsecond=0)
        started = {
            paths.upload_started_at_path(self.repository, upload_id): format_started_at(
                started_at
            ).encode()
        }
        async with self._ctx.change(self.repository, contents=False):  # it may appear now
            # One driver call for both (one thread hop on the filesystem).
            writer = await self._ctx.driver.start_writer(
                paths.upload_data_path(self.repository, upload_id), started
            )
        await writer.close()
        progress = self._ctx.progress(self.repository, upload_id)
        progress.hasher, progress.offset = new_running_hash(DEFAULT_ALGORITHM), 0
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

    def __repr__(self) -> str:
        return f"UploadSession({self.repository!r}, {self.id!r})"

    def _unknown(self) -> BlobUploadUnknown:
        return BlobUploadUnknown(detail={"uuid": self.id})

    def _check_offset(self, offset: int | None, size: int) -> None:
        if offset is not None and offset != size:
            raise RangeInvalid(
                f"chunk starts at {offset} but the upload has {size} bytes",
                detail={"uuid": self.id, "offset": offset, "size": size},
            )

    def _progress(self) -> UploadProgress:
        return self._ctx.progress(self.repository, self.id)

    async def _pending(self) -> tuple[FileWriter | None, int]:
        """The session's uncommitted writer and its size.

        ``(None, size)`` when an earlier commit, interrupted or still under way elsewhere,
        already committed the data; BlobUploadUnknown when the session is gone.
        """
        driver = self._ctx.driver
        try:
            writer = await driver.writer(self._data, append=True)
        except PathNotFound:
            try:
                return None, (await driver.stat(self._data)).size
            except PathNotFound as exc:
                raise self._unknown() from exc
        return writer, writer.size

    async def _resumable(self) -> tuple[FileWriter, int]:
        """The session's writer for more bytes, and its size.

        Data found committed at the session's path is taken back into a new writer (copied
        once). Distribution's filesystem driver writes an upload's ``data`` in place, so a
        session it started on a root shared with pyregistry (a rolling migration, instances
        of both behind one address) looks committed here: its client goes on with its next
        chunk instead of starting the blob again. The same holds for a commit of ours
        interrupted between writing the data and moving it: that client gets nothing new,
        the digest is still verified when the upload completes.
        """
        writer, size = await self._pending()
        if writer is not None:
            return writer, size
        writer = await self._ctx.driver.writer(self._data)
        try:
            async for chunk in await self._ctx.driver.reader(self._data):
                await writer.write(chunk)
        except BaseException:
            await writer.cancel()
            raise
        return writer, writer.size

    @guarded
    async def size(self) -> int:
        """Bytes received so far (the end of the ``Range`` the API reports)."""
        writer, size = await self._pending()
        if writer is not None:
            await writer.close()
        return size

    @guarded
    async def append(self, chunks: AsyncIterable[bytes], offset: int | None = None) -> int:
        """Append a chunk; ``offset`` must equal the current size (else RangeInvalid)."""
        self._ctx.check_writable()
        async with self._ctx.upload_locks.exclusive(self.repository, self.id):
            return await self._append(self._progress(), chunks, offset)

    async def _append(
        self,
        progress: UploadProgress,
        chunks: AsyncIterable[bytes],
        offset: int | None,
    ) -> int:
        writer, start = await self._resumable()
        try:
            size = await self._fill(writer, start, progress, chunks, offset, DEFAULT_ALGORITHM)
        finally:
            await writer.close()
        await hash_states.save(self._ctx, self.repository, self.id, progress)
        return size

    async def _fill(
        self,
        writer: FileWriter,
        start: int,
        progress: UploadProgress,
        chunks: AsyncIterable[bytes],
        offset: int | None,
        algorithm: str,
    ) -> int:
        """Write a chunk to the open ``writer`` (which the caller closes or commits)."""
        self._check_offset(offset, start)
        hasher = await hash_states.following(
            self._ctx, self.repository, self.id, progress, start, algorithm
        )
        # The writer hashes each piece as it writes it, where it can (the filesystem's
        # thread): one pass over bytes still in the cache, no thread hop of the hash's own.
        feeder = None
        if hasher is not None and not writer.observe(hasher.update):
            feeder = HashFeeder(hasher)
        fed = 0
        try:
            async for chunk in chunks:
                if chunk:
                    fed += len(chunk)
                    if feeder is not None:
                        await feeder.feed(chunk)
                    await writer.write(chunk)
            if feeder is not None:
                await feeder.finish()
            elif hasher is not None:
                await writer.observed()
            progress.offset += fed
        except BaseException:
            progress.hasher, progress.offset = None, 0  # commit re-reads instead
            raise
        return writer.size

    @guarded
    async def commit(
        self,
        digest: Digest,
        chunks: AsyncIterable[bytes] | None = None,
        offset: int | None = None,
        *,
        on_verified: Callable[[], None] | None = None,
    ) -> BlobDescriptor:
        """Finish the upload: verify ``digest``, move the data into the blob store, link it.

        On a digest mismatch the session is cancelled and DigestInvalid raised; nothing
        becomes visible. A blob already in the store is not written again.
        ``on_verified`` is called once the bytes are known to match ``digest``, before
        the (slower) sync and move: a mirror lets its client's last bytes go then.
        """
        self._ctx.check_writable()
        blob_data = paths.blob_data_path(digest)
        async with self._ctx.upload_locks.exclusive(self.repository, self.id) as hold:
            progress = self._progress()
            writer, size = await self._last_chunk(progress, chunks, offset, digest.algorithm)
            descriptor = BlobDescriptor(digest, size)
            matches = _running_hash_matches(progress, descriptor)
            if matches and on_verified is not None:
                on_verified()
            if writer is not None and await self._publish(writer, matches, descriptor):
                hold.session_removed()
                return descriptor
            if writer is not None:
                await writer.commit()
            computed = await hash_states.digest_of(
                self._ctx, self.repository, self.id, size, digest.algorithm, progress
            )
            if computed != digest:
                await self._remove_committed()
                hold.session_removed()
                raise UploadDigestMismatch(str(digest), str(computed))
            if not matches and on_verified is not None:
                on_verified()
            if not await self._ctx.file_exists(blob_data):
                await self._ctx.driver.move(self._data, blob_data)
            await self._remove_committed()
            hold.session_removed()
        if self._ctx.cache is not None:
            await self._ctx.cache.set(None, descriptor)
        await self._blobs.link(descriptor)
        return descriptor

    async def _last_chunk(
        self,
        progress: UploadProgress,
        chunks: AsyncIterable[bytes] | None,
        offset: int | None,
        algorithm: str,
    ) -> tuple[FileWriter | None, int]:
        """Write the last chunk, if any, to the session's writer: the writer, still open
        (None when an earlier commit already committed the data), and the size. The writer
        stays open from the last chunk to the commit: reopening it would cost two more
        driver calls per upload.
        """
        # a last chunk goes on what is there (see _resumable); without one, committed data
        # is what an interrupted commit left: it completes as it is
        writer: FileWriter | None
        writer, size = await (self._resumable() if chunks is not None else self._pending())
        if writer is None:
            self._check_offset(offset, size)
            return None, size
        try:
            if chunks is not None:
                size = await self._fill(writer, size, progress, chunks, offset, algorithm)
            else:
                self._check_offset(offset, size)
                await hash_states.following(
                    self._ctx, self.repository, self.id, progress, size, algorithm
                )
        except BaseException:
            await writer.close()
            raise
        return writer, size

    async def _publish(self, writer: FileWriter, matches: bool, descriptor: BlobDescriptor) -> bool:
        """The common case in one driver call (one thread hop on the filesystem): the
        running hash saw every byte and ``matches``, and the blob is new, so the data goes
        straight from the writer to the blob store, the repository's link is written and
        the session removed. False, touching nothing, in any other case."""
        digest = descriptor.digest
        blob_data = paths.blob_data_path(digest)
        try:
            if not matches or await self._ctx.file_exists(blob_data):
                return False
        except BaseException:
            await writer.close()
            raise
        self._ctx.forget_upload(self.repository, self.id)
        link = paths.layer_link_path(self.repository, digest)
        upload = paths.upload_path(self.repository, self.id)
        async with self._ctx.change(self.repository, contents=False):
            await self._ctx.driver.publish(
                writer, self._data, blob_data, {link: link_content(digest)}, upload
            )
        cache = self._ctx.cache
        if cache is not None:
            await cache.set(None, descriptor)
            await cache.set(self.repository, descriptor)
        return True

    async def _remove_committed(self) -> None:
        """Drop the session directory once its writer is committed (no writer is left to
        cancel, so one driver call does it)."""
        self._ctx.forget_upload(self.repository, self.id)
        with contextlib.suppress(PathNotFound):
            await self._ctx.driver.delete(paths.upload_path(self.repository, self.id))

    @guarded
    async def cancel(self) -> None:
        """End the session and delete its data; BlobUploadUnknown if it is already gone."""
        self._ctx.check_writable()
        async with self._ctx.upload_locks.exclusive(self.repository, self.id) as hold:
            removed = await remove_upload(self._ctx, self.repository, self.id)
            self._ctx.forget_upload(self.repository, self.id)
            hold.session_removed()
        if not removed:
            raise self._unknown()


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
