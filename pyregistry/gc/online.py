"""``storage.maintenance.gc``: garbage collection while the registry serves traffic.

A job of the scheduler (:mod:`pyregistry.tasks.scheduler`), so of all workers and
instances sharing one storage only the lease holder collects. Each run is the offline
mark and sweep (:func:`pyregistry.gc.collect`) with three additions: the
:class:`~pyregistry.gc.guard.Guard` re-checks every object right before it goes (grace
period, manifests written since marking began, tags, remaining links); every removal goes
through the metadata index's ``change`` record and is forgotten by the blob descriptor
cache (whose generation counter empties the other workers' in-process caches, or Redis)
and by this process's manifest content cache; and ``after_run`` hooks (storage usage)
are called with the finished report. The safety argument is in docs/garbage-collection.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable

from pyregistry.config.duration import format_duration
from pyregistry.config.model import Config
from pyregistry.gc.collector import CollectOptions, collect
from pyregistry.gc.guard import CLOCK_SKEW_SECONDS, Guard
from pyregistry.gc.report import Report
from pyregistry.gc.settings import GCSettings, gc_settings
from pyregistry.gc.sweep import Sweeper
from pyregistry.storage import Digest, Registry
from pyregistry.storage.manifest_format import OCI_MANIFEST, infer_media_type
from pyregistry.storage.removal import read_manifest, restore_link
from pyregistry.tasks.scheduler import Job, JobRun, Scheduler
from pyregistry.usage.gauges import refresh as refresh_usage

log = logging.getLogger("pyregistry.gc")

JOB_NAME = "garbage-collect"

AfterRun = Callable[[Report], Awaitable[None]]
#: Between the link sweep and the repair's re-read (at most the grace period): a manifest
#: PUT that checked its blobs before a link went must commit within this to be repaired.
REPAIR_PAUSE_SECONDS = 2.0


class OnlineCollector:
    """Collects ``registry``'s storage every interval, spared by a :class:`Guard`."""

    def __init__(self, registry: Registry, settings: GCSettings) -> None:
        self.registry = registry
        self.settings = settings
        self.after_run: list[AfterRun] = []
        #: Clock disagreement allowed between hosts and storage timestamps (see Guard).
        self.clock_skew = CLOCK_SKEW_SECONDS
        self.runs = 0
        self.last: Report | None = None
        #: Objects the guard spared in the last run, by kind.
        self.spared: dict[str, int] = {}

    @classmethod
    def from_config(cls, registry: Registry, config: Config) -> OnlineCollector | None:
        """The collector the config asks for; None when off or the registry is read-only."""
        settings = gc_settings(config)
        if not settings.enabled or config.storage.readonly or registry.readonly:
            return None
        collector = cls(registry, settings)
        if config.http.debug.prometheus_enabled:
            collector.after_run.append(collector.refresh_usage)
        return collector

    async def refresh_usage(self, report: Report) -> None:
        """Measure storage usage for the debug server's gauges (after a run)."""
        await refresh_usage(self.registry.driver)

    async def _cache_problem(self) -> str | None:
        """Why the shared blob descriptor cache cannot forget now (None: it can)."""
        check = getattr(self.registry.blob_descriptor_cache, "check", None)
        if check is None:
            return None
        try:
            await check()
        except Exception as exc:  # noqa: BLE001 - any storage failure: reported, the collector goes on
            return str(exc)
        return None

    async def collect_once(self) -> Report:
        """One mark and guarded sweep; problems are in the report, never raised."""
        settings = self.settings
        problem = None if settings.dry_run else await self._cache_problem()
        if problem is not None:
            report = Report(dry_run=settings.dry_run)
            report.fail(f"blob descriptor cache unreachable ({problem}); nothing was deleted")
            report.finish()
        else:
            registry = self.registry
            guard = Guard(
                registry.driver,
                grace=settings.grace_seconds,
                started=time.time(),
                delete_untagged=settings.delete_untagged,
                skew=self.clock_skew,
                list_repositories=registry.catalog,
            )
            cache = registry.blob_descriptor_cache
            index = registry.index
            report = await collect(
                registry.driver,
                CollectOptions(dry_run=settings.dry_run, delete_untagged=settings.delete_untagged),
                caches=[cache] if cache is not None else [],
                spare=guard.spare,
                change=index.change if index is not None else None,
                forget=registry.forget_content,
                before_blobs=lambda sweeper: self._repair(guard, sweeper),
            )
            self.spared = dict(guard.spared)
        self.runs += 1
        self.last = report
        self._log(report)
        for hook in self.after_run:
            try:
                await hook(report)
            except Exception:
                log.exception("a hook after garbage collection failed")
        return report

    async def _repair(self, guard: Guard, sweeper: Sweeper) -> None:
        """Put back removed links that a manifest committed meanwhile needs.

        A manifest PUT checks its blobs, then commits its revision; one whose check came
        just before a link's removal and whose commit came after the guard's last look
        would name a blob its repository no longer links. After a pause, every
        repository that lost links is listed again; whatever a manifest written since
        marking began (or within the grace period) references is linked again, before
        any blob data is removed.
        """
        removed = [(kind, repo, digest) for kind, repo, digest in sweeper.removed if repo]
        if not removed or self.settings.dry_run:
            return
        await asyncio.sleep(min(REPAIR_PAUSE_SECONDS, self.settings.grace_seconds))
        guard.expire()
        for kind, repository, digest in removed:
            assert repository is not None
            if digest not in await guard.late(repository):
                continue
            try:
                if kind == "manifest":
                    await self._restore_manifest(repository, digest)
                else:
                    await restore_link(self.registry.driver, kind, repository, digest)
            except Exception as exc:  # noqa: BLE001 - any storage failure: reported, the collector goes on
                sweeper.report.fail(f"cannot restore {kind} {repository}@{digest}: {exc}")
                continue
            sweeper.report.warn(f"restored {kind} {repository}@{digest}: pushed meanwhile")

    async def _restore_manifest(self, repository: str, digest: Digest) -> None:
        content = await read_manifest(self.registry.driver, digest)
        document = json.loads(content) if content else {}
        media_type = infer_media_type(document) if isinstance(document, dict) else None
        index = self.registry.index
        if index is None:
            await restore_link(self.registry.driver, "manifest", repository, digest)
            return
        async with index.change(repository) as change:
            await restore_link(self.registry.driver, "manifest", repository, digest)
            change.manifest_stored(digest, media_type or OCI_MANIFEST, len(content or b""))

    def _log(self, report: Report) -> None:
        spared = ", ".join(f"{n} {kind}s" for kind, n in self.spared.items() if n)
        summary = report.summary().replace("\n", "; ")
        log.info(f"garbage collection: {summary}" + (f"; spared {spared}" if spared else ""))
        for warning in report.warnings:
            log.warning(f"garbage collection: {warning}")
        for error in report.errors:
            log.error(f"garbage collection: {error}")

    async def _run(self, run: JobRun) -> None:
        await self.collect_once()

    def register(self, scheduler: Scheduler) -> Job:
        """Run every interval on the scheduler (first after one interval)."""
        interval = self.settings.interval_seconds
        log.info(
            f"online garbage collection every {format_duration(interval)}, grace "
            f"{format_duration(self.settings.grace_seconds)}"
            + (", dry run" if self.settings.dry_run else "")
        )
        return scheduler.every(JOB_NAME, interval, self._run, jitter=min(interval / 10, 60.0))
