"""RedisBlobDescriptorCache against a real redis-server: round trips and the exact keys.

The layout is distribution's (registry/storage/cache/redis): these tests read and write
Redis directly to check that what a Go registry would write is read back, and that what
we write is what it would read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from pyregistry.descriptor_cache.redis import RedisBlobDescriptorCache
from pyregistry.storage import BlobDescriptor, Digest
from tests.support.redis import RedisServer

LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def digest_of(data: bytes) -> Digest:
    return Digest("sha256", hashlib.sha256(data).hexdigest())


D1 = digest_of(b"one")
D2 = digest_of(b"two")


async def test_global_round_trip(cache: RedisBlobDescriptorCache) -> None:
    assert await cache.get(None, D1) is None
    await cache.set(None, BlobDescriptor(D1, 3))
    assert await cache.get(None, D1) == BlobDescriptor(D1, 3)
    assert await cache.get(None, D2) is None
    await cache.delete(None, D1)
    assert await cache.get(None, D1) is None


async def test_repository_round_trip(cache: RedisBlobDescriptorCache) -> None:
    await cache.set("library/app", BlobDescriptor(D1, 42, LAYER))
    assert await cache.get("library/app", D1) == BlobDescriptor(D1, 42, LAYER)
    # Scoped: another repository does not see it, the global store does.
    assert await cache.get("library/other", D1) is None
    assert await cache.get(None, D1) == BlobDescriptor(D1, 42, LAYER)
    await cache.delete("library/app", D1)
    assert await cache.get("library/app", D1) is None


async def test_keys_and_fields_match_distribution(
    cache: RedisBlobDescriptorCache, redis_server: RedisServer
) -> None:
    await cache.set("library/app", BlobDescriptor(D1, 42, LAYER))
    with redis_server.client() as r:
        assert sorted(r.keys("*")) == sorted(
            [
                f"blobs::{D1}",
                "repository::library/app::blobs",
                f"repository::library/app::blobs::{D1}",
            ]
        )
        assert r.type(f"blobs::{D1}") == "hash"
        assert r.hgetall(f"blobs::{D1}") == {"digest": str(D1), "size": "42", "mediatype": LAYER}
        assert r.type("repository::library/app::blobs") == "set"
        assert r.smembers("repository::library/app::blobs") == {str(D1)}
        assert r.hgetall(f"repository::library/app::blobs::{D1}") == {"mediatype": LAYER}


async def test_global_mediatype_is_set_only_once(
    cache: RedisBlobDescriptorCache, redis_server: RedisServer
) -> None:
    """distribution writes the global mediatype with HSETNX and overrides it per repository."""
    await cache.set(None, BlobDescriptor(D1, 5, "application/first"))
    await cache.set("a/b", BlobDescriptor(D1, 5, "application/second"))
    with redis_server.client() as r:
        assert r.hget(f"blobs::{D1}", "mediatype") == "application/first"
        assert r.hget(f"repository::a/b::blobs::{D1}", "mediatype") == "application/second"
    assert await cache.get(None, D1) == BlobDescriptor(D1, 5, "application/first")
    assert await cache.get("a/b", D1) == BlobDescriptor(D1, 5, "application/second")


async def test_reads_what_distribution_writes(
    cache: RedisBlobDescriptorCache, redis_server: RedisServer
) -> None:
    """Entries written the way distribution's Go code writes them are hits."""
    with redis_server.client() as r:
        r.hset(f"blobs::{D1}", mapping={"digest": str(D1), "size": "1234"})
        r.hsetnx(f"blobs::{D1}", "mediatype", "application/octet-stream")
        r.sadd("repository::team/tool::blobs", str(D1))
        r.hset(f"repository::team/tool::blobs::{D1}", "mediatype", "application/octet-stream")
    assert await cache.get(None, D1) == BlobDescriptor(D1, 1234)
    assert await cache.get("team/tool", D1) == BlobDescriptor(D1, 1234)


async def test_partial_entries_are_misses(
    cache: RedisBlobDescriptorCache, redis_server: RedisServer
) -> None:
    with redis_server.client() as r:
        # The old field name ("length" for "size") is a miss, as in distribution.
        r.hset(f"blobs::{D1}", mapping={"digest": str(D1), "length": "9"})
        # Member of the set, global hash complete, but no repository mediatype: a miss.
        r.hset(f"blobs::{D2}", mapping={"digest": str(D2), "size": "9"})
        r.sadd("repository::x/y::blobs", str(D2))
        # Garbage in a field: a miss, not an error.
        r.hset(f"blobs::{digest_of(b'bad')}", mapping={"digest": "nonsense", "size": "1"})
    assert await cache.get(None, D1) is None
    assert await cache.get(None, D2) == BlobDescriptor(D2, 9)
    assert await cache.get("x/y", D2) is None
    assert await cache.get(None, digest_of(b"bad")) is None


async def test_member_without_global_descriptor_is_a_miss(
    cache: RedisBlobDescriptorCache, redis_server: RedisServer
) -> None:
    await cache.set("a/b", BlobDescriptor(D1, 7))
    with redis_server.client() as r:
        r.delete(f"blobs::{D1}")
    assert await cache.get("a/b", D1) is None


async def test_repository_delete_clears_membership_and_global_fields(
    cache: RedisBlobDescriptorCache, redis_server: RedisServer
) -> None:
    await cache.set("a/b", BlobDescriptor(D1, 7))
    await cache.set("a/c", BlobDescriptor(D1, 7))
    await cache.delete("a/b", D1)
    with redis_server.client() as r:
        assert r.smembers("repository::a/b::blobs") == set()
        assert r.exists(f"repository::a/b::blobs::{D1}") == 0
        # distribution's Clear drops the global descriptor's fields too.
        assert r.hgetall(f"blobs::{D1}") == {}
        assert r.smembers("repository::a/c::blobs") == {str(D1)}
    assert await cache.get("a/b", D1) is None
    # The other repository's link is still cached as membership, but without the
    # global size it is a miss until storage refills it.
    assert await cache.get("a/c", D1) is None
    await cache.set("a/c", BlobDescriptor(D1, 7))
    assert await cache.get("a/c", D1) == BlobDescriptor(D1, 7)
    # Refilling the global hash does not resurrect the deleted repository's entry.
    assert await cache.get("a/b", D1) is None


async def test_selects_the_configured_database(
    make_cache: Callable[..., RedisBlobDescriptorCache], redis_server: RedisServer
) -> None:
    cache = make_cache(db=3)
    await cache.set(None, BlobDescriptor(D1, 1))
    with redis_server.client() as r:
        assert r.exists(f"blobs::{D1}") == 0
    with redis_server.client(db=3) as r:
        assert r.hget(f"blobs::{D1}", "size") == "1"


async def test_negative_size_is_not_cached(
    cache: RedisBlobDescriptorCache, redis_server: RedisServer
) -> None:
    await cache.set(None, BlobDescriptor(D1, -1))
    with redis_server.client() as r:
        assert r.keys("*") == []
