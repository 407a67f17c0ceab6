"""A full sync: compare the source with the destination and copy only what is missing;
what pull policies do on their interval, and any policy on ``replication run``.

Every repository and tag the policy takes is compared by digest (a HEAD on each side);
a tag that differs is copied, with whatever of its content the destination lacks. With
``deletes``, what the source no longer has is deleted at the destination: the tags and
repositories seen at the source by the previous sync are kept in storage, so a deleted
tag, and a whole deleted repository, are noticed, and nothing the destination had of its
own is ever touched.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from pyregistry.replication.copier import Copier
from pyregistry.replication.policy import Policy
from pyregistry.replication.queue import ROOT
from pyregistry.replication.tally import Tally
from storage_drivers.base import StorageDriver
from storage_drivers.errors import PathNotFound

log = logging.getLogger("pyregistry.replication")

STATE_ROOT = f"{ROOT}/seen"


class SeenState:
    """``{source repository: {tag: digest}}`` as the last sync found it."""

    def __init__(self, driver: StorageDriver, policy: str) -> None:
        self.driver = driver
        self.path = f"{STATE_ROOT}/{policy}"

    async def load(self) -> dict[str, dict[str, str]]:
        try:
            value: Any = json.loads(await self.driver.get_content(self.path))
        except (PathNotFound, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    async def save(self, seen: dict[str, dict[str, str]]) -> None:
        await self.driver.put_content(self.path, json.dumps(seen, sort_keys=True).encode())


async def full_sync(
    policy: Policy, copier: Copier, state: SeenState, *, concurrency: int = 4
) -> Tally:
    source, destination, tally = copier.source, copier.destination, copier.tally
    previous = await state.load()
    seen: dict[str, dict[str, str]] = {}
    gate = asyncio.Semaphore(max(concurrency, 1))

    async def one_tag(repository: str, target_repo: str, tag: str) -> None:
        async with gate:
            try:
                digest = await source.manifest_digest(repository, tag)
                if digest is None:
                    return
                seen[repository][tag] = digest
                if await destination.manifest_digest(target_repo, tag) == digest:
                    tally.skip()
                    return
                await copier.copy(repository, target_repo, tag, [tag])
            except Exception as exc:  # noqa: BLE001 - one tag failing must not stop the rest
                log.warning(f"replication {policy.name}: {repository}:{tag}: {exc}")
                tally.fail(f"{repository}:{tag}: {exc}")

    jobs = []
    for repository in await source.repositories():
        if not policy.wants_repository(repository):
            continue
        seen[repository] = {}
        target_repo = policy.naming.destination(repository)
        for tag in await source.tags(repository):
            if policy.wants_tag(tag):
                jobs.append(one_tag(repository, target_repo, tag))
    await asyncio.gather(*jobs)
    if policy.settings.deletes:
        await _deletes(policy, copier, previous, seen)
    await state.save(seen)
    return tally


async def _deletes(
    policy: Policy,
    copier: Copier,
    previous: dict[str, dict[str, str]],
    seen: dict[str, dict[str, str]],
) -> None:
    """Delete at the destination what the source had at the last sync and has no more."""
    for repository, tags in previous.items():
        if not policy.wants_repository(repository):
            continue
        now = seen.get(repository, {})
        kept = set(now.values())
        target_repo = policy.naming.destination(repository)
        for tag, digest in tags.items():
            if tag in now:
                continue
            try:
                if digest in kept:
                    await copier.delete(target_repo, tag)
                    continue
                current = await copier.destination.manifest_digest(target_repo, tag)
                if current == digest:  # not re-pointed at the destination meanwhile
                    await copier.delete(target_repo, digest)
            except Exception as exc:  # noqa: BLE001 - one tag failing must not stop the rest
                log.warning(f"replication {policy.name}: delete {repository}:{tag}: {exc}")
                copier.tally.fail(f"delete {repository}:{tag}: {exc}")
