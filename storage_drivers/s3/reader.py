"""Streaming an S3 GET response body in bounded chunks, each read on the driver's pool."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from storage_drivers.base import DEFAULT_CHUNK_SIZE
from storage_drivers.s3.backend import S3Backend

#: Bytes per read of a streamed GET (one thread hop each).
READ_CHUNK_SIZE = DEFAULT_CHUNK_SIZE


class BodyChunks(AsyncIterator[bytes]):
    """Yields a botocore ``StreamingBody`` in chunks of at most ``READ_CHUNK_SIZE``.

    One chunk is read ahead: while the caller sends a chunk on (to an HTTP client), the
    next one is already being received from S3 on the pool, so the two transfers overlap
    instead of taking turns. Memory stays bounded by two chunks.

    A class rather than an async generator: the GET was already answered when this is
    handed out, so the body (and its pooled connection) must be released even when the
    iterator is dropped before its first ``__anext__``.
    """

    def __init__(self, backend: S3Backend, body: Any) -> None:
        self._backend = backend
        self._body: Any = body
        self._ahead: asyncio.Future[bytes] | None = None

    def __aiter__(self) -> BodyChunks:
        return self

    def _read(self, body: Any) -> asyncio.Future[bytes]:
        return asyncio.ensure_future(self._backend.run(body.read, READ_CHUNK_SIZE))

    async def __anext__(self) -> bytes:
        body = self._body
        if body is None:
            raise StopAsyncIteration
        pending, self._ahead = self._ahead or self._read(body), None
        try:
            chunk = await pending
        except BaseException:
            self._release()
            raise
        if not chunk:
            self._release()
            raise StopAsyncIteration
        self._ahead = self._read(body)
        return chunk

    async def aclose(self) -> None:
        self._release()

    def _release(self) -> None:
        body, self._body = getattr(self, "_body", None), None
        ahead, self._ahead = getattr(self, "_ahead", None), None
        if body is None:
            return
        if ahead is None or ahead.done():
            _close(body, ahead)
        else:  # a read is still running on the pool: close once it is over
            ahead.add_done_callback(lambda done: _close(body, done))

    def __del__(self) -> None:
        self._release()


def _close(body: Any, read: asyncio.Future[bytes] | None) -> None:
    if read is not None and not read.cancelled():
        read.exception()  # retrieved: an abandoned read's error is not worth a warning
    body.close()
