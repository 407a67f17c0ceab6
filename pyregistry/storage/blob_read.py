"""A blob opened for a GET: its descriptor at once, its bytes (a window) when asked.

Why one object and not ``stat`` then ``open``: a store that learns the descriptor only by
starting the transfer (a mirror's cold blob: the upstream GET's response head carries the
size) answers both from one round trip, and the caller still knows the size before it
picks the range and writes its response head.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from pyregistry.storage.descriptors import BlobDescriptor
from storage_drivers.base import Chunk

__all__ = ["BlobRead", "Chunk", "Opener", "Sender"]

Opener = Callable[[int, int | None], Awaitable[AsyncIterator[bytes]]]
#: An opener of chunks sent on untouched (views of mapped files, where the store maps).
Sender = Callable[[int, int | None], Awaitable[AsyncIterator[bytes | memoryview]]]


class BlobRead:
    """``descriptor``, then :meth:`stream` (or :meth:`sending`) for the bytes;
    :meth:`aclose` when they go unread. A GET with several ranges streams a window per
    range from the one read, in turn: a store serves each (a mirror's cold blob: the
    first from the upstream's transfer, the others from the copy it stored), and the
    request is one pull, however many windows it takes."""

    def __init__(
        self,
        descriptor: BlobDescriptor,
        opener: Opener,
        close: Callable[[], Awaitable[None]] | None = None,
        *,
        sender: Sender | None = None,
    ) -> None:
        self.descriptor = descriptor
        self._opener = opener
        self.sender = sender
        self._close = close
        self._taken = False

    async def stream(self, offset: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        """``[offset, offset+length)`` of the blob; the iterator is the caller's to close."""
        self._taken = True
        return await self._opener(offset, length)

    async def sending(
        self, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes | memoryview]:
        """:meth:`stream`, for a caller that sends the chunks on untouched (a response
        body): the store may hand out views of what it did not copy."""
        if self.sender is None:
            return await self.stream(offset, length)
        self._taken = True
        return await self.sender(offset, length)

    async def aclose(self) -> None:
        """Release what opening took (a transfer already started) if nothing was streamed."""
        if not self._taken and self._close is not None:
            self._taken = True
            await self._close()
