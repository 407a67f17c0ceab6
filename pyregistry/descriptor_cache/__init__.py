"""Blob descriptor caches chosen by ``storage.cache.blobdescriptor``: in memory or Redis.

The Redis classes load on first use, so importing this package does not import redis.
"""

from typing import TYPE_CHECKING, Any

from pyregistry.descriptor_cache.factory import (
    build_blob_descriptor_cache,
    build_redis_health_check,
    redis_ping_check,
)

if TYPE_CHECKING:
    from pyregistry.descriptor_cache.redis import RedisBlobDescriptorCache, RedisUnavailable

__all__ = [
    "RedisBlobDescriptorCache",
    "RedisUnavailable",
    "build_blob_descriptor_cache",
    "build_redis_health_check",
    "redis_ping_check",
]


def __getattr__(name: str) -> Any:
    if name in ("RedisBlobDescriptorCache", "RedisUnavailable"):
        from pyregistry.descriptor_cache import redis as module

        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
