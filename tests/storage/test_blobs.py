"""Blobs: global store, repository links, streaming, delete, mount, cache."""

from __future__ import annotations

import pytest

from pyregistry.storage import (
    BlobDescriptor,
    BlobUnknown,
    Digest,
    InMemoryBlobDescriptorCache,
    RangeInvalid,
    Registry,
    Repository,
    Unsupported,
    paths,
)
from storage_drivers.base import FileInfo
from storage_drivers.inmemory import InMemoryDriver
from tests.storage.helpers import RecordingDriver, sha256, sha512, upload


async def _read(
    repo: Repository, digest: Digest, offset: int = 0, length: int | None = None
) -> bytes:
    return b"".join([c async for c in await repo.blobs.open(digest, offset, length)])


async def test_put_stat_open(any_registry: Registry) -> None:
    repo = any_registry.repository("lib/app")
    data = b"hello blob" * 1000
    desc = await repo.blobs.put(data)
    assert desc == BlobDescriptor(sha256(data), len(data))
    assert desc.media_type == "application/octet-stream"
    assert await repo.blobs.stat(desc.digest) == desc
    assert await _read(repo, desc.digest) == data
    assert await _read(repo, desc.digest, 5, 10) == data[5:15]
    assert await _read(repo, desc.digest, len(data)) == b""
    assert await any_registry.stat_blob(desc.digest) == desc


async def test_link_file_is_exactly_the_digest(driver: InMemoryDriver, repo: Repository) -> None:
    desc = await repo.blobs.put(b"x")
    link = await driver.get_content(paths.layer_link_path(repo.name, desc.digest))
    assert link == f"sha256:{desc.digest.hex}".encode()
    assert await driver.get_content(paths.blob_data_path(desc.digest)) == b"x"


async def test_sha512_put(repo: Repository) -> None:
    desc = await repo.blobs.put(b"five-twelve", "sha512")
    assert desc.digest == sha512(b"five-twelve")
    assert await _read(repo, desc.digest) == b"five-twelve"


async def test_unknown_blob(repo: Repository, registry: Registry) -> None:
    missing = sha256(b"missing")
    with pytest.raises(BlobUnknown) as info:
        await repo.blobs.stat(missing)
    assert info.value.code == "BLOB_UNKNOWN"
    assert info.value.detail == {"digest": str(missing)}
    with pytest.raises(BlobUnknown):
        await repo.blobs.open(missing)
    with pytest.raises(BlobUnknown):
        await repo.blobs.delete(missing)
    with pytest.raises(BlobUnknown):
        await repo.blobs.redirect_url(missing)
    assert await registry.stat_blob(missing) is None


async def test_blob_is_visible_only_where_linked(registry: Registry) -> None:
    a, b = registry.repository("a"), registry.repository("b")
    desc = await a.blobs.put(b"only in a")
    with pytest.raises(BlobUnknown):
        await b.blobs.stat(desc.digest)
    assert await registry.stat_blob(desc.digest) == desc


async def test_open_range_past_end(repo: Repository) -> None:
    desc = await repo.blobs.put(b"12345")
    with pytest.raises(RangeInvalid):
        await repo.blobs.open(desc.digest, 6)


async def test_delete_removes_link_only(driver: InMemoryDriver, registry: Registry) -> None:
    a, b = registry.repository("a"), registry.repository("b")
    desc = await a.blobs.put(b"shared")
    await b.blobs.mount(desc.digest, "a")
    await a.blobs.delete(desc.digest)
    with pytest.raises(BlobUnknown):
        await a.blobs.stat(desc.digest)
    assert await b.blobs.stat(desc.digest) == desc
    assert await driver.get_content(paths.blob_data_path(desc.digest)) == b"shared"
    with pytest.raises(BlobUnknown):
        await a.blobs.delete(desc.digest)


async def test_global_delete_removes_the_content(
    driver: InMemoryDriver, registry: Registry
) -> None:
    cache = InMemoryBlobDescriptorCache(10)
    cached = Registry(driver, blob_descriptor_cache=cache)
    repo = cached.repository("a")
    desc = await repo.blobs.put(b"garbage")
    await cached.blob_store.delete(desc.digest)
    assert not [p for p in driver._files if "/blobs/" in p]
    assert await cache.get(None, desc.digest) is None
    assert await cached.stat_blob(desc.digest) is None
    with pytest.raises(BlobUnknown):
        await cached.blob_store.delete(desc.digest)
    with pytest.raises(BlobUnknown):
        await registry.repository("a").blobs.open(desc.digest)  # the link dangles
    with pytest.raises(Unsupported, match="read-only"):
        await Registry(driver, readonly=True).blob_store.delete(desc.digest)


async def test_delete_disabled_and_readonly(driver: InMemoryDriver) -> None:
    writable = Registry(driver).repository("a")
    desc = await writable.blobs.put(b"keep")
    no_delete = Registry(driver, delete_enabled=False).repository("a")
    with pytest.raises(Unsupported):
        await no_delete.blobs.delete(desc.digest)
    readonly = Registry(driver, readonly=True).repository("a")
    with pytest.raises(Unsupported, match="registry is in read-only mode"):
        await readonly.blobs.delete(desc.digest)
    with pytest.raises(Unsupported, match="read-only"):
        await readonly.blobs.put(b"new")
    with pytest.raises(Unsupported, match="read-only"):
        await readonly.blobs.mount(desc.digest, None)
    assert await readonly.blobs.stat(desc.digest) == desc  # reads still work


async def test_mount(registry: Registry) -> None:
    src, dst = registry.repository("src"), registry.repository("dst")
    desc = await upload(src, b"mount me")
    assert await dst.blobs.mount(desc.digest, "other") is None
    assert await dst.blobs.mount(desc.digest, "src") == desc
    assert await dst.blobs.stat(desc.digest) == desc
    third = registry.repository("third")
    assert await third.blobs.mount(desc.digest, None) == desc  # from the global store
    assert await third.blobs.mount(sha256(b"nope"), None) is None
    assert await third.blobs.mount(sha256(b"nope"), "src") is None


async def test_redirect_url(repo: Repository, driver: InMemoryDriver) -> None:
    desc = await repo.blobs.put(b"r")
    assert await repo.blobs.redirect_url(desc.digest) is None  # inmemory cannot redirect
    off = Registry(driver, redirect=False).repository(repo.name)
    assert await off.blobs.redirect_url(desc.digest) is None


async def test_cache_answers_stat_without_storage() -> None:
    recording = RecordingDriver(InMemoryDriver())
    cache = InMemoryBlobDescriptorCache(100)
    registry = Registry(recording, blob_descriptor_cache=cache)
    repo = registry.repository("a")
    desc = await upload(repo, b"cached")
    recording.calls.clear()
    assert await repo.blobs.stat(desc.digest) == desc
    assert await registry.stat_blob(desc.digest) == desc
    assert recording.calls == []
    await repo.blobs.delete(desc.digest)
    assert await cache.get("a", desc.digest) is None
    with pytest.raises(BlobUnknown):
        await repo.blobs.stat(desc.digest)
    # mount fills the cache for the target repository
    other = registry.repository("b")
    await other.blobs.mount(desc.digest, None)
    assert await cache.get("b", desc.digest) == desc


async def test_lru_cache_is_bounded() -> None:
    cache = InMemoryBlobDescriptorCache(2)
    descs = [BlobDescriptor(sha256(bytes([i])), i) for i in range(3)]
    for d in descs:
        await cache.set(None, d)
    assert len(cache) == 2
    assert await cache.get(None, descs[0].digest) is None
    assert await cache.get(None, descs[2].digest) == descs[2]
    await cache.delete(None, descs[2].digest)
    assert await cache.get(None, descs[2].digest) is None


async def test_driver_failures_become_storage_errors(repo: Repository) -> None:
    from pyregistry.storage import StorageError
    from storage_drivers.errors import StorageDriverError

    class Broken(InMemoryDriver):
        async def stat(self, path: str) -> FileInfo:
            raise StorageDriverError("disk on fire", driver="broken", path=path)

    registry = Registry(Broken())
    with pytest.raises(StorageError) as info:
        await registry.stat_blob(sha256(b"x"))
    assert info.value.code == "UNKNOWN"
