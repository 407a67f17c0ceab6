"""Pick the blob descriptor cache ``storage.cache`` asks for, as distribution does.

``blobdescriptor`` (or its old name ``layerinfo``): unset -> no cache; ``inmemory`` -> an
LRU of ``blobdescriptorsize`` entries in this process, emptied whenever another worker of
the same ``pyregistry serve`` deletes something (the supervisor's generation file);
``redis`` -> the shared cache in
the ``redis`` section's Redis (a config error when that section is missing, where
distribution panics). Any other value is logged and caching stays off, as in 2.8.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from pyregistry.config.errors import ConfigError
from pyregistry.config.model import Config
from pyregistry.descriptor_cache.generation import GENERATION_FILE_ENV, FileGeneration
from pyregistry.storage.cache import (
    DEFAULT_CACHE_SIZE,
    BlobDescriptorCache,
    Generation,
    InMemoryBlobDescriptorCache,
    LocalGeneration,
)

if TYPE_CHECKING:
    from pyregistry.descriptor_cache.connection import RedisSettings

# The redis client library is imported only where Redis is configured: an embedded or
# cache-less registry starts without paying for it.

log = logging.getLogger("pyregistry.descriptor_cache")


def build_blob_descriptor_cache(config: Config) -> BlobDescriptorCache | None:
    """The cache for ``config`` (None: caching disabled). Raises :class:`ConfigError`."""
    kind = (config.storage.cache_blobdescriptor or "").strip().lower()
    if not kind:
        return None
    if kind == "inmemory":
        size = config.storage.cache_blobdescriptorsize
        generation = worker_generation()
        if generation is None:
            return None
        return InMemoryBlobDescriptorCache(
            size if size and size > 0 else DEFAULT_CACHE_SIZE, generation
        )
    if kind == "redis":
        if config.redis is None or not config.redis.addrs:
            raise ConfigError(
                "redis configuration required to use redis as the blob descriptor cache",
                key="storage.cache.blobdescriptor",
                source=config.source,
            )
        from pyregistry.descriptor_cache.redis import RedisBlobDescriptorCache

        return RedisBlobDescriptorCache.from_config(config.redis)
    log.warning(f"unknown blob descriptor cache type {kind!r}, caching disabled")
    return None


def worker_generation(environ: dict[str, str] | None = None) -> Generation | None:
    """The generation shared with the other workers (a local one when running alone).

    None when the supervisor's file cannot be opened: caching in memory without hearing
    of the other workers' deletes would serve stale answers, so there is no cache then.
    """
    env = os.environ if environ is None else environ
    path = env.get(GENERATION_FILE_ENV)
    if not path:
        return LocalGeneration()
    try:
        return FileGeneration(path)
    except OSError as exc:
        log.warning(f"cannot open the cache generation file {path}: {exc}; caching disabled")
        return None


def build_redis_health_check(config: Config) -> Callable[[], Awaitable[None]] | None:
    """A ``/debug/health`` check PINGing the ``redis`` section's node (None: no section).

    Each run opens and closes its own connection, so it works from any event loop or
    process (the multi-worker supervisor's debug server included).
    """
    if config.redis is None or not config.redis.addrs:
        return None
    from pyregistry.descriptor_cache.connection import settings_from_config

    return redis_ping_check(settings_from_config(config.redis))


def redis_ping_check(settings: RedisSettings) -> Callable[[], Awaitable[None]]:
    """A check that raises :class:`RedisUnavailable` unless Redis answers PING."""

    from pyregistry.descriptor_cache.connection import (
        REDIS_FAILURES,
        close_client,
        create_client,
    )
    from pyregistry.descriptor_cache.redis import RedisUnavailable

    async def check() -> None:
        client = create_client(settings)
        try:
            await client.ping()
        except REDIS_FAILURES as exc:
            raise RedisUnavailable(f"redis at {settings.address}: {exc}") from None
        finally:
            await close_client(client)

    return check
