"""Events from the storage side: a wrapper around the storage interfaces that reports
every push, pull, mount and delete to an :class:`~pyregistry.events.EventSink`, as
distribution's ``notifications/listener.go`` wraps its Repository.

Whoever goes through the wrapped namespace - the API, a mirror, replication, a
management API - causes the same events; the caller comes from
:func:`pyregistry.events.caller` (set per request by the API), so nothing here knows HTTP.
An event is emitted only once the operation has succeeded; a failing sink is logged and
never fails the operation.

What is reported (``details`` besides ``context`` and ``repository``):

* blob push (an upload committed, or ``blobs.put``), pull (``open`` or a redirect URL
  handed out; ``stat`` is not a pull), mount, delete;
* manifest push (``put``, with the tags it was pushed with), pull (``get``), delete;
* tag delete (``untag``).
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from pyregistry.events import (
    BLOB_DELETE,
    BLOB_MOUNT,
    BLOB_PULL,
    BLOB_PUSH,
    MANIFEST_DELETE,
    MANIFEST_PULL,
    MANIFEST_PUSH,
    TAG_DELETE,
    EventSink,
    caller,
)
from pyregistry.storage.blob_read import BlobRead, Chunk
from pyregistry.storage.descriptors import BlobDescriptor, PutManifestResult, StoredManifest
from pyregistry.storage.digest import Digest
from pyregistry.storage.interfaces import (
    BlobService,
    BlobUpload,
    GlobalBlobStore,
    ManifestService,
    Namespace,
    RepositoryService,
    TagService,
    UploadService,
)

log = logging.getLogger("pyregistry.notifications")


class _Reporter:
    """Emits the events of one repository, with the current caller as ``context``."""

    def __init__(self, sink: EventSink, repository: str) -> None:
        self.sink = sink
        self.repository = repository

    async def __call__(self, kind: str, **details: Any) -> None:
        try:
            await self.sink.emit(kind, context=caller(), repository=self.repository, **details)
        except Exception:
            log.exception("event sink failed for %s", kind)

    async def blob(self, kind: str, desc: BlobDescriptor, **extra: Any) -> None:
        await self(
            kind, digest=str(desc.digest), size=desc.size, media_type=desc.media_type, **extra
        )


class NotifyingNamespace:
    """A :class:`Namespace` whose repositories report to ``sink``."""

    def __init__(self, inner: Namespace, sink: EventSink) -> None:
        self.inner = inner
        self.sink = sink

    @property
    def readonly(self) -> bool:
        return self.inner.readonly

    @property
    def delete_enabled(self) -> bool:
        return self.inner.delete_enabled

    @property
    def min_chunk_size(self) -> int:
        return self.inner.min_chunk_size

    @property
    def blob_store(self) -> GlobalBlobStore:
        return self.inner.blob_store

    def repository(self, name: str) -> RepositoryService:
        return NotifyingRepository(self.inner.repository(name), self.sink)

    def repositories(self, after: str | None = None) -> AsyncIterator[str]:
        return self.inner.repositories(after)

    async def catalog(self, n: int | None = None, last: str | None = None) -> list[str]:
        return await self.inner.catalog(n, last)

    async def purge_uploads(self, older_than_seconds: float, dry_run: bool = False) -> int:
        return await self.inner.purge_uploads(older_than_seconds, dry_run)

    async def close(self) -> None:
        await self.inner.close()


class NotifyingRepository:
    """One repository whose blobs, uploads, manifests and tags report their events."""

    def __init__(self, inner: RepositoryService, sink: EventSink) -> None:
        self.inner = inner
        report = _Reporter(sink, inner.name)
        self._blobs = NotifyingBlobs(inner.blobs, report)
        self._uploads = NotifyingUploads(inner.uploads, report)
        self._manifests = NotifyingManifests(inner.manifests, report)
        self._tags = NotifyingTags(inner.tags, report)

    def __repr__(self) -> str:
        return f"NotifyingRepository({self.inner.name!r})"

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def blobs(self) -> BlobService:
        return self._blobs

    @property
    def uploads(self) -> UploadService:
        return self._uploads

    @property
    def manifests(self) -> ManifestService:
        return self._manifests

    @property
    def tags(self) -> TagService:
        return self._tags

    async def exists(self) -> bool:
        return await self.inner.exists()

    async def referrers(
        self, subject: Digest, artifact_type: str | None = None
    ) -> list[dict[str, Any]]:
        return await self.inner.referrers(subject, artifact_type)


class NotifyingBlobs:
    def __init__(self, inner: BlobService, report: _Reporter) -> None:
        self.inner = inner
        self.report = report

    async def stat(self, digest: Digest) -> BlobDescriptor:
        return await self.inner.stat(digest)

    async def get(self, digest: Digest) -> bytes:
        content = await self.inner.get(digest)
        await self.report.blob(BLOB_PULL, await self.inner.stat(digest))
        return content

    async def open(
        self, digest: Digest, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        return await (await self.open_read(digest)).stream(offset, length)

    async def open_read(self, digest: Digest) -> BlobRead:
        """The inner read, reported as a pull once its bytes are streamed, once however
        many windows (ranges) it serves (a mirror's descriptor comes with its upstream
        GET: no extra look-up here)."""
        read = await self.inner.open_read(digest)
        pulled = False

        def reported(
            opener: Callable[[int, int | None], Awaitable[AsyncIterator[Chunk]]],
        ) -> Callable[[int, int | None], Awaitable[AsyncIterator[Chunk]]]:
            async def opened(offset: int, length: int | None) -> AsyncIterator[Chunk]:
                nonlocal pulled
                chunks = await opener(offset, length)
                if not pulled:
                    pulled = True
                    await self.report.blob(BLOB_PULL, read.descriptor)
                return chunks

            return opened

        return BlobRead(
            read.descriptor, reported(read.stream), read.aclose, sender=reported(read.sending)
        )

    async def redirect_url(self, digest: Digest) -> str | None:
        url = await self.inner.redirect_url(digest)
        if url:
            await self.report.blob(BLOB_PULL, await self.inner.stat(digest), redirect=True)
        return url

    async def put(self, content: bytes, algorithm: str = "sha256") -> BlobDescriptor:
        desc = await self.inner.put(content, algorithm)
        await self.report.blob(BLOB_PUSH, desc)
        return desc

    async def delete(self, digest: Digest) -> None:
        await self.inner.delete(digest)
        await self.report(BLOB_DELETE, digest=str(digest))

    async def mount(self, digest: Digest, from_repository: str | None) -> BlobDescriptor | None:
        desc = await self.inner.mount(digest, from_repository)
        if desc is not None:
            await self.report.blob(BLOB_MOUNT, desc, from_repository=from_repository)
        return desc


class NotifyingUploads:
    def __init__(self, inner: UploadService, report: _Reporter) -> None:
        self.inner = inner
        self.report = report

    async def create(self) -> BlobUpload:
        return NotifyingUpload(await self.inner.create(), self.report)

    async def resume(self, upload_id: str) -> BlobUpload:
        return NotifyingUpload(await self.inner.resume(upload_id), self.report)


class NotifyingUpload:
    """An upload session whose commit is reported as a blob push."""

    def __init__(self, inner: BlobUpload, report: _Reporter) -> None:
        self.inner = inner
        self.report = report

    @property
    def id(self) -> str:
        return self.inner.id

    async def size(self) -> int:
        return await self.inner.size()

    async def append(self, chunks: AsyncIterable[bytes], offset: int | None = None) -> int:
        return await self.inner.append(chunks, offset)

    async def commit(
        self,
        digest: Digest,
        chunks: AsyncIterable[bytes] | None = None,
        offset: int | None = None,
    ) -> BlobDescriptor:
        desc = await self.inner.commit(digest, chunks, offset)
        await self.report.blob(BLOB_PUSH, desc)
        return desc

    async def cancel(self) -> None:
        await self.inner.cancel()


class NotifyingManifests:
    def __init__(self, inner: ManifestService, report: _Reporter) -> None:
        self.inner = inner
        self.report = report

    def enumerate(self) -> AsyncIterator[Digest]:
        return self.inner.enumerate()

    async def get(self, digest: Digest, *, tag: str | None = None) -> StoredManifest:
        manifest = await self.inner.get(digest, tag=tag)
        await self.report(
            MANIFEST_PULL,
            digest=str(manifest.digest),
            size=len(manifest.content),
            media_type=manifest.media_type,
            tag=tag,
            content=manifest.content,  # for ``references``: no second read of storage
        )
        return manifest

    async def exists(self, digest: Digest) -> bool:
        return await self.inner.exists(digest)

    async def put(
        self,
        content: bytes,
        media_type: str | None,
        *,
        digest: Digest | None = None,
        tags: Sequence[str] = (),
    ) -> PutManifestResult:
        result = await self.inner.put(content, media_type, digest=digest, tags=tags)
        await self.report(
            MANIFEST_PUSH,
            digest=str(result.digest),
            size=result.size,
            media_type=result.media_type,
            tag=result.tags[0] if result.tags else None,
            tags=list(result.tags),
            references=list(result.references),
        )
        return result

    async def delete(self, digest: Digest) -> None:
        await self.inner.delete(digest)
        await self.report(MANIFEST_DELETE, digest=str(digest))


class NotifyingTags:
    def __init__(self, inner: TagService, report: _Reporter) -> None:
        self.inner = inner
        self.report = report

    async def get(self, tag: str) -> Digest:
        return await self.inner.get(tag)

    async def tag(self, tag: str, digest: Digest) -> None:
        await self.inner.tag(tag, digest)

    async def untag(self, tag: str) -> None:
        await self.inner.untag(tag)
        await self.report(TAG_DELETE, tag=tag)

    async def list(self, n: int | None = None, last: str | None = None) -> list[str]:
        return await self.inner.list(n, last)

    async def lookup(self, digest: Digest) -> builtins.list[str]:
        return await self.inner.lookup(digest)
