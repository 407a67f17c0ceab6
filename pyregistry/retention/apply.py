"""Carry out retention plans through the storage layer (so the index and caches follow).

Pushes go on meanwhile, so each removal is checked again right before it happens: a tag
pushed again since it was planned (another digest, or a newer time) stays, and so does a
manifest that was pushed again or that a tag points at now. Deleting needs
``storage.delete.enabled``, as API deletes do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pyregistry.retention.plan import RepositoryPlan, plan_repository
from pyregistry.retention.policy import RetentionSettings
from pyregistry.storage import Registry, paths
from pyregistry.storage import enumerate as stored
from storage_drivers.errors import PathNotFound

log = logging.getLogger("pyregistry.retention")

#: Listings and stats of one object store may round its time differently (S3: ms vs s).
TIME_SLACK_SECONDS = 1.0


@dataclass
class RetentionResult:
    plans: list[RepositoryPlan] = field(default_factory=list)
    tags_removed: int = 0
    manifests_deleted: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def describe(plan: RepositoryPlan) -> list[str]:
    """``repository: ...`` and one indented line per removal, with its reason."""
    lines = [
        f"{plan.repository}: {len(plan.tags)} of {plan.tags_total} tags and "
        f"{len(plan.manifests)} of {plan.untagged_total} manifests no kept tag reaches go"
    ]
    for r in plan.removals:
        what = f"untag {r.tag} ({r.digest})" if r.tag else f"delete {r.digest}"
        lines.append(f"  {what}, pushed {_when(r.pushed_at)}: {r.reason}")
    return lines


async def _apply(registry: Registry, plan: RepositoryPlan, result: RetentionResult) -> None:
    repo = registry.repository(plan.repository)
    for removal in plan.tags:
        assert removal.tag is not None
        info = await repo.tags.describe(removal.tag)
        if (
            info is None
            or info.digest != removal.digest
            or (info.pushed_at.timestamp() != removal.pushed_at)
        ):
            result.skipped += 1  # pushed again (or removed) since it was planned
            continue
        await repo.tags.untag(removal.tag)
        result.tags_removed += 1
    for removal in plan.manifests:
        path = paths.manifest_revision_link_path(plan.repository, removal.digest)
        try:
            modified = (await registry.driver.stat(path)).mod_time.timestamp()
        except PathNotFound:
            continue
        renewed = modified > removal.pushed_at + TIME_SLACK_SECONDS
        if renewed or await repo.tags.lookup(removal.digest):
            result.skipped += 1
            continue
        await repo.manifests.delete(removal.digest)
        result.manifests_deleted += 1


async def run_retention(
    registry: Registry,
    settings: RetentionSettings,
    *,
    dry_run: bool,
    say: Callable[[str], None] | None = None,
) -> RetentionResult:
    """Plan every repository a policy covers; apply unless ``dry_run``."""
    result = RetentionResult()
    async for repository in stored.repositories(registry.driver):
        policy = settings.policy_for(repository)
        if policy is None:
            continue
        try:
            plan = await plan_repository(registry, repository, policy)
            result.plans.append(plan)
            if say is not None:
                for line in describe(plan):
                    say(line)
            if not dry_run:
                await _apply(registry, plan, result)
        except Exception as exc:  # noqa: BLE001 - one repository failing must not stop the rest
            result.errors.append(f"{repository}: {exc}")
            log.error(f"retention of {repository} failed: {exc}")
    return result
