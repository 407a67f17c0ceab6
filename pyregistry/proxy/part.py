"""What the blobs, manifests and tags of a mirrored repository share: the cache, the
local-first repository, the upstream and the name there; and, for the parts that fetch
(blobs and manifests), how one fetch of a thing is agreed on however many pull it at once:
in this process through :mod:`flights`, across processes through a fetch lease.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pyregistry.proxy.fetch_leases import FetchLeases
from pyregistry.proxy.flights import Flights
from pyregistry.proxy.upstream import Upstream
from pyregistry.storage import RegistryError, Repository
from pyregistry.storage.errors import Unsupported
from pyregistry.tasks.lease import Lease

MIRROR_WRITE = "this repository mirrors an upstream registry: pushes and deletes are refused"


class MirroredPart:
    """One part of a mirrored repository (``remote`` upstream) cached in ``cache``;
    writes go to ``local`` when the upstream is local-first (else None: refused)."""

    def __init__(
        self, cache: Repository, local: Repository | None, upstream: Upstream, remote: str
    ) -> None:
        self._cache = cache
        self._local = local
        self._upstream = upstream
        self._remote = remote
        self.repository = cache.name

    @property
    def placement(self) -> tuple[Repository, Repository | None, Upstream, str]:
        """What this part was made with (another part of the same repository takes it)."""
        return self._cache, self._local, self._upstream, self._remote

    def _writable(self) -> Repository:
        if self._local is None:
            raise Unsupported(MIRROR_WRITE)
        return self._local


class FetchingPart(MirroredPart):
    """A part that fetches what it lacks from the upstream, once per thing."""

    def __init__(
        self,
        cache: Repository,
        local: Repository | None,
        upstream: Upstream,
        remote: str,
        flights: Flights,
        fetches: FetchLeases | None = None,
    ) -> None:
        super().__init__(cache, local, upstream, remote)
        self._flights = flights
        self._fetches = fetches if fetches is not None else FetchLeases(None)

    async def _claim(
        self, key: str, present: Callable[[], Awaitable[bool]], unknown: RegistryError
    ) -> Lease | None:
        """None once ``present()`` (cached: serve it from the cache); else the fetch
        lease of ``key``, held, after any fetch of it in progress here or elsewhere
        ended without caching it. ``unknown`` when the allow-list excludes it."""
        attempt = 0
        while True:
            if await present():
                return None
            if await self._flights.wait(key):
                continue
            if not self._upstream.settings.allows(self._remote):
                raise unknown
            lease = await self._fetches.take(key)
            if lease is not None:
                if not await present():
                    return lease
                await lease.release()  # committed by another process just now
                continue
            await self._fetches.pause(attempt)  # another process fetches it
            attempt += 1
