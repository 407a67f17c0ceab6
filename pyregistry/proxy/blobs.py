"""A mirrored repository's blobs: served from storage when cached, else streamed from the
upstream to the client while being stored.

The stored copy goes through an upload session of the cache (:mod:`cache_fill`), so it
is committed only under its verified digest; a cut transfer, a corrupt one or a client
that goes away cancels the session and leaves nothing visible. The client gets its first
byte as soon as the upstream sends it (memory stays at a few pieces per fetch). The last
piece is held back until the digest is verified (the copy is committed meanwhile, and
the fetch ends once it is): a corrupt blob never reaches a client whole.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable

import anyio

from pyregistry.client.errors import DigestMismatchError
from pyregistry.proxy import metrics
from pyregistry.proxy.cache_fill import CacheFill, pieces
from pyregistry.proxy.errors import UPSTREAM_FAILURES, translate
from pyregistry.proxy.fetch_leases import blob_key
from pyregistry.proxy.part import FetchingPart
from pyregistry.storage import BlobDescriptor, BlobRead, BlobUnknown, Digest, RegistryError
from pyregistry.storage.errors import BlobUploadUnknown
from pyregistry.storage.uploads import UploadSession
from pyregistry.tasks.lease import Lease, renewing

log = logging.getLogger("pyregistry.proxy")


class _Windowed:
    """The bytes of ``first`` then ``fetch`` inside ``[offset, end)``; all of it is still
    read, as the cache stores the whole blob. The last bytes of a range that ends before
    the blob does (``size``) wait for the fetch's end (the blob verified and committed):
    a client holds no range unchecked, and does not close, cancelling the copy, before
    it is stored. A window to the blob's end needs no wait: the fetch itself holds the
    blob's last bytes until they are verified, and keeps a verified copy however the
    client leaves; the commit (a sync of the whole blob, half a second for 256 MiB on a
    slow disk) stays off the client's path. :meth:`aclose` closes the fetch even if
    iteration never started."""

    def __init__(
        self,
        first: bytes | None,
        fetch: AsyncGenerator[bytes],
        offset: int,
        end: int | None,
        size: int,
    ) -> None:
        self._first = first
        self._chunks = fetch
        self._offset = offset
        self._end = end
        #: Where the last bytes wait for the fetch's end (None: they never wait).
        self._hold_at = end if end is not None and end < size else None
        self._pos = 0
        self._held = b""

    def __aiter__(self) -> _Windowed:
        return self

    async def __anext__(self) -> bytes:
        while True:
            if self._first is not None:
                chunk, self._first = self._first, None
            else:
                try:
                    chunk = await self._chunks.__anext__()
                except StopAsyncIteration:
                    if not self._held:
                        raise
                    part, self._held = self._held, b""
                    return part
            part = _window(chunk, self._pos, self._offset, self._end)
            self._pos += len(chunk)
            if part and self._hold_at is not None and self._pos >= self._hold_at:
                self._held = part
            elif part:
                return part

    async def aclose(self) -> None:
        await self._chunks.aclose()


def _window(chunk: bytes, pos: int, offset: int, end: int | None) -> bytes:
    """The part of ``chunk`` (starting at ``pos`` in the blob) inside ``[offset, end)``."""
    lo = max(offset - pos, 0)
    hi = len(chunk) if end is None else min(end - pos, len(chunk))
    if lo == 0 and hi == len(chunk):
        return chunk
    return chunk[lo:hi] if hi > lo else b""


class MirroredBlobs(FetchingPart):
    """The blobs of one mirrored repository, read-through cached."""

    def _unknown(self, digest: Digest) -> BlobUnknown:
        return BlobUnknown(detail={"digest": str(digest)})

    async def _cached(self, digest: Digest) -> BlobDescriptor | None:
        try:
            return await self._cache.blobs.stat(digest)
        except BlobUnknown:
            return None

    async def stat(self, digest: Digest) -> BlobDescriptor:
        """The cached descriptor, else the upstream's (a HEAD: nothing is fetched)."""
        cached = await self._cached(digest)
        if cached is not None:
            return cached
        return await self._upstream_stat(digest)

    async def _upstream_stat(self, digest: Digest) -> BlobDescriptor:
        if not self._upstream.settings.allows(self._remote):
            raise self._unknown(digest)
        try:
            found = await self._upstream.head_blob(self._remote, str(digest))
        except UPSTREAM_FAILURES as exc:
            raise translate(exc, self._upstream.label, self._unknown(digest)) from None
        if found is None:
            raise self._unknown(digest)
        return BlobDescriptor(digest, found.size)

    async def open(
        self, digest: Digest, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        """Stream the blob (see :meth:`open_read`)."""
        return await (await self.open_read(digest)).stream(offset, length)

    async def open_read(self, digest: Digest) -> BlobRead:
        """The blob for a GET; upstream errors before the first byte are raised here. A
        cold blob costs one upstream GET (its response head gives the size: no HEAD), and
        is fetched whole whatever range is then streamed. One fetch per blob however many
        pull it at once, in this process or in others sharing the storage: the others are
        served once it is committed."""
        try:  # a cached blob: one look-up, as for a local pull
            read = await self._cache.blobs.open_read(digest)
        except BlobUnknown:
            lease = await self._claim(
                blob_key(digest), lambda: self._present(digest), self._unknown(digest)
            )
            if lease is not None:
                return await self._miss(digest, lease)
            read = await self._cache.blobs.open_read(digest)
        metrics.HITS.labels(self._upstream.label, "blob").inc()
        return read

    async def _miss(self, digest: Digest, lease: Lease) -> BlobRead:
        """The fetch (holding ``lease``) started: the blob's size and first bytes, or its
        error."""
        metrics.MISSES.labels(self._upstream.label, "blob").inc()
        announced: list[int | None] = []
        fetch = self._fetch(digest, lease, announced.append)
        try:
            first: bytes | None = await fetch.__anext__()
        except StopAsyncIteration:
            first = None
        except UPSTREAM_FAILURES as exc:
            await fetch.aclose()
            raise translate(exc, self._upstream.label, self._unknown(digest)) from None
        size = announced[0] if announced else None
        if size is None:  # an upstream that sent no Content-Length: ask it
            try:
                size = (await self._upstream_stat(digest)).size
            except BaseException:
                await fetch.aclose()
                raise

        fetching = True

        async def window(offset: int, length: int | None) -> AsyncIterator[bytes]:
            nonlocal fetching
            if not fetching:  # another range of the request: the first's ended the fetch
                return await self._stored_window(digest, offset, length)
            fetching = False
            end = None if length is None else offset + length
            return _Windowed(first, fetch, offset, end, size)

        return BlobRead(BlobDescriptor(digest, size), window, fetch.aclose)

    async def _stored_window(
        self, digest: Digest, offset: int, length: int | None
    ) -> AsyncIterator[bytes]:
        """A window of a blob just fetched: from its stored copy, or fetched again
        when there is none (the cache could not keep it)."""
        try:
            read = await self._cache.blobs.open_read(digest)
        except BlobUnknown:
            read = await self.open_read(digest)
        return await read.stream(offset, length)

    async def _present(self, digest: Digest) -> bool:
        return await self._cached(digest) is not None or await self._linked_elsewhere(digest)

    async def _linked_elsewhere(self, digest: Digest) -> bool:
        """A blob the storage holds under another name (fetched for another repository,
        or pushed) is linked here instead of fetched again, once the upstream says this
        repository has it (a HEAD, no body): it was never fetched for this name, and
        knowing a digest is no right to pull it under any name (the allow-list, and
        whoever may pull this prefix but not the other). An upstream that cannot answer
        leaves it to the fetch, which fails as it would for any blob not cached."""
        if await self._cache.blobs.held(digest) is None:
            return False
        if not self._upstream.settings.allows(self._remote):
            return False
        try:
            found = await self._upstream.head_blob(self._remote, str(digest))
        except UPSTREAM_FAILURES as exc:
            log.info(
                "upstream %s could not confirm %s in %s: fetching it instead (%s)",
                self._upstream.label,
                digest,
                self._remote,
                exc,
            )
            return False
        if found is None:
            return False
        try:
            return await self._cache.blobs.mount(digest, None) is not None
        except RegistryError:
            return False

    async def _fetch(
        self, digest: Digest, lease: Lease, on_length: Callable[[int | None], None]
    ) -> AsyncGenerator[bytes]:
        """Yield the upstream's blob, storing it, holding (and at the end releasing) the
        blob's fetch ``lease``; ``on_length`` gets the size its response head announces."""
        async with renewing(lease):
            with self._flights.lead(blob_key(digest)):
                async with contextlib.aclosing(self._store(digest, on_length)) as chunks:
                    async for chunk in chunks:
                        yield chunk

    async def _fill(self, digest: Digest) -> CacheFill | None:
        try:
            return CacheFill(await self._cache.uploads.create(), digest)
        except RegistryError as exc:  # read-only storage: serve without caching
            log.warning("not caching %s@%s: %s", self.repository, digest, exc.message)
            return None

    async def _store(
        self, digest: Digest, on_length: Callable[[int | None], None]
    ) -> AsyncGenerator[bytes]:
        """Stream from the upstream into the cache, committed once verified; nothing is
        kept however else it ends. The cache's session verifies the digest; only when
        nothing is cached does the upstream client verify it instead."""
        fill = await self._fill(digest)
        verified = committed = False
        stream = self._upstream.stream_blob(
            self._remote, str(digest), verify=fill is None, on_length=on_length
        )
        try:
            held = b""
            async for piece in pieces(stream):
                if held:
                    yield held
                held = piece
                if fill is not None:
                    await fill.write(piece)
            # Verified, then let the last bytes go, so a client never holds the whole
            # blob unchecked; the copy is synced and moved into place meanwhile.
            if fill is not None:
                try:
                    await fill.verify()
                except DigestMismatchError as exc:
                    self._upstream.failed(exc)
                    raise
                verified = True
            if held:
                yield held
            if fill is not None:
                await self._committed(fill)
                committed = True
        finally:
            await stream.aclose()  # the upstream connection, however this ended
            if fill is not None and not committed:
                if verified:  # the client went away after the check: keep the copy
                    await self._committed(fill)
                else:
                    await fill.abort()
                    await _cancel_quietly(fill.session)

    async def _committed(self, fill: CacheFill) -> None:
        """Wait for the verified copy's commit, however the client's request ends (a
        client that has every byte often closes at once, which cancels the request): the
        fetch, and with it the flight and fetch lease concurrent pulls wait on, ends only
        once the copy is in place. A failure (the disk) costs the cache, not the client."""
        with anyio.CancelScope(shield=True):
            try:
                await fill.commit()
            except Exception as exc:  # noqa: BLE001 - logged; the next pull fetches again
                log.warning("not caching %s@%s: %s", self.repository, fill.digest, exc)
                await _cancel_quietly(fill.session)

    async def redirect_url(self, digest: Digest) -> str | None:
        """The storage's URL of a cached blob (a blob still upstream has none)."""
        try:
            return await self._cache.blobs.redirect_url(digest)
        except BlobUnknown:
            return None

    async def get(self, digest: Digest) -> bytes:
        return b"".join([chunk async for chunk in await self.open(digest)])

    async def put(self, content: bytes, algorithm: str = "sha256") -> BlobDescriptor:
        return await self._writable().blobs.put(content, algorithm)

    async def delete(self, digest: Digest) -> None:
        await self._writable().blobs.delete(digest)

    async def mount(self, digest: Digest, from_repository: str | None) -> BlobDescriptor | None:
        return await self._writable().blobs.mount(digest, from_repository)

    async def link(self, descriptor: BlobDescriptor) -> None:
        await self._writable().blobs.link(descriptor)


async def _cancel_quietly(session: UploadSession) -> None:
    try:
        await session.cancel()
    except BlobUploadUnknown:
        pass  # a failed commit removed it already
    except Exception as exc:  # noqa: BLE001 - the purger removes what is left
        log.warning("could not cancel the cache's upload session: %s", exc)
