"""Hashing upload bytes without stalling the event loop.

sha256 costs over half a millisecond per MiB, and sha512 more: done on the event loop,
that is time no other request is served. So bytes are gathered into batches, and each
batch of at least ``THREAD_BATCH`` bytes is hashed on a worker thread (hashlib releases
the GIL for large buffers) while the next batch is received and written. Batches are
hashed strictly one after another, so the hash sees the bytes in order. While a batch is
still being hashed the next one keeps growing (up to ``MAX_BATCH``) instead of waiting:
a thread hop per 64 KiB cost a fifth of a big push's Python time, mostly in
``ThreadPoolExecutor.submit``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable

from pyregistry.storage.resumable_hash import RunningHash, new_running_hash

#: Below this a thread hop costs more than the hashing it would move off the loop.
THREAD_BATCH = 64 * 1024
#: A batch waits for the one being hashed only once it is this large (bounds memory).
MAX_BATCH = 2 * 1024 * 1024


def _update(hasher: RunningHash, batch: list[bytes]) -> None:
    for chunk in batch:
        hasher.update(chunk)


class HashFeeder:
    """Feeds one hasher in order; call ``finish`` before reading the digest.

    After a failure the hasher may still be in use by a thread: drop it rather than reuse it.
    """

    def __init__(self, hasher: RunningHash) -> None:
        self.hasher = hasher
        #: Bytes handed to ``feed`` so far.
        self.fed = 0
        self._batch: list[bytes] = []
        self._batched = 0
        self._running: asyncio.Future[None] | None = None

    async def feed(self, chunk: bytes) -> None:
        self._batch.append(chunk)
        self._batched += len(chunk)
        self.fed += len(chunk)
        if self._batched >= THREAD_BATCH:
            running = self._running
            if running is not None and not running.done() and self._batched < MAX_BATCH:
                return
            await self._wait()
            batch, self._batch, self._batched = self._batch, [], 0
            loop = asyncio.get_running_loop()
            self._running = loop.run_in_executor(None, _update, self.hasher, batch)

    async def finish(self) -> RunningHash:
        """Hash what is left (on the loop when it is a small tail); the hasher then saw
        every byte."""
        await self._wait()
        batch, batched, self._batch, self._batched = self._batch, self._batched, [], 0
        if batched >= THREAD_BATCH:
            await asyncio.get_running_loop().run_in_executor(None, _update, self.hasher, batch)
        else:
            _update(self.hasher, batch)
        return self.hasher

    async def _wait(self) -> None:
        running, self._running = self._running, None
        if running is not None:
            await running


async def hash_stream(
    algorithm: str, chunks: AsyncIterable[bytes], hasher: RunningHash | None = None
) -> str:
    """The hex digest of a whole stream (a blob re-read from storage); ``hasher``, when
    given, has already seen the bytes before the stream."""
    feeder = HashFeeder(new_running_hash(algorithm) if hasher is None else hasher)
    async for chunk in chunks:
        await feeder.feed(chunk)
    return (await feeder.finish()).hexdigest()
