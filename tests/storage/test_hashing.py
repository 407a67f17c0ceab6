"""Upload hashing: in order, big batches off the event loop, one pass in the common case."""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import AsyncIterator

import pytest

from pyregistry.storage import Registry
from pyregistry.storage.hashing import THREAD_BATCH, HashFeeder, hash_stream
from storage_drivers.inmemory import InMemoryDriver
from tests.storage.helpers import RecordingDriver, sha256, sha512, stream


class ThreadNotingHasher:
    """A real sha256 that notes which thread each ``update`` ran on."""

    def __init__(self) -> None:
        self.inner = hashlib.sha256()
        self.threads: list[tuple[int, int]] = []  # (size, thread id)
        self.name = self.inner.name

    def update(self, data: bytes) -> None:
        self.threads.append((len(data), threading.get_ident()))
        self.inner.update(data)

    def hexdigest(self) -> str:
        return self.inner.hexdigest()


def _chunks(seed: int) -> list[bytes]:
    rng = random.Random(seed)
    sizes = [1, 7, 4096, THREAD_BATCH - 1, THREAD_BATCH, 1 << 20, 300, 2 * THREAD_BATCH + 5, 0]
    sizes += [rng.randrange(1, 3 * THREAD_BATCH) for _ in range(40)]
    return [rng.randbytes(size) for size in sizes]


async def test_feeder_keeps_order_and_hashes_big_batches_off_the_loop() -> None:
    chunks = _chunks(1)
    hasher = ThreadNotingHasher()
    feeder = HashFeeder(hasher)
    for chunk in chunks:
        await feeder.feed(chunk)
    await feeder.finish()
    assert hasher.hexdigest() == hashlib.sha256(b"".join(chunks)).hexdigest()
    assert feeder.fed == sum(map(len, chunks))
    loop_thread = threading.get_ident()
    on_loop = sum(size for size, thread in hasher.threads if thread == loop_thread)
    assert on_loop < THREAD_BATCH  # only the final small tail is hashed on the loop
    assert any(thread != loop_thread for _, thread in hasher.threads)


async def test_feeder_small_stream_stays_on_the_loop() -> None:
    hasher = ThreadNotingHasher()
    feeder = HashFeeder(hasher)
    for part in (b"a", b"bc", b""):
        await feeder.feed(part)
    await feeder.finish()
    assert hasher.hexdigest() == hashlib.sha256(b"abc").hexdigest()
    assert {thread for _, thread in hasher.threads} <= {threading.get_ident()}


async def test_hash_stream() -> None:
    chunks = _chunks(2)
    for algorithm in ("sha256", "sha512"):
        expected = hashlib.new(algorithm, b"".join(chunks)).hexdigest()
        assert await hash_stream(algorithm, stream(*chunks)) == expected
    assert await hash_stream("sha256", stream()) == hashlib.sha256().hexdigest()


async def test_upload_in_odd_chunks_commits_without_a_second_pass() -> None:
    chunks = _chunks(3)
    data = b"".join(chunks)
    recording = RecordingDriver(InMemoryDriver())
    repo = Registry(recording).repository("a")
    session = await repo.uploads.create()
    offset = 0
    for i in range(0, len(chunks), 10):
        offset = await session.append(stream(*chunks[i : i + 10]), offset=offset)
    recording.calls.clear()
    descriptor = await session.commit(sha256(data))
    assert descriptor.size == len(data)
    assert not [c for c in recording.calls if c[0] == "reader"]
    assert b"".join([c async for c in await repo.blobs.open(descriptor.digest)]) == data


async def test_monolithic_sha512_upload_is_hashed_once() -> None:
    """A client naming a sha512 digest up front gets a sha512 running hash, not a re-read."""
    data = random.Random(4).randbytes(3 * THREAD_BATCH + 11)
    recording = RecordingDriver(InMemoryDriver())
    repo = Registry(recording).repository("a")
    session = await repo.uploads.create()
    descriptor = await session.commit(sha512(data), stream(data[:100], data[100:]))
    assert descriptor.digest == sha512(data)
    assert not [c for c in recording.calls if c[0] == "reader"]


async def test_failed_append_drops_the_running_hash() -> None:
    """A stream that breaks midway leaves bytes the hash may not have seen: re-read later."""
    recording = RecordingDriver(InMemoryDriver())
    repo = Registry(recording).repository("a")
    session = await repo.uploads.create()
    big = random.Random(5).randbytes(2 * THREAD_BATCH)

    async def broken() -> AsyncIterator[bytes]:
        yield big
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await session.append(broken())
    size = await session.size()
    recording.calls.clear()
    rest = b"tail"
    written = big[:size]
    descriptor = await session.commit(sha256(written + rest), stream(rest), offset=size)
    assert descriptor.size == size + len(rest)
    assert [c[0] for c in recording.calls].count("reader") == 1
