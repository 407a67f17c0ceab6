"""What a blob upload reads from: bytes, a file (or an archive member), or generated
content, always as chunks from an offset, so uploads stream in constant memory and a
chunked upload can resume where the registry says it stopped.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import IO

from pyregistry.client.media import Digester, sha256_digest

CHUNK_SIZE = 1024 * 1024
MIB = 1024 * 1024

#: ``(offset, length)`` -> the blob's bytes ``[offset, offset + length)`` as chunks.
ChunkReader = Callable[[int, int], AsyncIterator[bytes]]


@dataclass(frozen=True)
class BlobSource:
    """A blob to push, read on demand: its digest, its size and a chunk reader."""

    digest: str
    size: int
    read: ChunkReader

    @classmethod
    def from_bytes(cls, data: bytes) -> BlobSource:
        async def read(offset: int, length: int) -> AsyncIterator[bytes]:
            for start in range(offset, offset + length, CHUNK_SIZE):
                yield data[start : min(start + CHUNK_SIZE, offset + length)]

        return cls(sha256_digest(data), len(data), read)

    @classmethod
    def from_opener(cls, digest: str, size: int, opener: Callable[[], IO[bytes]]) -> BlobSource:
        """A blob in a file-like ``opener()`` gives (a file, a tar member); it is read in
        a worker thread so an event loop stays free while disk is slow."""

        async def read(offset: int, length: int) -> AsyncIterator[bytes]:
            handle = await asyncio.to_thread(opener)
            try:
                await asyncio.to_thread(_skip, handle, offset)
                remaining = length
                while remaining > 0:
                    chunk = await asyncio.to_thread(handle.read, min(CHUNK_SIZE, remaining))
                    if not chunk:
                        raise OSError(f"blob {digest} ended {remaining} bytes early")
                    remaining -= len(chunk)
                    yield chunk
            finally:
                await asyncio.to_thread(handle.close)

        return cls(digest, size, read)


def _skip(handle: IO[bytes], offset: int) -> None:
    if offset == 0:
        return
    try:
        handle.seek(offset)
        return
    except (OSError, ValueError):
        pass  # not seekable: read past it
    while offset > 0:
        skipped = handle.read(min(CHUNK_SIZE, offset))
        if not skipped:
            raise OSError("the blob ended before the resume offset")
        offset -= len(skipped)


def hash_stream(handle: IO[bytes]) -> tuple[str, int]:
    """Digest and size of what ``handle`` yields, read in constant memory."""
    digester = Digester()
    while chunk := handle.read(CHUNK_SIZE):
        digester.update(chunk)
    return digester.digest, digester.size


class RepeatedBlob:
    """``size`` bytes made of one seeded 1 MiB random block repeated: a big blob that
    costs 1 MiB of memory and no disk, the same bytes for the same seed."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.block = random.Random(seed).randbytes(MIB)

    def pieces(self, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        """The bytes ``[start, start + length)`` in pieces of at most one block."""
        end = self.size if length is None else min(self.size, start + length)
        pos = start
        while pos < end:
            offset = pos % MIB
            count = min(MIB - offset, end - pos)
            yield self.block if count == MIB else self.block[offset : offset + count]
            pos += count

    async def stream(self, start: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        """:meth:`pieces` as an async iterator (what httpx's async client sends)."""
        for piece in self.pieces(start, length):
            yield piece

    @cached_property
    def digest(self) -> str:
        hasher = hashlib.sha256()
        for piece in self.pieces():
            hasher.update(piece)
        return "sha256:" + hasher.hexdigest()

    def source(self) -> BlobSource:
        """The blob as an upload source (hashes it first, once)."""
        return BlobSource(self.digest, self.size, self.stream)
