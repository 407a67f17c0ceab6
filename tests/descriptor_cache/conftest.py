"""Fixtures for the blob descriptor cache tests: a real redis-server and caches on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from pyregistry.descriptor_cache.connection import RedisSettings
from pyregistry.descriptor_cache.redis import RedisBlobDescriptorCache
from tests.support.redis import RedisServer

MakeCache = Callable[..., RedisBlobDescriptorCache]


@pytest.fixture
async def make_cache(redis_server: RedisServer) -> AsyncIterator[MakeCache]:
    """Build caches on the test Redis (closed at teardown, in the test's event loop)."""
    caches: list[RedisBlobDescriptorCache] = []

    def make(*, retry_interval: float = 2.0, db: int = 0) -> RedisBlobDescriptorCache:
        settings = RedisSettings(host=redis_server.host, port=redis_server.port, db=db)
        cache = RedisBlobDescriptorCache(settings, retry_interval=retry_interval)
        caches.append(cache)
        return cache

    yield make
    for cache in caches:
        await cache.close()


@pytest.fixture
def cache(make_cache: MakeCache) -> RedisBlobDescriptorCache:
    return make_cache()
