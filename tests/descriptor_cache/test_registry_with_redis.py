"""The storage Registry with the Redis cache: stats answered from Redis, filled on commit
and mount, invalidated on delete. A recording driver shows which calls reach storage."""

from __future__ import annotations

import pytest

from pyregistry.descriptor_cache.redis import RedisBlobDescriptorCache
from pyregistry.storage import Registry
from pyregistry.storage.errors import BlobUnknown, DigestInvalid
from storage_drivers.inmemory import InMemoryDriver
from tests.storage.helpers import RecordingDriver, sha256, stream, upload
from tests.support.redis import RedisServer

DATA = b"layer bytes " * 100


async def test_stat_after_commit_comes_from_redis(
    cache: RedisBlobDescriptorCache, redis_server: RedisServer
) -> None:
    backend = InMemoryDriver()
    writer = Registry(backend, blob_descriptor_cache=cache)
    committed = await upload(writer.repository("library/app"), DATA)
    with redis_server.client() as r:
        assert r.sismember("repository::library/app::blobs", str(committed.digest))
        assert r.hget(f"blobs::{committed.digest}", "size") == str(len(DATA))

    # A second registry on the same storage and Redis (another process, or a Go
    # registry's cache): its stats never touch storage.
    recording = RecordingDriver(backend)
    reader = Registry(recording, blob_descriptor_cache=cache)
    repo = reader.repository("library/app")
    assert await repo.blobs.stat(committed.digest) == committed
    assert await reader.stat_blob(committed.digest) == committed
    assert recording.calls == []

    # GET: the stat is cached, only the content is read.
    chunks = [chunk async for chunk in await repo.blobs.open(committed.digest)]
    assert b"".join(chunks) == DATA
    assert [call for call, _ in recording.calls] == ["reader"]


async def test_storage_stat_fills_the_cache(
    cache: RedisBlobDescriptorCache, redis_server: RedisServer
) -> None:
    backend = InMemoryDriver()
    committed = await upload(Registry(backend).repository("a/b"), DATA)  # no cache
    recording = RecordingDriver(backend)
    registry = Registry(recording, blob_descriptor_cache=cache)
    repo = registry.repository("a/b")
    assert await repo.blobs.stat(committed.digest) == committed
    assert recording.calls, "the first stat must go to storage"
    recording.calls.clear()
    assert await repo.blobs.stat(committed.digest) == committed
    assert recording.calls == []


async def test_mount_fills_the_target_repository(
    cache: RedisBlobDescriptorCache, redis_server: RedisServer
) -> None:
    backend = RecordingDriver(InMemoryDriver())
    registry = Registry(backend, blob_descriptor_cache=cache)
    committed = await upload(registry.repository("src/repo"), DATA)
    mounted = await registry.repository("dst/repo").blobs.mount(committed.digest, "src/repo")
    assert mounted is not None and mounted.digest == committed.digest
    with redis_server.client() as r:
        assert r.smembers("repository::dst/repo::blobs") == {str(committed.digest)}
        assert r.hget(f"repository::dst/repo::blobs::{committed.digest}", "mediatype")
    backend.calls.clear()
    assert await registry.repository("dst/repo").blobs.stat(committed.digest) == committed
    assert backend.calls == []


async def test_delete_invalidates(
    cache: RedisBlobDescriptorCache, redis_server: RedisServer
) -> None:
    backend = RecordingDriver(InMemoryDriver())
    registry = Registry(backend, blob_descriptor_cache=cache)
    repo = registry.repository("library/app")
    committed = await upload(repo, DATA)
    await registry.repository("other/app").blobs.mount(committed.digest, "library/app")

    await repo.blobs.delete(committed.digest)
    with redis_server.client() as r:
        assert not r.sismember("repository::library/app::blobs", str(committed.digest))
        assert r.sismember("repository::other/app::blobs", str(committed.digest))
    backend.calls.clear()
    with pytest.raises(BlobUnknown):
        await repo.blobs.stat(committed.digest)
    assert backend.calls, "a deleted blob must be looked up in storage, not the cache"
    # The other repository still has it (storage answers, and refills the cache).
    other = registry.repository("other/app")
    assert await other.blobs.stat(committed.digest) == committed
    backend.calls.clear()
    assert await other.blobs.stat(committed.digest) == committed
    assert backend.calls == []


async def test_digest_mismatch_caches_nothing(
    cache: RedisBlobDescriptorCache, redis_server: RedisServer
) -> None:
    registry = Registry(InMemoryDriver(), blob_descriptor_cache=cache)
    session = await registry.repository("a/b").uploads.create()
    with pytest.raises(DigestInvalid):
        await session.commit(sha256(b"something else"), stream(DATA))
    with redis_server.client() as r:
        assert r.keys("*") == []
