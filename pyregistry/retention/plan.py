"""What retention removes from one repository, and why (nothing is changed here).

Push times come from storage, so they survive restarts and are the same on every
instance: a tag's time is when its ``current/link`` was last written (pushing the tag
again renews it), an untagged manifest's is when its revision link was last written.
Tags are ranked newest first (ties by name). Untagged manifests that a kept tag reaches,
as an index child or as a referrer of something kept, are never removed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from pyregistry.gc.mark import reachable, read_revisions
from pyregistry.gc.report import Report
from pyregistry.retention.policy import RetentionPolicy
from pyregistry.storage import Digest, Registry
from pyregistry.storage import enumerate as stored


def format_age(seconds: float) -> str:
    """``10d4h``, ``3h12m``, ``42s``: ages and limits as an operator reads them."""
    seconds = max(int(seconds), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


@dataclass(frozen=True)
class Removal:
    """A tag to untag (``tag`` set) or an untagged manifest to delete."""

    digest: Digest
    pushed_at: float
    reason: str
    tag: str | None = None


@dataclass
class RepositoryPlan:
    repository: str
    tags_total: int = 0
    untagged_total: int = 0
    removals: list[Removal] = field(default_factory=list)

    @property
    def tags(self) -> list[Removal]:
        return [r for r in self.removals if r.tag is not None]

    @property
    def manifests(self) -> list[Removal]:
        return [r for r in self.removals if r.tag is None]


def _tag_reason(policy: RetentionPolicy, rank: int, age: float) -> str:
    why = []
    if policy.keep_tags is not None:
        why.append(f"not among the {policy.keep_tags} most recently pushed (#{rank + 1})")
    if policy.keep_patterns:
        why.append("matches no keep pattern")
    if policy.keep_within_seconds is not None:
        why.append(f"pushed {format_age(age)} ago, over {format_age(policy.keep_within_seconds)}")
    return "; ".join(why)


def _keeps(policy: RetentionPolicy, tag: str, rank: int, age: float) -> bool:
    if not policy.has_tag_rules:
        return True
    if policy.keep_tags is not None and rank < policy.keep_tags:
        return True
    if any(pattern.fullmatch(tag) for pattern in policy.keep_patterns):
        return True
    return policy.keep_within_seconds is not None and age <= policy.keep_within_seconds


async def plan_repository(
    registry: Registry, repository: str, policy: RetentionPolicy, now: float | None = None
) -> RepositoryPlan:
    now = time.time() if now is None else now
    driver = registry.driver
    plan = RepositoryPlan(repository)
    tags = registry.repository(repository).tags
    described = []
    async for entry in stored.tags(driver, repository):
        info = await tags.describe(entry.tag)
        if info is not None:
            described.append(info)
    described.sort(key=lambda info: (-info.pushed_at.timestamp(), info.tag))
    plan.tags_total = len(described)
    kept_roots: list[Digest] = []
    for rank, info in enumerate(described):
        pushed = info.pushed_at.timestamp()
        if _keeps(policy, info.tag, rank, now - pushed):
            kept_roots.append(info.digest)
        else:
            reason = _tag_reason(policy, rank, now - pushed)
            plan.removals.append(Removal(info.digest, pushed, reason, info.tag))
    revisions = await read_revisions(driver, repository, Report())
    kept = reachable(kept_roots, revisions)
    untagged = [
        revision
        async for revision in stored.manifest_revisions(driver, repository, read_targets=False)
        if revision.digest not in kept
    ]
    plan.untagged_total = len(untagged)
    limit = policy.untagged_older_than_seconds
    if limit is not None:
        for revision in sorted(untagged, key=lambda e: e.modified):
            age = now - revision.modified
            if age > limit:
                reason = f"untagged, pushed {format_age(age)} ago, over {format_age(limit)}"
                plan.removals.append(Removal(revision.digest, revision.modified, reason))
    return plan
