"""The push worker of one event-driven policy: sends its queue to the target, in order.

It runs as a scheduler job (so one instance of the cluster drains each queue) and sends
the oldest change first; a change leaves the queue only once the target has it. Changes
of one repository go in order, several repositories side by side. When the target
cannot be reached (connection refused, 5xx, 429) the worker stops at that change and
tries again with growing waits, however long the target stays away: nothing of that
repository behind it, deletes included, overtakes it. A change the target refuses for
good (4xx) is tried ``retries`` times, then recorded as failed and dropped, so one bad
image cannot stall the queue.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

import httpx

from pyregistry.client.errors import RegistryResponseError, TooManyRequestsError
from pyregistry.client.transport import sending_headers
from pyregistry.replication import metrics
from pyregistry.replication.copier import BlobLocations, Copier
from pyregistry.replication.endpoint import Endpoint
from pyregistry.replication.origin import user_agent
from pyregistry.replication.policy import Policy
from pyregistry.replication.queue import DELETE_MANIFEST, DELETE_TAG, PUSH, ChangeQueue, Queued
from pyregistry.replication.records import Execution, ExecutionRecords
from pyregistry.replication.tally import Tally

log = logging.getLogger("pyregistry.replication")


def transient(exc: BaseException) -> bool:
    """A failure of the target or the network, not of the change: wait and retry."""
    if isinstance(exc, httpx.TransportError | OSError | asyncio.TimeoutError):
        return True
    if isinstance(exc, TooManyRequestsError):
        return True
    return isinstance(exc, RegistryResponseError) and exc.status_code >= 500


class PushWorker:
    def __init__(
        self,
        policy: Policy,
        queue: ChangeQueue,
        source: Endpoint,
        destination: Endpoint,
        *,
        limit: asyncio.Semaphore,
        locations: BlobLocations,
        records: ExecutionRecords,
    ) -> None:
        self.policy = policy
        self.queue = queue
        self.source = source
        self.destination = destination
        self.limit = limit
        self.locations = locations
        self.records = records
        self._attempts: dict[str, int] = {}
        #: uploads a change left part-way, by queue path: forgotten when it is done with
        self._unfinished: dict[str, set[tuple[str, str, int]]] = {}
        self._not_before = 0.0
        self._delay = 0.0
        self.last_error = ""
        #: the queue as last counted: (pending changes, when the oldest happened)
        self.pending: tuple[int, float | None] = (0, None)

    async def drain(self) -> Tally:
        """Send what is queued (until it is empty or the target fails)."""
        tally = Tally(self.policy.name)
        if time.monotonic() < self._not_before:
            return tally
        execution: Execution | None = None
        while batch := await self.queue.head():
            if execution is None:
                execution = Execution(self.policy.name, "event")
            if not await self._send(batch, tally):
                break
        await self.refresh_pending()
        if execution is not None and tally.changed:
            execution.finish(tally)
            await self.records.save(execution)
        return tally

    async def refresh_pending(self) -> tuple[int, float | None]:
        count, oldest = self.pending = await self.queue.pending()
        metrics.PENDING.labels(self.policy.name).set(count)
        metrics.LAG.labels(self.policy.name).set(time.time() - oldest if oldest else 0.0)
        return count, oldest

    async def _send(self, batch: list[Queued], tally: Tally) -> bool:
        """Send a batch: each repository's changes in order, repositories side by side
        (at most the target's concurrency); False when one stopped at a failure."""
        copier = Copier(
            self.source,
            self.destination,
            tally,
            limit=self.limit,
            locations=self.locations,
            referrers=self.policy.settings.referrers,
        )
        by_repository: dict[str, list[Queued]] = {}
        for item in batch:
            by_repository.setdefault(item.change.repository, []).append(item)
        gate = asyncio.Semaphore(max(self.policy.target.concurrency, 1))

        async def in_order(items: list[Queued]) -> bool:
            async with gate:
                for item in items:
                    try:
                        await self.apply(copier, item)
                    except Exception as exc:  # noqa: BLE001 - retried with backoff, reported
                        self._keep_unfinished(item, copier)
                        if not self._failed(item, exc, tally):
                            return False
                    await self.queue.remove(item.path)
                    self._attempts.pop(item.path, None)
                    await self._forget_unfinished(item)
                    tally.waited(time.time() - item.change.at)
                return True

        results = await asyncio.gather(*(in_order(items) for items in by_repository.values()))
        if all(results):
            self._delay = 0.0
        return all(results)

    def _keep_unfinished(self, item: Queued, copier: Copier) -> None:
        repository = self.policy.naming.destination(item.change.repository)
        mine = {u for u in copier.unfinished if u[0] == repository}
        copier.unfinished -= mine
        self._unfinished.setdefault(item.path, set()).update(mine)

    async def _forget_unfinished(self, item: Queued) -> None:
        """The change is sent or given up: no upload of it will be resumed."""
        for repository, digest, size in self._unfinished.pop(item.path, set()):
            await self.destination.forget_upload(repository, digest, size)

    def _failed(self, item: Queued, exc: Exception, tally: Tally) -> bool:
        """Wait before the next try (False), or give the change up (True)."""
        settings = self.policy.settings
        self.last_error = f"{item.change.repository}: {exc}"
        attempts = self._attempts.get(item.path, 0) + 1
        self._attempts[item.path] = attempts
        if not transient(exc) and attempts > settings.retries:
            log.error(f"replication {self.policy.name}: giving up on {item.change}: {exc}")
            tally.fail(self.last_error)
            return True
        self._delay = min(max(self._delay * 2, settings.backoff), settings.maxbackoff)
        self._not_before = time.monotonic() + self._delay
        tally.last_error = self.last_error
        log.warning(
            f"replication {self.policy.name}: {self.last_error}; trying again in {self._delay:g}s"
        )
        return False

    async def apply(self, copier: Copier, item: Queued) -> None:
        change = item.change
        destination_repo = self.policy.naming.destination(change.repository)
        with sending_headers({"User-Agent": user_agent(change.origin)}):
            if change.kind == PUSH:
                untagged = not change.tags
                if untagged and not await self._wanted_untagged(change.repository, change.digest):
                    return
                await copier.copy(change.repository, destination_repo, change.digest, change.tags)
            elif change.kind == DELETE_MANIFEST:
                await copier.delete(destination_repo, change.digest)
            elif change.kind == DELETE_TAG:
                for tag in change.tags:
                    await copier.delete(destination_repo, tag)

    async def _wanted_untagged(self, repository: str, digest: str) -> bool:
        """A manifest pushed by digest alone goes when the policy takes every tag, or when
        it is a referrer (its subject decides)."""
        if self.policy.tags.everything:
            return True
        manifest = await self.source.get_manifest(repository, digest)
        if manifest is None:
            return False
        document = json.loads(manifest.content)
        return isinstance(document, dict) and isinstance(document.get("subject"), dict)
