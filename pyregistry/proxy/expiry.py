"""Mirrored content nobody pulled within its upstream's ``expire`` (distribution's
``proxy.ttl``) is removed: the manifest and the tags on it, then the repository's links
to blobs no remaining manifest there names, then the data of blobs nothing links.

A job of the scheduler (``mirror-expiry``), so of the instances sharing one storage only
the lease holder runs it. A manifest's last pull is the latest of the processes' pull
records (:mod:`pyregistry.proxy.pulls`) and its revision link's modification time (when
it was cached). Removals are re-checked right before each one by the garbage
collector's :class:`~pyregistry.gc.guard.Guard` (written within the grace period,
referenced by a manifest cached since the run began, linked by any repository) and go
through the storage layer's deletes and the collector's sweeper (metadata index, blob
descriptor caches). A pull that races a removal is served (open files stay readable) and
the next pull fetches from the upstream again: this is a cache.

A process killed mid-run (kill -9) leaves at most links and blob data that nothing names
any more; what may lose its last name is recorded before any removal
(:mod:`pyregistry.proxy.expiry_pending`), and later runs (by whichever instance holds the
lease then) finish it, as they retry what the guard spared for being recent.

Repositories of a *local-first* upstream are left alone: pushed and cached content share
them, and only a push knows which is which.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from pyregistry.gc.guard import CLOCK_SKEW_SECONDS, Guard
from pyregistry.gc.mark import read_revisions
from pyregistry.gc.references import ManifestUnreadable
from pyregistry.gc.report import Report
from pyregistry.gc.sweep import Sweeper
from pyregistry.proxy import metrics
from pyregistry.proxy.expiry_pending import PendingRemovals
from pyregistry.proxy.pulls import PullClock
from pyregistry.proxy.settings import UpstreamSettings, upstream_for
from pyregistry.storage import Digest, ManifestUnknown, Registry
from pyregistry.storage import enumerate as stored
from pyregistry.storage.enumerate import StoredBlob
from pyregistry.tasks.scheduler import JobRun, Scheduler

log = logging.getLogger("pyregistry.proxy")

JOB_NAME = "mirror-expiry"
FLUSH_JOB_NAME = "mirror-pull-records"
#: The grace period never exceeds the garbage collector's default.
MAX_GRACE_SECONDS = 3600.0


def run_interval(lifetime: float) -> float:
    """How often expiry runs: a quarter of the shortest lifetime, within [0.5s, 1h]."""
    return min(max(lifetime / 4, 0.5), 3600.0)


def flush_interval(lifetime: float) -> float:
    """How often pull times are written: a tenth of the shortest lifetime, within
    [0.1s, 60s] (one small write per repository pulled meanwhile)."""
    return min(max(lifetime / 10, 0.1), 60.0)


class MirrorExpiry:
    """Expires the cached content of ``upstreams`` in ``cache`` (the mirror's view of the
    core registry's storage)."""

    def __init__(
        self,
        core: Registry,
        cache: Registry,
        upstreams: Sequence[UpstreamSettings],
        pulls: PullClock,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.core = core
        self.cache = cache
        self.upstreams = list(upstreams)
        self.pulls = pulls
        self.clock = clock
        self.runs = 0
        self.last: Report | None = None

    @property
    def shortest(self) -> float:
        """The shortest lifetime of an expiring upstream (0: none expires)."""
        return min((u.expire for u in self.upstreams if u.expires), default=0.0)

    def register(self, scheduler: Scheduler) -> None:
        """Flush pull times in every process; expire once per cluster."""
        shortest = self.shortest
        if shortest <= 0 or self.core.readonly:
            return

        async def flush(run: JobRun) -> None:
            await self.pulls.flush()

        scheduler.every(FLUSH_JOB_NAME, flush_interval(shortest), flush, once_per_cluster=False)
        interval = run_interval(shortest)
        scheduler.every(JOB_NAME, interval, self._run, jitter=min(interval / 10, 60.0))

    async def _run(self, run: JobRun) -> None:
        report = await self.expire_once()
        metrics.EXPIRED.labels("manifest").inc(report.manifests_deleted)
        metrics.EXPIRED.labels("blob").inc(report.blobs_deleted)
        if report.manifests_deleted or report.blobs_deleted or report.errors:
            log.info(f"mirror expiry: {report.summary().replace(chr(10), '; ')}")
        for error in report.errors:
            log.error(f"mirror expiry: {error}")

    async def expire_once(self) -> Report:
        """One pass over every expiring mirrored repository; problems go in the report."""
        started = self.clock()
        report = Report()
        grace = min(self.shortest, MAX_GRACE_SECONDS)
        guard = Guard(
            self.cache.driver,
            grace=grace,
            started=started,
            delete_untagged=False,
            skew=min(CLOCK_SKEW_SECONDS, grace / 4),
            clock=self.clock,
            list_repositories=self.cache.catalog,
        )
        cache = self.cache.blob_descriptor_cache
        index = self.cache.index
        sweeper = Sweeper(
            self.cache.driver,
            report,
            caches=[cache] if cache is not None else [],
            spare=guard.spare,
            change=index.change if index is not None else None,
            forget=self._forget_content,
        )
        pending = PendingRemovals(self.cache.driver, self.clock)
        await pending.load()
        try:
            names = [name async for name in self.cache.repositories()]
        except Exception as exc:  # noqa: BLE001 - reported; nothing is removed blind
            report.fail(f"listing repositories failed: {exc}")
            names = []
        for name in names:
            settings = upstream_for(self.upstreams, name)
            if settings is None or not settings.expires:
                continue
            report.repositories += 1
            try:
                await self._expire_repository(name, settings, started, guard, pending, report)
                if name in pending.repositories and await self._unlink_blobs(
                    name, sweeper, pending
                ):
                    del pending.repositories[name]
            except Exception as exc:  # noqa: BLE001 - one repository failing must not stop the rest
                report.fail(f"{name}: {exc}")
        await self._remove_blobs(pending, sweeper)
        # past every grace period, what the guard still spares is in use
        await pending.settle(2 * (grace + guard.skew + run_interval(self.shortest)))
        report.finish()
        self.runs += 1
        self.last = report
        return report

    def _forget_content(self, digest: Digest) -> None:
        self.core.forget_content(digest)
        self.cache.forget_content(digest)

    async def _expire_repository(
        self,
        name: str,
        settings: UpstreamSettings,
        started: float,
        guard: Guard,
        pending: PendingRemovals,
        report: Report,
    ) -> None:
        """Remove the manifests of ``name`` nobody pulled since ``started - expire``."""
        cutoff = started - settings.expire
        pulled = await self.pulls.read(name)
        expired = [
            entry.digest
            async for entry in stored.manifest_revisions(self.cache.driver, name, False)
            if max(entry.modified, pulled.get(str(entry.digest), 0.0)) < cutoff
        ]
        await self.pulls.remove_stale(name, cutoff)
        if not expired:
            return
        # a manifest's bytes are a blob too; its links go after it
        await pending.add(blobs=(str(d) for d in expired), repositories=[name])
        repository = self.cache.repository(name)
        removed: list[Digest] = []
        for digest in expired:
            if await guard.spare("manifest", name, digest):
                continue
            try:
                await repository.manifests.delete(digest)  # and the tags on it
            except ManifestUnknown:
                continue
            self._forget_content(digest)
            removed.append(digest)
        report.manifests_deleted += len(removed)
        self.pulls.forget(name, (str(d) for d in removed))

    async def _unlink_blobs(self, name: str, sweeper: Sweeper, pending: PendingRemovals) -> bool:
        """Remove ``name``'s links to blobs none of its remaining manifests names; True
        when none is left (the guard spared none)."""
        driver = self.cache.driver
        try:
            revisions = await read_revisions(driver, name, sweeper.report)
        except ManifestUnreadable as exc:
            sweeper.report.warn(f"{exc}; links of {name} left in place")
            return False
        keep: set[Digest] = set(revisions)
        for refs in revisions.values():
            keep.update(refs.blobs)
            keep.update(refs.children)
        doomed = [
            link.digest
            async for link in stored.layer_links(driver, name)
            if link.digest not in keep
        ]
        if not doomed:
            return True
        await pending.add(blobs=(str(d) for d in doomed))
        before = len(sweeper.removed)
        await sweeper.layer_links([name], keep)
        return len(sweeper.removed) - before == len(doomed)

    async def _remove_blobs(self, pending: PendingRemovals, sweeper: Sweeper) -> None:
        """Remove the data of pending blobs nothing links any more (the guard re-checks);
        those gone are no longer pending."""
        found = []
        for digest in sorted(pending.blobs):
            descriptor = await self.cache.blob_store.stat(Digest.parse(digest))
            if descriptor is None:
                del pending.blobs[digest]
            else:
                found.append(StoredBlob(descriptor.digest, descriptor.size))
        if not found:
            return
        await sweeper.blobs(found)
        for blob in found:
            if await self.cache.blob_store.stat(blob.digest) is None:
                del pending.blobs[str(blob.digest)]
