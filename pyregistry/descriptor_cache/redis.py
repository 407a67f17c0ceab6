"""Blob descriptor cache in Redis, in distribution's key layout (``blobdescriptor: redis``).

The keys are those of distribution's ``registry/storage/cache/redis``, so a Go registry
and pyregistry can share one Redis:

* ``blobs::<digest>`` - hash of the blob store's descriptor: ``digest``, ``size``
  (decimal) and ``mediatype`` (set only if absent, as distribution's ``HSETNX``);
* ``repository::<name>::blobs`` - set of the digests linked in that repository;
* ``repository::<name>::blobs::<digest>`` - hash holding the repository's ``mediatype``.

A repository-scoped hit needs all three: membership, the global hash's digest and size,
and the repository's mediatype (distribution 3 treats a missing one as a miss).

Deleting a repository entry removes the membership and the repository hash, and clears
the global hash's fields as distribution's ``Clear`` does. distribution itself keeps the
membership, so a later refill of the global hash would make the unlinked blob look
present again; dropping it as well keeps both registries from serving that stale hit.

Redis trouble never fails a request: any error is a miss (``get``) or a no-op (``set``,
``delete``), and :class:`~pyregistry.descriptor_cache.availability.Availability` keeps an outage to
one log line and no per-request connection attempts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.exceptions import ClusterError, RedisClusterException, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from pyregistry.config.model import RedisConfig
from pyregistry.descriptor_cache.availability import DEFAULT_RETRY_INTERVAL, Availability
from pyregistry.descriptor_cache.connection import (
    REDIS_FAILURES,
    RedisSettings,
    close_client,
    create_client,
    settings_from_config,
)
from pyregistry.storage.descriptors import DEFAULT_BLOB_MEDIA_TYPE, BlobDescriptor
from pyregistry.storage.digest import Digest
from pyregistry.storage.errors import DigestInvalid

T = TypeVar("T")
log = logging.getLogger("pyregistry.descriptor_cache")

#: Errors meaning "Redis cannot be reached" (as opposed to a bad reply for one key).
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    OSError,  # includes the builtin TimeoutError that asyncio raises
    RedisClusterException,  # a cluster with no reachable node, a slot nobody serves
    ClusterError,  # a cluster that answers it is down
)
#: Global hash fields a clear removes; ``length`` is the name ``size`` had long ago.
_GLOBAL_FIELDS = ("digest", "size", "length", "mediatype")


class RedisUnavailable(Exception):
    """What the health check raises while Redis does not answer."""


def blob_key(digest: Digest | str) -> str:
    return f"blobs::{digest}"


def repository_set_key(repository: str) -> str:
    return f"repository::{repository}::blobs"


def repository_blob_key(repository: str, digest: Digest | str) -> str:
    return f"repository::{repository}::blobs::{digest}"


def parse_global(values: list[Any]) -> BlobDescriptor | None:
    """A descriptor from ``HMGET blobs::<digest> digest size mediatype``; None if partial."""
    if len(values) < 3 or values[0] is None or values[1] is None:
        return None
    try:
        digest = Digest.parse(str(values[0]))
        size = int(values[1])
    except (DigestInvalid, ValueError):
        return None
    if size < 0:
        return None
    return BlobDescriptor(digest, size, str(values[2] or "") or DEFAULT_BLOB_MEDIA_TYPE)


class RedisBlobDescriptorCache:
    """:class:`~pyregistry.storage.cache.BlobDescriptorCache` over one Redis node.

    The redis-py client is created lazily for the running event loop (its connections
    belong to that loop); if the cache is later used from another loop it starts a new
    client there rather than touching sockets of a loop it does not run in.
    """

    def __init__(
        self,
        settings: RedisSettings,
        *,
        retry_interval: float = DEFAULT_RETRY_INTERVAL,
        client_factory: Callable[[RedisSettings], Redis] = create_client,
    ) -> None:
        self.settings = settings
        self.availability = Availability(
            f"redis blob descriptor cache at {settings.address}", retry_interval
        )
        self._client_factory = client_factory
        self._client: Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_config(
        cls, redis: RedisConfig, *, retry_interval: float = DEFAULT_RETRY_INTERVAL
    ) -> RedisBlobDescriptorCache:
        return cls(settings_from_config(redis), retry_interval=retry_interval)

    def __repr__(self) -> str:
        return f"RedisBlobDescriptorCache({self.settings.address}, db={self.settings.db})"

    # -- the cache protocol ------------------------------------------------------------

    async def get(self, repo: str | None, digest: Digest) -> BlobDescriptor | None:
        if repo is None:
            return await self._call(lambda r: self._get_global(r, digest), None)
        return await self._call(lambda r: self._get_scoped(r, repo, digest), None)

    async def set(self, repo: str | None, descriptor: BlobDescriptor) -> None:
        if descriptor.size < 0:
            return
        await self._call(lambda r: self._set(r, repo, descriptor), None)

    async def delete(self, repo: str | None, digest: Digest) -> None:
        await self._call(lambda r: self._delete(r, repo, digest), None)

    # -- health and lifecycle ----------------------------------------------------------

    async def check(self) -> None:
        """Health check for ``/debug/health``: PING, whatever the quiet period says.

        A success also ends an outage early (the cache is used again at once).
        """
        try:
            await self._redis().ping()
        except REDIS_FAILURES as exc:
            if isinstance(exc, OUTAGE_ERRORS):
                self.availability.failed(exc)
            raise RedisUnavailable(f"redis at {self.settings.address}: {exc}") from None
        self.availability.succeeded()

    async def close(self) -> None:
        """Close the connections (only possible from the loop that opened them)."""
        client, loop = self._client, self._loop
        self._client = self._loop = None
        if client is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            await close_client(client)

    # -- internals ---------------------------------------------------------------------

    def _redis(self) -> Redis:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = self._client_factory(self.settings)
            self._loop = loop
        return self._client

    async def _call(self, operation: Callable[[Redis], Awaitable[T]], default: T) -> T:
        if not self.availability.should_try():
            return default
        try:
            result = await operation(self._redis())
        except OUTAGE_ERRORS as exc:
            self.availability.failed(exc)
            return default
        except RedisError as exc:
            # Redis answered, but not as expected (a key of another type...): a miss.
            log.warning(f"redis blob descriptor cache: {type(exc).__name__}: {exc}")
            self.availability.succeeded()
            return default
        self.availability.succeeded()
        return result

    async def _get_global(self, client: Redis, digest: Digest) -> BlobDescriptor | None:
        values = await client.hmget(blob_key(digest), ["digest", "size", "mediatype"])
        return parse_global(list(values))

    async def _get_scoped(self, client: Redis, repo: str, digest: Digest) -> BlobDescriptor | None:
        async with client.pipeline(transaction=False) as pipe:
            pipe.sismember(repository_set_key(repo), str(digest))
            pipe.hmget(blob_key(digest), ["digest", "size", "mediatype"])
            pipe.hget(repository_blob_key(repo, digest), "mediatype")
            member, values, media_type = await pipe.execute()
        if not member:
            return None
        upstream = parse_global(list(values))
        if upstream is None or media_type is None:
            return None
        if media_type:
            return BlobDescriptor(upstream.digest, upstream.size, str(media_type))
        return upstream

    async def _set(self, client: Redis, repo: str | None, descriptor: BlobDescriptor) -> None:
        digest = str(descriptor.digest)
        async with client.pipeline(transaction=False) as pipe:
            if repo is not None:
                pipe.sadd(repository_set_key(repo), digest)
            pipe.hset(blob_key(digest), mapping={"digest": digest, "size": str(descriptor.size)})
            pipe.hsetnx(blob_key(digest), "mediatype", descriptor.media_type)
            if repo is not None:
                pipe.hset(repository_blob_key(repo, digest), "mediatype", descriptor.media_type)
            await pipe.execute()

    async def _delete(self, client: Redis, repo: str | None, digest: Digest) -> None:
        async with client.pipeline(transaction=False) as pipe:
            if repo is not None:
                pipe.srem(repository_set_key(repo), str(digest))
                pipe.delete(repository_blob_key(repo, digest))
            pipe.hdel(blob_key(digest), *_GLOBAL_FIELDS)
            await pipe.execute()
