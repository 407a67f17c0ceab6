"""A lease as a Redis key, for deployments that configure ``redis``.

``SET key token NX PX ttl`` takes it, so exactly one claimant wins at once; renewal and
release compare the token first, in one Lua script each, so a holder whose key expired
and was taken never extends or deletes the new holder's. The fence comes from ``INCR`` on
a companion key in the same script that takes the lease; short-lived leases (an upload
session's) are taken unfenced, so they leave no key behind.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio.cluster import RedisCluster

from pyregistry.tasks.lease import Lease, new_token

KEY_PREFIX = "pyregistry:lease:"

_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisLease(Lease):
    """The lease ``name`` in the Redis database ``client`` talks to."""

    def __init__(self, name: str, client: Any, *, ttl: float, fenced: bool = True) -> None:
        super().__init__(name)
        self.client = client
        self.ttl = ttl
        self.fenced = fenced
        # on a Redis Cluster the key and its fence must share a slot: the name in braces
        self.key = KEY_PREFIX + ("{" + name + "}" if isinstance(client, RedisCluster) else name)
        self._token: str | None = None

    @property
    def held(self) -> bool:
        return self._token is not None

    @property
    def _ttl_ms(self) -> int:
        return max(1, int(self.ttl * 1000))

    async def acquire(self) -> bool:
        if self._token is not None:
            return await self.renew()
        token = new_token()
        if self.fenced:
            fence = await self.client.eval(
                _ACQUIRE, 2, self.key, self.key + ":fence", token, self._ttl_ms
            )
        else:
            fence = 1 if await self.client.set(self.key, token, nx=True, px=self._ttl_ms) else 0
        if not fence:
            return False
        self._token, self.fence = token, int(fence)
        return True

    async def renew(self) -> bool:
        if self._token is None:
            return False
        if not await self.client.eval(_RENEW, 1, self.key, self._token, self._ttl_ms):
            self._token = None
            return False
        return True

    async def release(self) -> None:
        token, self._token = self._token, None
        if token is not None:
            await self.client.eval(_RELEASE, 1, self.key, token)
