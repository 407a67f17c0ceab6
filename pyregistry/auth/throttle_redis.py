"""Login failure counts in Redis, shared by every worker and instance.

Used when the configuration has a ``redis`` section. While Redis cannot be reached the
counts fall back to this process (one warning, then quiet): a Redis outage must never
stop logins, nor lift throttling altogether.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from redis.asyncio import Redis

from pyregistry.auth.throttle import MemoryCounts
from pyregistry.descriptor_cache.connection import REDIS_FAILURES

log = logging.getLogger("pyregistry.auth")
PREFIX = "pyregistry:login:"


class RedisCounts:
    def __init__(self, client: Redis) -> None:
        self.client = client
        self.local = MemoryCounts()
        self._warned = False

    def _down(self, error: Exception) -> None:
        if not self._warned:
            self._warned = True
            log.warning(f"login throttle: Redis unavailable ({error}); counting in-process")

    async def add_failure(self, key: str, window: float) -> int:
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.incr(PREFIX + "failures:" + key)
                pipe.expire(PREFIX + "failures:" + key, max(1, int(window)))
                count, _ = await pipe.execute()
            self._warned = False
            return int(count)
        except REDIS_FAILURES as exc:
            self._down(exc)
            return await self.local.add_failure(key, window)

    async def lock(self, key: str, seconds: float) -> None:
        try:
            await self.client.set(PREFIX + "locked:" + key, b"1", px=max(1, int(seconds * 1000)))
        except REDIS_FAILURES as exc:
            self._down(exc)
            await self.local.lock(key, seconds)

    async def locked_for(self, key: str) -> float:
        try:
            milliseconds = await self.client.pttl(PREFIX + "locked:" + key)
        except REDIS_FAILURES as exc:
            self._down(exc)
            return await self.local.locked_for(key)
        return max(0, int(milliseconds)) / 1000.0

    async def standing(self, keys: Sequence[str]) -> tuple[float, bool]:
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.pttl(PREFIX + "locked:" + key)
                    pipe.exists(PREFIX + "failures:" + key)
                replies = await pipe.execute()
        except REDIS_FAILURES as exc:
            self._down(exc)
            return await self.local.standing(keys)
        # PTTL: -2 no key, -1 no expiry (a lock always has one), else milliseconds left
        waits = [int(reply) for reply in replies[0::2]]
        counted = any(wait != -2 for wait in waits) or any(int(n) for n in replies[1::2])
        return max([max(0, wait) for wait in waits], default=0) / 1000.0, counted

    async def clear_all(self, keys: Sequence[str]) -> None:
        names = [PREFIX + kind + key for key in keys for kind in ("failures:", "locked:")]
        try:
            await self.client.delete(*names)
        except REDIS_FAILURES as exc:
            self._down(exc)
        await self.local.clear_all(keys)

    async def clear(self, key: str) -> None:
        try:
            await self.client.delete(PREFIX + "failures:" + key, PREFIX + "locked:" + key)
        except REDIS_FAILURES as exc:
            self._down(exc)
        await self.local.clear(key)
