"""``storage.maintenance.retention.enabled``: apply the policies every interval.

A scheduler job (one instance of the cluster at a time, like garbage collection). What
it untags or deletes is reclaimed by the next garbage collection.
"""

from __future__ import annotations

import logging

from pyregistry.config.duration import format_duration
from pyregistry.config.model import Config
from pyregistry.retention.apply import RetentionResult, run_retention
from pyregistry.retention.policy import RetentionSettings, retention_settings
from pyregistry.storage import Registry
from pyregistry.tasks.scheduler import Job, JobRun, Scheduler

log = logging.getLogger("pyregistry.retention")

JOB_NAME = "retention"


class RetentionJob:
    def __init__(self, registry: Registry, settings: RetentionSettings) -> None:
        self.registry = registry
        self.settings = settings
        self.last: RetentionResult | None = None

    @classmethod
    def from_config(cls, registry: Registry, config: Config) -> RetentionJob | None:
        settings = retention_settings(config)
        if not settings.enabled or not settings.policies or registry.readonly:
            return None
        if not settings.dry_run and not registry.delete_enabled:
            log.warning("retention is enabled but storage.delete.enabled is not: not applied")
            return None
        return cls(registry, settings)

    async def run_once(self) -> RetentionResult:
        result = await run_retention(
            self.registry,
            self.settings,
            dry_run=self.settings.dry_run,
            say=log.info if self.settings.dry_run else None,
        )
        self.last = result
        log.info(
            f"retention: {result.tags_removed} tags removed, {result.manifests_deleted} "
            f"manifests deleted, {result.skipped} pushed again meanwhile, "
            f"{len(result.errors)} errors"
        )
        return result

    async def _run(self, run: JobRun) -> None:
        await self.run_once()

    def register(self, scheduler: Scheduler) -> Job:
        interval = self.settings.interval_seconds
        log.info(f"retention policies applied every {format_duration(interval)}")
        return scheduler.every(JOB_NAME, interval, self._run, jitter=min(interval / 10, 60.0))
