"""Blob descriptor caches chosen by ``storage.cache.blobdescriptor``: in memory or Redis."""

from pyregistry.cache.factory import (
    build_blob_descriptor_cache,
    build_redis_health_check,
    redis_ping_check,
)
from pyregistry.cache.redis import RedisBlobDescriptorCache, RedisUnavailable

__all__ = [
    "RedisBlobDescriptorCache",
    "RedisUnavailable",
    "build_blob_descriptor_cache",
    "build_redis_health_check",
    "redis_ping_check",
]
