"""A mirrored repository's blobs: served from storage when cached, else streamed from the
upstream to the client while being stored.

The stored copy goes through an upload session of the cache, so it is committed only
under its verified digest; a cut transfer, a corrupt one or a client that goes away
cancels the session and leaves nothing visible. The client gets its first byte as soon as
the upstream sends it (memory stays at one buffer of :data:`FLUSH_BYTES` per fetch). The
last chunk is held back until the digest is verified and the copy committed: a corrupt
blob never reaches a client whole.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator

from pyregistry.proxy import metrics
from pyregistry.proxy.errors import UPSTREAM_FAILURES, translate
from pyregistry.proxy.fetch_leases import FetchLeases
from pyregistry.proxy.flights import Flights
from pyregistry.proxy.upstream import Upstream
from pyregistry.storage import BlobDescriptor, BlobUnknown, Digest, RegistryError, Repository
from pyregistry.storage.errors import Unsupported
from pyregistry.tasks.lease import Lease, renewing

log = logging.getLogger("pyregistry.proxy")

#: Bytes gathered before each append to the cache's upload session.
FLUSH_BYTES = 4 * 1024 * 1024
#: The upstream's chunks (tens of KiB) are gathered to this size before they go on to the
#: client and the cache: a write per small chunk made a cold pull 5x slower than direct.
SEND_BYTES = 1024 * 1024
MIRROR_WRITE = "this repository mirrors an upstream registry: pushes and deletes are refused"


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _chain(first: bytes | None, rest: AsyncGenerator[bytes]) -> AsyncIterator[bytes]:
    try:
        if first is not None:
            yield first
        async for chunk in rest:
            yield chunk
    finally:
        await rest.aclose()


async def _coalesced(chunks: AsyncIterator[bytes], size: int) -> AsyncIterator[bytes]:
    """``chunks`` regrouped into pieces of at least ``size`` bytes (the last may be less)."""
    pending = bytearray()
    async for chunk in chunks:
        pending += chunk
        if len(pending) >= size:
            yield bytes(pending)
            pending.clear()
    if pending:
        yield bytes(pending)


def _window(chunk: bytes, pos: int, offset: int, end: int | None) -> bytes:
    """The part of ``chunk`` (starting at ``pos`` in the blob) inside ``[offset, end)``."""
    lo = max(offset - pos, 0)
    hi = len(chunk) if end is None else min(end - pos, len(chunk))
    return chunk[lo:hi] if hi > lo else b""


class MirroredPart:
    """What every part of a mirrored repository shares: the local cache, the local-first
    repository (None: writes are refused), the upstream and the name there."""

    def __init__(
        self, cache: Repository, local: Repository | None, upstream: Upstream, remote: str
    ) -> None:
        self._cache = cache
        self._local = local
        self._upstream = upstream
        self._remote = remote
        self.repository = cache.name

    def _writable(self) -> Repository:
        if self._local is None:
            raise Unsupported(MIRROR_WRITE)
        return self._local


class MirroredBlobs(MirroredPart):
    """The blobs of one mirrored repository (``remote`` upstream), read-through cached in
    ``cache``; writes go to ``local`` when the upstream is local-first, else are refused."""

    def __init__(
        self,
        cache: Repository,
        local: Repository | None,
        upstream: Upstream,
        remote: str,
        flights: Flights,
        fetches: FetchLeases | None = None,
    ) -> None:
        super().__init__(cache, local, upstream, remote)
        self._flights = flights
        self._fetches = fetches if fetches is not None else FetchLeases(None)

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
        """Stream the blob; upstream errors before the first byte are raised here. One
        fetch per blob however many pull it at once, in this process (flights) or in
        others sharing the storage (the fetch lease): the others are served once it is
        committed."""
        attempt = 0
        while True:
            if await self._present(digest):
                metrics.HITS.labels(self._upstream.label, "blob").inc()
                return await self._cache.blobs.open(digest, offset, length)
            if await self._flights.wait(str(digest)):
                continue
            if not self._upstream.settings.allows(self._remote):
                raise self._unknown(digest)
            lease = await self._fetches.take(digest)
            if lease is not None:
                if not await self._present(digest):
                    break
                await lease.release()  # committed by another process just now
                continue
            await self._fetches.pause(attempt)  # another process fetches it
            attempt += 1
        metrics.MISSES.labels(self._upstream.label, "blob").inc()
        fetch = self._fetch(digest, offset, length, lease)
        try:
            first: bytes | None = await fetch.__anext__()
        except StopAsyncIteration:
            first = None
        except UPSTREAM_FAILURES as exc:
            await fetch.aclose()
            raise translate(exc, self._upstream.label, self._unknown(digest)) from None
        return _chain(first, fetch)

    async def _present(self, digest: Digest) -> bool:
        return await self._cached(digest) is not None or await self._linked_elsewhere(digest)

    async def _linked_elsewhere(self, digest: Digest) -> bool:
        """A blob another repository fetched is linked here instead of fetched again."""
        try:
            return await self._cache.blobs.mount(digest, None) is not None
        except RegistryError:
            return False

    async def _fetch(
        self, digest: Digest, offset: int, length: int | None, lease: Lease
    ) -> AsyncGenerator[bytes]:
        """Yield ``[offset, offset+length)`` of the upstream's blob, storing all of it,
        holding (and at the end releasing) the blob's fetch ``lease``."""
        end = None if length is None else offset + length
        async with renewing(lease):
            with self._flights.lead(str(digest)):
                async with contextlib.aclosing(self._store(digest, offset, end)) as chunks:
                    async for chunk in chunks:
                        yield chunk

    async def _store(self, digest: Digest, offset: int, end: int | None) -> AsyncGenerator[bytes]:
        """Stream from the upstream into an upload session of the cache, committed once
        verified; cancelled however else it ends."""
        session = None
        try:
            session = await self._cache.uploads.create()
        except RegistryError as exc:  # read-only storage: serve without caching
            log.warning("not caching %s@%s: %s", self.repository, digest, exc.message)
        committed = False
        stream = self._upstream.stream_blob(self._remote, str(digest))
        try:
            pos, buffer, held = 0, bytearray(), b""
            async for chunk in _coalesced(stream, SEND_BYTES):
                if held:
                    yield held
                held = _window(chunk, pos, offset, end)
                pos += len(chunk)
                if session is not None:
                    buffer += chunk
                    if len(buffer) >= FLUSH_BYTES:
                        await session.append(_once(bytes(buffer)))
                        buffer.clear()
            # Verified (the client raises on a mismatch): commit, then let the last
            # bytes go, so a client never holds the whole blob before it is cached.
            if session is not None:
                await session.commit(digest, _once(bytes(buffer)) if buffer else None)
                committed = True
            if held:
                yield held
        finally:
            await stream.aclose()  # the upstream connection, however this ended
            if session is not None and not committed:
                await _cancel_quietly(session)

    async def redirect_url(self, digest: Digest) -> str | None:
        if await self._cached(digest) is None:
            return None
        return await self._cache.blobs.redirect_url(digest)

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


async def _cancel_quietly(session: object) -> None:
    try:
        await session.cancel()  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - the purger removes what is left
        log.warning("could not cancel the cache's upload session: %s", exc)
