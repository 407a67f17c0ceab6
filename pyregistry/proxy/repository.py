"""The mirror as a wrapper of the storage namespace, as distribution's
``registry/proxy`` wraps its ``Namespace``: ``repository(name)`` hands out a
:class:`MirroredRepository` for names under a mirrored prefix and the core repository
for every other name, so normal repositories stay normal and pushable.

Cached content is written through a second core :class:`Registry` over the same storage
(the *cache*) that accepts sparse manifests: a mirror stores an index without the
platforms nobody pulled, and a manifest before its layers. Everything else (events,
listings, the metadata index) sees what the core sees, since the bytes are the same.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Sequence
from typing import Any

from pyregistry.proxy.blobs import MirroredBlobs
from pyregistry.proxy.errors import UPSTREAM_FAILURES, log
from pyregistry.proxy.expiry import MirrorExpiry
from pyregistry.proxy.fetch_leases import FetchLeases
from pyregistry.proxy.flights import Flights
from pyregistry.proxy.manifests import MirroredManifests, MirroredTags
from pyregistry.proxy.part import MIRROR_WRITE
from pyregistry.proxy.pulls import PullClock
from pyregistry.proxy.settings import UpstreamSettings, upstream_for
from pyregistry.proxy.tag_checks import TagChecks
from pyregistry.proxy.upstream import Upstream
from pyregistry.storage import Digest, Registry, Repository
from pyregistry.storage.errors import Unsupported
from pyregistry.tasks.leases import LeaseFactory
from pyregistry.tasks.scheduler import Scheduler

#: Mirrored repositories kept built (a pull builds none); past this many, all are dropped.
MEMO_REPOSITORIES = 4096


class _RefusedUploads:
    """Upload sessions of a mirrored (not local-first) repository: none."""

    async def create(self) -> Any:
        raise Unsupported(MIRROR_WRITE)

    async def resume(self, upload_id: str) -> Any:
        raise Unsupported(MIRROR_WRITE)


class MirroredRepository:
    """One repository under a mirrored prefix: reads fall through to the upstream."""

    def __init__(
        self,
        cache: Repository,
        local: Repository | None,
        upstream: Upstream,
        flights: Flights,
        pulls: PullClock | None = None,
        fetches: FetchLeases | None = None,
        tag_checks: TagChecks | None = None,
    ) -> None:
        self.name = cache.name
        self._cache = cache
        self._upstream = upstream
        self.remote = upstream.settings.remote_name(cache.name)
        shared = (cache, local, upstream, self.remote, flights, fetches)
        self.blobs = MirroredBlobs(*shared)
        self.manifests = MirroredManifests(*shared, pulls=pulls)
        self.tags = MirroredTags(self.manifests, tag_checks)
        self.uploads: Any = local.uploads if local is not None else _RefusedUploads()

    def __repr__(self) -> str:
        return f"MirroredRepository({self.name!r} <- {self._upstream.label}/{self.remote})"

    async def exists(self) -> bool:
        return bool(await self._cache.exists())

    async def referrers(
        self, subject: Digest, artifact_type: str | None = None
    ) -> list[dict[str, Any]]:
        """The upstream's referrers (when it has the API) and the cached ones."""
        found = await self._cache.referrers(subject, artifact_type)
        if not self._upstream.settings.allows(self.remote):
            return found
        try:
            upstream = await self._upstream.referrers(self.remote, str(subject), artifact_type)
        except UPSTREAM_FAILURES as exc:
            log.warning("upstream %s: referrers of %s: %s", self._upstream.label, subject, exc)
            upstream = None
        known = {d.get("digest") for d in found}
        return found + [d for d in upstream or () if d.get("digest") not in known]


def cache_registry(core: Registry) -> Registry:
    """A second view of the core's storage that stores sparse manifests (see above). It
    may delete whatever ``storage.delete`` says: only expiry deletes through it (clients'
    deletes go to the core's repository, or are refused)."""
    return Registry(
        core.driver,
        delete_enabled=True,
        redirect=core.redirect,
        readonly=core.readonly,
        blob_descriptor_cache=core.blob_descriptor_cache,
        validate_index_children=False,
        validate_manifest_blobs=False,
        index=core.index,
    )


class MirrorNamespace:
    """The core registry with some repository names mirrored from upstreams."""

    def __init__(
        self,
        core: Registry,
        upstreams: Sequence[UpstreamSettings],
        leases: LeaseFactory | None = None,
    ) -> None:
        self.core = core
        self._cache = cache_registry(core)
        self._settings = list(upstreams)
        self.upstreams = {u.prefix: Upstream(u) for u in self._settings}
        self._flights = Flights()
        self._fetches = FetchLeases(leases)
        self.pulls = PullClock(core.driver)
        self.expiry = MirrorExpiry(core, self._cache, self._settings, self.pulls)
        self._built: dict[str, MirroredRepository] = {}
        self._tag_checks = TagChecks()

    def repository(self, name: str) -> Any:
        """The mirrored repository ``name`` (built once: it holds no per-request state,
        and a warm pull should cost what a local one does), else the core's."""
        built = self._built.get(name)
        if built is not None:
            return built
        repository = self.core.repository(name)  # NAME_INVALID first
        settings = upstream_for(self._settings, repository.name)
        if settings is None:
            return repository
        local = repository if settings.local_first else None
        cache = self._cache.repository(repository.name)
        upstream = self.upstreams[settings.prefix]
        built = MirroredRepository(
            cache, local, upstream, self._flights, self.pulls, self._fetches, self._tag_checks
        )
        if len(self._built) >= MEMO_REPOSITORIES:
            self._built.clear()
        self._built[name] = built
        return built

    def register_jobs(self, scheduler: Scheduler) -> None:
        """The mirror's background jobs: pull times flushed, unpulled content expired."""
        self.expiry.register(scheduler)

    @property
    def readonly(self) -> bool:
        return self.core.readonly

    @property
    def delete_enabled(self) -> bool:
        return self.core.delete_enabled

    @property
    def min_chunk_size(self) -> int:
        return int(getattr(self.core, "min_chunk_size", 0) or 0)

    @property
    def blob_store(self) -> Any:
        return self.core.blob_store

    async def catalog(
        self, n: int | None = None, last: str | None = None, **options: Any
    ) -> builtins.list[str]:
        return await self.core.catalog(n, last, **options)

    def repositories(self, after: str | None = None) -> AsyncIterator[str]:
        core: Any = self.core  # repositories: part of the storage Protocols
        result: AsyncIterator[str] = core.repositories(after)
        return result

    async def purge_uploads(self, older_than_seconds: float, dry_run: bool = False) -> int:
        return await self.core.purge_uploads(older_than_seconds, dry_run)

    async def close_upstreams(self) -> None:
        """Finish what is being stored, write the last pull times, close the upstreams'
        connections."""
        await self._flights.drain()
        if self.expiry.shortest > 0 and not self.core.readonly:
            await self.pulls.flush()
        for upstream in self.upstreams.values():
            await upstream.aclose()
        await self._fetches.close()

    async def close(self) -> None:
        await self.close_upstreams()
        await self.core.close()

    def __getattr__(self, name: str) -> Any:
        # Everything else (driver, index, redirect, stat_blob...) is the core's.
        return getattr(self.core, name)
