"""Sweep: remove what marking left unmarked, in an order that never dangles.

First the unmarked manifest revisions (with their tag history and referrers index
entries), then every repository's links to unmarked blobs, then the unmarked blobs'
data. A crash between steps leaves only garbage for the next run, never a visible
manifest whose content is gone.

Every removal also makes the blob descriptor caches forget it, so a registry sharing
the cache (Redis) does not answer "present" for collected content. Already-missing paths
are reported and skipped; any other failure is recorded and the sweep goes on with the
rest, so one bad object does not leave the whole store uncollected.

``spare``, when given, is asked right before each removal and may veto it; the offline
command has none, an online collector passes its grace-period re-check there. ``change``
(online: the registry's ``ctx.change``) wraps each manifest removal so that the metadata
index records it; ``forget`` is told of every removed manifest or blob digest (online: the
in-process manifest content cache).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Literal, TextIO, TypeVar

from pyregistry.gc.mark import ManifestRemoval
from pyregistry.gc.progress import Progress
from pyregistry.gc.report import Report
from pyregistry.storage import enumerate as stored
from pyregistry.storage.cache import BlobDescriptorCache
from pyregistry.storage.digest import Digest
from pyregistry.storage.enumerate import StoredBlob
from pyregistry.storage.metadata import NO_CHANGE, IndexChange
from pyregistry.storage.removal import (
    remove_blob,
    remove_blobs,
    remove_layer_link,
    remove_layer_links,
    remove_manifest_revision,
)
from storage_drivers.base import StorageDriver

T = TypeVar("T")
#: Removals in flight at once (the filesystem driver's threads, object store requests).
DEFAULT_CONCURRENCY = 16
#: Objects removed per driver call when nothing must be re-checked first (offline).
BATCH = 256

Kind = Literal["manifest", "layer", "blob"]
#: ``spare(kind, repository or None, digest)``: True keeps the object after all.
SpareCheck = Callable[[Kind, str | None, Digest], Awaitable[bool]]
#: ``change(repository)``: the metadata index's record of one write (see storage.metadata).
ChangeRecorder = Callable[[str], AbstractAsyncContextManager[IndexChange]]


def _no_change(repository: str) -> AbstractAsyncContextManager[IndexChange]:
    return NO_CHANGE


async def _forget(caches: Sequence[BlobDescriptorCache], repo: str | None, digest: Digest) -> None:
    for cache in caches:
        await cache.delete(repo, digest)


def _batches(items: Sequence[T]) -> list[list[T]]:
    return [list(items[i : i + BATCH]) for i in range(0, len(items), BATCH)]


class Sweeper:
    """Removes (or, in a dry run, lists) unmarked objects of one driver."""

    def __init__(
        self,
        driver: StorageDriver,
        report: Report,
        *,
        dry_run: bool = False,
        caches: Sequence[BlobDescriptorCache] = (),
        progress: Progress | None = None,
        out: TextIO | None = None,
        spare: SpareCheck | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        change: ChangeRecorder | None = None,
        forget: Callable[[Digest], None] | None = None,
    ) -> None:
        self.driver = driver
        self.report = report
        self.dry_run = dry_run
        self.caches = caches
        self.progress = progress if progress is not None else Progress(enabled=False)
        self.out = out
        self.spare = spare
        self.concurrency = max(1, concurrency)
        self.change = change if change is not None else _no_change
        self.forget = forget
        #: What this sweep removed so far: (kind, repository or None, digest).
        self.removed: list[tuple[Kind, str | None, Digest]] = []

    async def _each(self, items: Iterable[T], remove: Callable[[T], Awaitable[None]]) -> None:
        """``remove`` every item, at most ``concurrency`` at once (it records its errors)."""
        limit = asyncio.Semaphore(self.concurrency)

        async def run(item: T) -> None:
            try:
                await remove(item)
            finally:
                limit.release()

        async with asyncio.TaskGroup() as group:
            for item in items:
                await limit.acquire()
                group.create_task(run(item))

    def _say(self, line: str) -> None:
        """A per-object line (distribution prints the same ones); none with ``--quiet``."""
        if self.out is not None:
            self.progress.interrupt()
            self.out.write(line + "\n")

    async def _spared(self, kind: Kind, repo: str | None, digest: Digest) -> bool:
        return self.spare is not None and await self.spare(kind, repo, digest)

    async def manifests(self, removals: Sequence[ManifestRemoval]) -> None:
        """Unlink each unmarked manifest revision from its repository."""
        self.progress.phase("sweep manifests", len(removals))
        for removal in removals:
            self._say(f"manifest eligible for deletion: {removal.repository}@{removal.digest}")
        by_repository: dict[str, list[ManifestRemoval]] = {}
        for removal in removals:
            by_repository.setdefault(removal.repository, []).append(removal)
        for repository, group in by_repository.items():
            # One index record per repository: overlapping records would leave it dirty.
            async with self.change(repository) as change:
                await self._each(group, functools.partial(self._remove_manifest, change))

    async def _remove_manifest(self, change: IndexChange, removal: ManifestRemoval) -> None:
        name = f"{removal.repository}@{removal.digest}"
        self.progress.advance()
        if self.dry_run:
            self.report.manifests_deleted += 1
            return
        if await self._spared("manifest", removal.repository, removal.digest):
            return
        try:
            found = await remove_manifest_revision(
                self.driver, removal.repository, removal.digest, removal.tags, removal.subject
            )
            if found:
                change.manifest_deleted(removal.digest)
            await _forget(self.caches, removal.repository, removal.digest)
            if self.forget is not None:
                self.forget(removal.digest)
        except Exception as exc:  # noqa: BLE001 - any driver failure: reported, the sweep goes on
            self.report.fail(f"cannot delete manifest {name}: {exc}")
            return
        if found:
            self.report.manifests_deleted += 1
            self.removed.append(("manifest", removal.repository, removal.digest))
        else:
            self.report.warn(f"manifest {name} was already gone")

    async def layer_links(self, repositories: Iterable[str], marked: set[Digest]) -> None:
        """Remove every repository's links to blobs that are not marked."""
        repositories = list(repositories)
        self.progress.phase("sweep layer links", len(repositories))
        sweep = functools.partial(self._repository_links, marked)
        if self._batched:
            # Batches of several repositories in flight: a repository rarely fills two.
            await self._each(repositories, sweep)
        else:
            for repository in repositories:
                await sweep(repository)

    async def _repository_links(self, marked: set[Digest], repository: str) -> None:
        doomed = [d async for d in self._linked(repository) if d not in marked]
        if doomed:
            async with self.change(repository):  # the last link may take the repository
                if self._batched:
                    await self._each(
                        _batches(doomed),
                        functools.partial(self._remove_layer_link_batch, repository),
                    )
                else:
                    remove = functools.partial(self._remove_layer_link, repository)
                    await self._each(doomed, remove)
        self.progress.advance()

    async def _linked(self, repository: str) -> AsyncIterator[Digest]:
        """The blobs ``repository`` links. Offline from listings alone; online only those
        whose ``link`` file is written (and which the guard can date): a directory
        without one may be a push's link about to be written."""
        if self._batched:
            async for digest in stored.linked_digests(self.driver, repository):
                yield digest
        else:
            async for link in stored.layer_links(self.driver, repository):
                yield link.digest

    @property
    def _batched(self) -> bool:
        """Whether removals go in batches: only when no guard re-checks each one (the
        offline collector; the online one asks ``spare`` object by object)."""
        return self.spare is None and not self.dry_run

    async def _remove_layer_link_batch(self, repository: str, digests: list[Digest]) -> None:
        try:
            found = await remove_layer_links(self.driver, repository, digests)
        except Exception:  # noqa: BLE001 - retried one by one, which reports each failure
            for digest in digests:
                await self._remove_layer_link(repository, digest)
            return
        for digest, there in zip(digests, found, strict=True):
            await _forget(self.caches, repository, digest)
            self.report.layer_links_deleted += int(there)
            if there:
                self.removed.append(("layer", repository, digest))

    async def _remove_layer_link(self, repository: str, digest: Digest) -> None:
        if self.dry_run:
            self.report.layer_links_deleted += 1
            return
        if await self._spared("layer", repository, digest):
            return
        try:
            found = await remove_layer_link(self.driver, repository, digest)
            await _forget(self.caches, repository, digest)
        except Exception as exc:  # noqa: BLE001 - any driver failure: reported, the sweep goes on
            self.report.fail(f"cannot delete layer link {repository}@{digest}: {exc}")
            return
        self.report.layer_links_deleted += int(found)
        if found:
            self.removed.append(("layer", repository, digest))

    async def unmarked_blobs(self, marked: set[Digest], quiet: bool = False) -> list[StoredBlob]:
        """Blobs in the global store that nothing marked (listing only, no removal);
        ``quiet`` while another phase shows its progress."""
        if not quiet:
            self.progress.phase("list blobs")
        found = []
        async for blob in stored.blobs(self.driver, leave_out=marked):
            if not quiet:
                self.progress.advance()
            found.append(blob)
        return found

    async def blobs(self, candidates: Sequence[StoredBlob]) -> None:
        """Remove the data of each unmarked blob."""
        self.progress.phase("sweep blobs", len(candidates))
        for blob in candidates:
            self._say(f"blob eligible for deletion: {blob.digest}")
        if self._batched:
            await self._each(_batches(candidates), self._remove_blob_batch)
        else:
            await self._each(candidates, self._remove_blob)

    async def _remove_blob_batch(self, blobs: list[StoredBlob]) -> None:
        try:
            found = await remove_blobs(self.driver, [blob.digest for blob in blobs])
        except Exception:  # noqa: BLE001 - retried one by one, which reports each failure
            for blob in blobs:
                await self._remove_blob(blob)
            return
        for blob, there in zip(blobs, found, strict=True):
            self.progress.advance()
            await _forget(self.caches, None, blob.digest)
            if self.forget is not None:
                self.forget(blob.digest)
            if there:
                self.report.blobs_deleted += 1
                self.report.bytes_freed += blob.size
            else:
                self.report.warn(f"blob {blob.digest} was already missing; skipped")

    async def _remove_blob(self, blob: StoredBlob) -> None:
        self.progress.advance()
        if self.dry_run:
            self.report.blobs_deleted += 1
            self.report.bytes_freed += blob.size
            return
        if await self._spared("blob", None, blob.digest):
            return
        try:
            found = await remove_blob(self.driver, blob.digest)
            await _forget(self.caches, None, blob.digest)
            if self.forget is not None:
                self.forget(blob.digest)
        except Exception as exc:  # noqa: BLE001 - any driver failure: reported, the sweep goes on
            self.report.fail(f"cannot delete blob {blob.digest}: {exc}")
            return
        if found:
            self.report.blobs_deleted += 1
            self.report.bytes_freed += blob.size
        else:
            self.report.warn(f"blob {blob.digest} was already missing; skipped")
