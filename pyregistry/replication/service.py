"""Replication of one registry process: the targets' clients, the push queues, the
workers and the sync runs, and their registration with the scheduler.

Built by :func:`pyregistry.replication.build_replication` from the config; the app plugs
:attr:`sink` into the namespace wrapper, calls :meth:`attach` with the namespace the API
writes through, and :meth:`register` with its scheduler. Each event-driven policy is a
job draining its queue every ``queue.poll`` (and at once when a local change is queued
in this process); each interval policy a job running a full sync. Jobs hold a lease, so
one instance of those sharing the storage does each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from pyregistry.client import AsyncRegistryClient
from pyregistry.client.transport import sending_headers
from pyregistry.config.sections.replication import ReplicationSection
from pyregistry.debug import expvar
from pyregistry.events import acting_as
from pyregistry.replication.copier import BlobLocations, Copier
from pyregistry.replication.endpoint import Endpoint
from pyregistry.replication.local import LocalEndpoint
from pyregistry.replication.origin import extended, replicating_caller, user_agent
from pyregistry.replication.policy import Policy, compile_policies
from pyregistry.replication.push import PushWorker
from pyregistry.replication.queue import ChangeQueue
from pyregistry.replication.records import Execution, ExecutionRecords
from pyregistry.replication.remote import RemoteEndpoint, client_for
from pyregistry.replication.sessions import UploadSessions
from pyregistry.replication.sink import ReplicationSink
from pyregistry.replication.sync import SeenState, full_sync
from pyregistry.replication.tally import Tally
from pyregistry.replication.view import VARS_NAME
from pyregistry.storage.interfaces import Namespace
from pyregistry.tasks.scheduler import JobRun, Scheduler
from storage_drivers.base import StorageDriver

log = logging.getLogger("pyregistry.replication")

#: The longest between two sweeps of a target's stale upload session records.
SWEEP_EVERY = 600.0


class ReplicationService:
    def __init__(
        self,
        settings: ReplicationSection,
        registry: Namespace,
        driver: StorageDriver,
        *,
        source: str = "<config>",
    ) -> None:
        self.settings = settings
        self.own_id = settings.id
        self.policies = compile_policies(settings, source)
        self.driver = driver
        self.local = LocalEndpoint(registry)
        self.records = ExecutionRecords(driver, settings.history)
        self.queues = {p.name: ChangeQueue(driver, p.name) for p in self.policies}
        self.sink = ReplicationSink(
            self.own_id, [(p, self.queues[p.name]) for p in self.policies], wake=self._wake
        )
        self._clients: dict[str, AsyncRegistryClient] = {}
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._locations: dict[str, BlobLocations] = {}
        self._workers: dict[str, PushWorker] = {}
        self._wakeups: dict[str, asyncio.Event] = {}
        self._next_sweep: dict[str, float] = {}
        self.last: dict[str, dict[str, Any]] = {}

    def attach(self, namespace: Namespace) -> None:
        """Write pulled content through ``namespace`` (the one the API uses)."""
        self.local.writer = namespace

    def policy(self, name: str) -> Policy:
        for policy in self.policies:
            if policy.name == name:
                return policy
        raise KeyError(name)

    def remote(self, policy: Policy) -> RemoteEndpoint:
        target = policy.target
        client = self._clients.get(target.name)
        if client is None:
            client = self._clients[target.name] = client_for(target)
            self._limits[target.name] = asyncio.Semaphore(max(target.concurrency, 1))
            self._locations[target.name] = BlobLocations()
        return RemoteEndpoint(target, client, UploadSessions(self.driver, target.name))

    def _ends(self, policy: Policy) -> tuple[Endpoint, Endpoint]:
        remote = self.remote(policy)
        return (self.local, remote) if policy.push else (remote, self.local)

    def worker(self, policy: Policy) -> PushWorker:
        worker = self._workers.get(policy.name)
        if worker is None:
            source, destination = self._ends(policy)
            worker = self._workers[policy.name] = PushWorker(
                policy,
                self.queues[policy.name],
                source,
                destination,
                limit=self._limits[policy.target.name],
                locations=self._locations[policy.target.name],
                records=self.records,
            )
        return worker

    @contextlib.contextmanager
    def _origin(self, policy: Policy) -> Any:
        """Pulls act as a caller from the target; pushes name this registry as origin."""
        if policy.push:
            with sending_headers({"User-Agent": user_agent(extended([], self.own_id))}):
                yield
        else:
            with acting_as(replicating_caller([policy.target.registry_id])):
                yield

    async def run(self, name: str, trigger: str = "manual") -> Execution:
        """One full sync of policy ``name`` (compare, copy what is missing, deletes)."""
        policy = self.policy(name)
        source, destination = self._ends(policy)
        async with self.records.running(Execution(policy.name, trigger), self.settings.lease) as e:
            await self._sync(policy, source, destination, e)
        self.last[policy.name] = {"execution": e.id, "status": e.status}
        return e

    async def _sync(
        self, policy: Policy, source: Endpoint, destination: Endpoint, execution: Execution
    ) -> None:
        copier = Copier(
            source,
            destination,
            tally := Tally(policy.name),
            limit=self._limits[policy.target.name],
            locations=self._locations[policy.target.name],
            referrers=policy.settings.referrers,
        )
        try:
            with self._origin(policy):
                await full_sync(
                    policy,
                    copier,
                    SeenState(self.driver, policy.name),
                    concurrency=policy.target.concurrency,
                )
        except Exception as exc:
            log.exception(f"replication {policy.name}: the run failed")
            tally.fail(exc)
        execution.finish(tally)
        await self.records.save(execution)

    async def drain(self, name: str) -> None:
        policy = self.policy(name)
        await self.sweep_sessions(policy)
        await self.worker(policy).drain()

    async def sweep_sessions(self, policy: Policy) -> int:
        """Now and then, remove the target's upload session records that made no
        progress for ``queue.stalesessions`` (left by a dead process, a stopped sync)."""
        target, now = policy.target.name, time.monotonic()
        if not policy.push or now < self._next_sweep.get(target, 0.0):
            return 0
        stale = self.settings.stale_sessions
        self._next_sweep[target] = now + min(max(stale / 2, 0.1), SWEEP_EVERY)
        removed = await UploadSessions(self.driver, target).sweep(stale)
        if removed:
            log.info(f"replication {policy.name}: removed {removed} stale upload session records")
        return removed

    def _wake(self, name: str) -> None:
        event = self._wakeups.get(name)
        if event is not None:
            event.set()

    def register(self, scheduler: Scheduler) -> None:
        for policy in self.policies:
            if policy.on_event:
                scheduler.every(
                    f"replication-push-{policy.name}",
                    0.0,
                    self._push_job(policy),
                    first_delay=0.0,
                    lease_ttl=self.settings.lease,
                )
            if policy.on_interval:
                scheduler.every(
                    f"replication-sync-{policy.name}",
                    policy.settings.interval,
                    self._sync_job(policy),
                    first_delay=0.0,
                    lease_ttl=self.settings.lease,
                )

    def _push_job(self, policy: Policy) -> Any:
        async def run(job: JobRun) -> None:
            event = self._wakeups.setdefault(policy.name, asyncio.Event())
            event.clear()
            await self.drain(policy.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), self.settings.poll)

        return run

    def _sync_job(self, policy: Policy) -> Any:
        async def run(job: JobRun) -> None:
            await self.sweep_sessions(policy)
            await self.run(policy.name, "interval")

        return run

    async def status(self) -> dict[str, Any]:
        """Per policy: the pending changes, the lag, and the last executions."""
        out: dict[str, Any] = {"id": self.own_id, "policies": {}}
        for policy in self.policies:
            count, oldest = await self.queues[policy.name].pending()
            worker = self._workers.get(policy.name)
            out["policies"][policy.name] = {
                "direction": policy.settings.direction,
                "target": policy.target.name,
                "url": policy.target.url,
                "pending": count,
                "lag_seconds": round(time.time() - oldest, 3) if oldest else 0.0,
                "last_error": worker.last_error if worker else "",
                "executions": await self.records.load(policy.name),
            }
        return out

    def snapshot(self) -> dict[str, Any]:
        """What this process knows now, without touching storage (``/debug/vars``)."""
        policies: dict[str, Any] = {}
        for policy in self.policies:
            worker = self._workers.get(policy.name)
            count, oldest = worker.pending if worker else (0, None)
            policies[policy.name] = {
                "direction": policy.settings.direction,
                "target": policy.target.name,
                "pending": count,
                "lag_seconds": round(time.time() - oldest, 3) if oldest else 0.0,
                "last_error": worker.last_error if worker else "",
                "executions": self.records.cached.get(policy.name, [])[:5],
            }
        return {"id": self.own_id, "loops_cut": self.sink.loops_cut, "policies": policies}

    async def aclose(self) -> None:
        expvar.unpublish(VARS_NAME)  # what build_replication published for this process
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()
