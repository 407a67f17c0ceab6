"""The online collector's re-check: what a push may need right now is never removed.

Marking takes a while and pushes go on meanwhile, so the sweep asks :meth:`Guard.spare`
right before each removal (the :mod:`~pyregistry.gc.sweep` hook). An object is spared
when storage shows it in use *now*, not at marking time:

* it was written within ``grace`` (a revision, layer link or blob ``data`` file's
  modification time): an upload, mount or manifest push in progress or just finished;
* (links and revisions) a manifest revision of its repository written since marking
  began, or within ``grace``, names it (its "late" references: config, layers, index
  children and, through them, the children's own references, subject, and its own
  digest): a manifest or index pushed while the store was being marked, or just before
  (a revision kept for its age keeps its blobs' links, however old they are);
* (manifests, ``deleteuntagged``) a tag points at it now;
* (blob data) any repository links it (as a layer or a manifest revision), in a
  listing of repositories made for this check (after the link sweep and its repair,
  only links the guard spared, restored or made since remain; a manifest cannot be
  pushed without its repository's links).

Late references are re-read at most every ``refresh`` seconds per repository. See
docs/garbage-collection.md for why this is enough, and for the assumption it rests on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from pyregistry.gc.references import ManifestReferences, ManifestUnreadable, parse_references
from pyregistry.gc.sweep import Kind
from pyregistry.storage import enumerate as stored
from pyregistry.storage import paths
from pyregistry.storage.digest import Digest
from pyregistry.storage.removal import read_manifest
from storage_drivers.base import StorageDriver
from storage_drivers.errors import PathNotFound

#: Seconds a set of late references is trusted before storage is listed again.
DEFAULT_REFRESH_SECONDS = 0.25
#: Clock disagreement tolerated between this host and the storage's timestamps.
CLOCK_SKEW_SECONDS = 5.0
#: Link look-ups one guard has in flight at most. A blob's check asks every repository
#: (two look-ups each) and the sweep checks many blobs at once: unbounded, that was
#: hundreds of requests queued on the driver's thread pool, ahead of every push's in
#: the same process (on S3, a push then waited minutes for its turn).
CHECK_CONCURRENCY = 8


class Guard:
    """``spare(kind, repository, digest)`` for one collection that began at ``started``."""

    def __init__(
        self,
        driver: StorageDriver,
        *,
        grace: float,
        started: float,
        delete_untagged: bool,
        refresh: float = DEFAULT_REFRESH_SECONDS,
        clock: Callable[[], float] = time.time,
        skew: float = CLOCK_SKEW_SECONDS,
        list_repositories: Callable[[], Awaitable[list[str]]] | None = None,
    ) -> None:
        self.driver = driver
        self.grace = grace
        self.skew = skew
        self.since = started - skew
        self.delete_untagged = delete_untagged
        self.refresh = refresh
        self.clock = clock
        self._late: dict[str, tuple[float, set[Digest]]] = {}
        #: Parsed manifests (content-addressed: never stale); None when unreadable.
        self._parsed: dict[Digest, ManifestReferences | None] = {}
        #: Faster than walking storage (the metadata index's catalog), if given.
        self.list_repositories = list_repositories
        #: Objects spared, by kind (for the report).
        self.spared: dict[str, int] = {"manifest": 0, "layer": 0, "blob": 0}
        self._checking = asyncio.Semaphore(CHECK_CONCURRENCY)

    async def spare(self, kind: Kind, repository: str | None, digest: Digest) -> bool:
        keep = await self._in_use(kind, repository, digest)
        if keep:
            self.spared[kind] += 1
        return keep

    async def _in_use(self, kind: Kind, repository: str | None, digest: Digest) -> bool:
        if kind == "blob":
            if await self._recent(paths.blob_data_path(digest)):
                return True
            names = await self.repositories()
            linked = await asyncio.gather(
                *(self._exists(paths.layer_link_path(name, digest)) for name in names),
                *(self._exists(paths.manifest_revision_link_path(name, digest)) for name in names),
            )
            return any(linked)
        assert repository is not None
        if kind == "layer":
            path = paths.layer_link_path(repository, digest)
            return await self._recent(path) or digest in await self.late(repository)
        path = paths.manifest_revision_link_path(repository, digest)
        if await self._recent(path) or digest in await self.late(repository):
            return True
        return self.delete_untagged and await self._tagged(repository, digest)

    async def _recent(self, path: str) -> bool:
        """Written within the grace period (a missing path is not in use)."""
        try:
            info = await self.driver.stat(path)
        except PathNotFound:
            return False
        return info.mod_time.timestamp() >= self.clock() - self.grace - self.skew

    async def _exists(self, path: str) -> bool:
        async with self._checking:
            try:
                await self.driver.stat(path)
            except PathNotFound:
                return False
            return True

    async def _tagged(self, repository: str, digest: Digest) -> bool:
        return any([t.target == digest async for t in stored.tags(self.driver, repository)])

    async def repositories(self) -> list[str]:
        """Every repository, listed afresh for each blob: an upload of content the store
        already holds writes only the new repository's link, not the data."""
        if self.list_repositories is not None:
            return await self.list_repositories()
        return [name async for name in stored.repositories(self.driver)]

    def expire(self) -> None:
        """Forget every cached listing: the next checks read storage again."""
        self._late.clear()

    async def late(self, repository: str) -> set[Digest]:
        """What the manifests of ``repository`` kept for their age (written since marking
        began, or within the grace period) reference, their index children's own
        references included: all of it must stay with them."""
        now = self.clock()
        cached = self._late.get(repository)
        if cached is not None and now - cached[0] < self.refresh:
            return cached[1]
        since = min(self.since, now - self.grace - self.skew)
        pending = [
            entry.digest
            async for entry in stored.manifest_revisions(self.driver, repository, False)
            if entry.modified >= since
        ]
        found: set[Digest] = set()
        visited: set[Digest] = set()
        while pending:
            digest = pending.pop()
            if digest in visited:
                continue
            visited.add(digest)
            found.add(digest)
            refs = await self._references(repository, digest)
            if refs is None:
                continue  # a manifest we cannot read is not kept by us, nor can it keep
            found.update(refs.blobs)
            pending.extend(refs.children)
            if refs.subject is not None:
                found.add(refs.subject)
        self._late[repository] = (now, found)
        return found

    async def _references(self, repository: str, digest: Digest) -> ManifestReferences | None:
        if digest in self._parsed:
            return self._parsed[digest]
        content = await read_manifest(self.driver, digest)
        if content is None:
            return None  # not stored (yet): asked again next time
        try:
            refs: ManifestReferences | None = parse_references(repository, digest, content)
        except ManifestUnreadable:
            refs = None
        self._parsed[digest] = refs
        return refs
