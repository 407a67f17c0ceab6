"""One Redis shared by distribution 2.8 (Debian's ``docker-registry``) and pyregistry.

Both run on the same filesystem root with ``blobdescriptor: redis``: what the Go registry
caches, pyregistry answers from without touching storage, and the other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from pyregistry.descriptor_cache.redis import RedisBlobDescriptorCache
from pyregistry.storage import BlobDescriptor, Digest, Registry
from storage_drivers import create_driver
from tests.storage.helpers import RecordingDriver, upload
from tests.support.distribution import DistributionFactory
from tests.support.redis import RedisServer

MakeCache = Callable[..., RedisBlobDescriptorCache]


async def push(url: str, repository: str, data: bytes) -> Digest:
    digest = Digest.from_bytes(data)
    async with httpx.AsyncClient(base_url=url) as client:
        started = await client.post(f"/v2/{repository}/blobs/uploads/")
        assert started.status_code == 202, started.text
        location = started.headers["location"]
        separator = "&" if "?" in location else "?"
        done = await client.put(f"{location}{separator}digest={digest}", content=data)
        assert done.status_code == 201, done.text
    return digest


def go_options(redis_server: RedisServer) -> dict[str, object]:
    return {
        "storage": {"cache": {"blobdescriptor": "redis"}},
        "redis": {"addr": redis_server.addr, "db": 0},
    }


def link_path(root: Path, repository: str, digest: Digest) -> Path:
    return (
        (root / "docker/registry/v2/repositories" / repository / "_layers" / digest.algorithm)
        / digest.hex
        / "link"
    )


async def test_pyregistry_reads_what_distribution_cached(
    tmp_path: Path,
    redis_server: RedisServer,
    distribution_registry_factory: DistributionFactory,
    make_cache: MakeCache,
) -> None:
    go = distribution_registry_factory(tmp_path / "root", go_options(redis_server))
    data = b"pushed to distribution" * 40
    digest = await push(go.url, "team/app", data)
    with redis_server.client() as r:
        assert r.sismember("repository::team/app::blobs", str(digest))
        assert r.hget(f"blobs::{digest}", "size") == str(len(data))

    driver = RecordingDriver(create_driver("filesystem", {"rootdirectory": str(go.root)}))
    registry = Registry(driver, blob_descriptor_cache=make_cache())
    descriptor = await registry.repository("team/app").blobs.stat(digest)
    assert (descriptor.digest, descriptor.size) == (digest, len(data))
    assert driver.calls == [], "answered from what distribution put in Redis"
    await registry.close()


async def test_distribution_reads_what_pyregistry_cached(
    tmp_path: Path,
    redis_server: RedisServer,
    distribution_registry_factory: DistributionFactory,
    make_cache: MakeCache,
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    registry = Registry(
        create_driver("filesystem", {"rootdirectory": str(root)}),
        blob_descriptor_cache=make_cache(),
    )
    data = b"pushed to pyregistry" * 40
    committed = await upload(registry.repository("team/app"), data)
    await registry.close()
    go = distribution_registry_factory(root, go_options(redis_server))
    async with httpx.AsyncClient(base_url=go.url) as client:
        # Take the link away on disk before distribution ever looks: it still says 200
        # (and the size) only because it found pyregistry's entry in Redis.
        link_path(root, "team/app", committed.digest).unlink()
        head = await client.head(f"/v2/team/app/blobs/{committed.digest}")
        assert head.status_code == 200
        assert head.headers["content-length"] == str(len(data))
        # A repository pyregistry never cached is answered from storage: unknown.
        assert (await client.head(f"/v2/team/other/blobs/{committed.digest}")).status_code == 404


async def test_distribution_delete_is_a_miss_for_pyregistry(
    tmp_path: Path,
    redis_server: RedisServer,
    distribution_registry_factory: DistributionFactory,
    make_cache: MakeCache,
) -> None:
    go = distribution_registry_factory(tmp_path / "root", go_options(redis_server))
    data = b"deleted by distribution" * 40
    digest = await push(go.url, "team/app", data)
    cache = make_cache()
    assert await cache.get("team/app", digest) == BlobDescriptor(digest, len(data))
    async with httpx.AsyncClient(base_url=go.url) as client:
        assert (await client.delete(f"/v2/team/app/blobs/{digest}")).status_code == 202
    # distribution 2.8 clears the global hash but leaves the membership: still a miss.
    assert await cache.get("team/app", digest) is None
