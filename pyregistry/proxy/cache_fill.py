"""The cached copy of a blob being fetched: an upload session of the cache fed the
blob's pieces as they pass on to the client, and committed (so verified) at the end.

The session is the only place the bytes are hashed: the upstream client streams them
unverified, and the session's commit checks the digest before anything is visible. So a
cold pull hashes every byte once, not twice. The session runs as one ``commit`` call (one
lock, one open writer for the whole blob) in a task that takes pieces from a short queue:
the client is not held up by the disk beyond :data:`QUEUE_PIECES` pieces, and memory stays
at those pieces per fetch however big the blob. :meth:`CacheFill.verify` answers as soon as
the session has matched the digest, before it syncs and moves the copy into place (tens
of milliseconds per hundred MiB): the client's last bytes need the check, not the sync.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from pyregistry.client.errors import DigestMismatchError
from pyregistry.storage import BlobDescriptor, Digest
from pyregistry.storage.errors import UploadDigestMismatch
from pyregistry.storage.uploads import UploadSession

#: The upstream's chunks (64 KiB reads) are gathered to this size before they go on to
#: the client and the cache: a write per small chunk made a cold pull 5x slower.
PIECE_BYTES = 1024 * 1024
#: Pieces waiting for the cache's writer before the client waits too.
QUEUE_PIECES = 4


async def pieces(chunks: AsyncIterator[bytes], size: int = PIECE_BYTES) -> AsyncIterator[bytes]:
    """``chunks`` regrouped into pieces of at least ``size`` bytes (the last may be less);
    each byte is copied once (a join), a piece that arrives whole not at all."""
    pending: list[bytes] = []
    gathered = 0
    async for chunk in chunks:
        pending.append(chunk)
        gathered += len(chunk)
        if gathered >= size:
            yield pending[0] if len(pending) == 1 else b"".join(pending)
            pending.clear()
            gathered = 0
    if pending:
        yield b"".join(pending)


class CacheFill:
    """Stores one blob through ``session`` while it streams; :meth:`commit` at the end."""

    def __init__(self, session: UploadSession, digest: Digest) -> None:
        self.session = session
        self.digest = digest
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue(QUEUE_PIECES)
        self._verified = asyncio.Event()
        self._task = asyncio.create_task(
            session.commit(digest, self._pieces(), on_verified=self._verified.set)
        )
        self._task.add_done_callback(_seen)

    async def _pieces(self) -> AsyncIterator[bytes]:
        while (piece := await self._queue.get()) is not None:
            yield piece

    async def _put(self, item: bytes | None) -> None:
        if self._task.done():
            await self._task  # its error, if it failed
            raise RuntimeError("the cache's upload session ended early")
        if not self._queue.full():
            self._queue.put_nowait(item)
            return
        put = asyncio.ensure_future(self._queue.put(item))
        await asyncio.wait((put, self._task), return_when=asyncio.FIRST_COMPLETED)
        if not put.done():
            put.cancel()
            await self._task  # the session failed: its error
            raise RuntimeError("the cache's upload session ended early")

    async def write(self, piece: bytes) -> None:
        """Hand a piece to the session (waits only while the queue is full)."""
        await self._put(piece)

    async def verify(self) -> None:
        """End the blob and wait until the session has verified it (the copy is still
        being committed: :meth:`commit`); DigestMismatchError when the bytes do not hash
        to the digest (nothing is kept), or the session's error."""
        await self._put(None)
        verified = asyncio.ensure_future(self._verified.wait())
        try:
            await asyncio.wait((verified, self._task), return_when=asyncio.FIRST_COMPLETED)
        finally:
            verified.cancel()
        if not self._verified.is_set():
            await self.commit()  # the session ended unverified: its error

    async def commit(self) -> BlobDescriptor:
        """Wait for the session to verify and commit everything handed over (after
        :meth:`verify`, or the end handed over by it); DigestMismatchError as there."""
        try:
            return await asyncio.shield(self._task)
        except UploadDigestMismatch as exc:
            raise DigestMismatchError(
                "blob from the upstream", str(self.digest), exc.computed
            ) from None

    async def abort(self) -> None:
        """Stop storing (the fetch failed or the client went away)."""
        task = self._task
        if not task.done():
            task.cancel()
        await asyncio.wait((task,))  # its end, not its error (ours still propagates)
        if not task.cancelled():
            task.exception()  # seen: no "never retrieved" warning


def _seen(task: asyncio.Task[BlobDescriptor]) -> None:
    """Retrieve the session's error, so a commit left to finish after its client went
    away (its outcome only logged, if at all) never warns that nobody retrieved it."""
    if not task.cancelled():
        task.exception()
