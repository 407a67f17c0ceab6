"""``storage.maintenance.uploadpurging``: abandoned upload sessions are removed in the
background, as distribution does.

A client that dies mid-push leaves its session's bytes behind for good; every
``interval`` the purger removes the sessions started more than ``age`` ago (``dryrun``
only counts them). Like distribution, the first run waits a random jitter (up to an hour,
never more than one interval) so that replicas started together do not all walk the
storage at once, and a read-only registry never purges. It is a job of the scheduler
(:mod:`pyregistry.tasks.scheduler`), so of all instances on one storage only the lease
holder walks it.
"""

from __future__ import annotations

import logging
import random

from pyregistry.clock import when_in_words
from pyregistry.config.duration import format_duration
from pyregistry.config.model import StorageConfig
from pyregistry.storage.interfaces import Namespace
from pyregistry.tasks.scheduler import Job, JobRun, Scheduler

log = logging.getLogger("pyregistry.maintenance")

MAX_JITTER_SECONDS = 3600.0
#: Never spin: an interval below this is taken as this.
MIN_INTERVAL_SECONDS = 0.01
JOB_NAME = "upload-purge"


class UploadPurger:
    """The job purging old upload sessions of ``registry``."""

    def __init__(
        self,
        registry: Namespace,
        *,
        age_seconds: float,
        interval_seconds: float,
        dry_run: bool = False,
        jitter_seconds: float | None = None,
    ) -> None:
        self.registry = registry
        self.age = age_seconds
        self.interval = max(interval_seconds, MIN_INTERVAL_SECONDS)
        self.dry_run = dry_run
        self.jitter = (
            random.uniform(0, min(MAX_JITTER_SECONDS, self.interval))
            if jitter_seconds is None
            else jitter_seconds
        )
        #: Sessions removed (or, in a dry run, found) so far.
        self.purged = 0
        self.runs = 0

    @classmethod
    def from_config(cls, registry: Namespace, storage: StorageConfig) -> UploadPurger | None:
        """The purger the config asks for; None when purging is off or storage read-only."""
        if not storage.uploadpurging_enabled or storage.readonly or registry.readonly:
            return None
        return cls(
            registry,
            age_seconds=storage.uploadpurging_age_seconds,
            interval_seconds=storage.uploadpurging_interval_seconds,
            dry_run=storage.uploadpurging_dryrun,
        )

    async def purge_once(self) -> int:
        """One pass; a storage failure is logged and the next pass tries again."""
        try:
            count = await self.registry.purge_uploads(self.age, dry_run=self.dry_run)
        except Exception:
            log.exception("upload purging failed")
            return 0
        self.runs += 1
        self.purged += count
        if count:
            verb = "would remove" if self.dry_run else "removed"
            log.info(
                f"upload purging {verb} {count} session(s) older than {format_duration(self.age)}"
            )
        return count

    async def _run(self, run: JobRun) -> None:
        await self.purge_once()

    def register(self, scheduler: Scheduler) -> Job:
        """Run every interval on the scheduler, first after the jitter."""
        log.info(f"first upload purge at {when_in_words(self.jitter)}")
        return scheduler.every(JOB_NAME, self.interval, self._run, first_delay=self.jitter)
