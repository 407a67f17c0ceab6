"""Background jobs: each runs every interval, on one instance of the cluster at a time.

Registering one is one call, ``scheduler.every(name, interval, run)``. A job that runs
once per cluster (the default) runs only while its instance holds the job's lease
(:mod:`pyregistry.tasks.leases`): the holder keeps renewing it between runs, the others
try to take it every ``lease_ttl / 3``, and when the holder dies its lease expires and
another instance takes it over, running the job at once if a run is due. A run whose
lease is lost is cancelled. A run that raises is logged and tried again at the next
interval; nothing a job does stops the scheduler. ``stop`` lets a running job finish (for
``grace`` seconds) and releases the leases, so another instance takes over at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pyregistry.tasks.lease import Lease, keep_renewing
from pyregistry.tasks.leases import LeaseFactory

log = logging.getLogger("pyregistry.tasks")

#: How long a job's lease outlives an instance that died holding it.
DEFAULT_LEASE_SECONDS = 30.0
#: Never spin: an interval below this is taken as this.
MIN_INTERVAL_SECONDS = 0.01
DEFAULT_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class JobRun:
    """What a run knows about itself: ``fence`` grows with every new lease holding."""

    job: str
    fence: int


JobFunction = Callable[[JobRun], Awaitable[object]]


@dataclass
class Job:
    """A registered job and what it has done in this process."""

    name: str
    run: JobFunction
    interval: float
    first_delay: float
    jitter: float
    once_per_cluster: bool
    lease_ttl: float
    runs: int = 0
    failures: int = 0
    lease: Lease | None = field(default=None, repr=False)
    #: When this process last took or renewed the lease (monotonic).
    confirmed_at: float = 0.0
    #: A run is in progress (shutdown lets it finish; an idle loop is cancelled at once).
    running: bool = False

    def next_delay(self) -> float:
        return self.interval + (random.uniform(0, self.jitter) if self.jitter > 0 else 0.0)


class Scheduler:
    """The jobs of one process; ``start`` and ``stop`` follow the app's lifespan."""

    def __init__(self, leases: LeaseFactory | None, *, grace: float = DEFAULT_GRACE_SECONDS):
        self.leases = leases
        self.grace = grace
        self.jobs: dict[str, Job] = {}
        self._tasks: dict[asyncio.Task[None], Job] = {}
        self._stopping: asyncio.Event | None = None

    def every(
        self,
        name: str,
        interval: float,
        run: JobFunction,
        *,
        first_delay: float | None = None,
        jitter: float = 0.0,
        once_per_cluster: bool = True,
        lease_ttl: float = DEFAULT_LEASE_SECONDS,
    ) -> Job:
        """Register ``run`` to be called every ``interval`` seconds (plus up to ``jitter``),
        first after ``first_delay`` (default: one interval)."""
        if name in self.jobs:
            raise ValueError(f"a job named {name!r} is already registered")
        interval = max(interval, MIN_INTERVAL_SECONDS)
        job = Job(
            name=name,
            run=run,
            interval=interval,
            first_delay=interval if first_delay is None else max(first_delay, 0.0),
            jitter=max(jitter, 0.0),
            once_per_cluster=once_per_cluster and self.leases is not None,
            lease_ttl=lease_ttl,
        )
        self.jobs[name] = job
        if self._stopping is not None:
            self._tasks[self._spawn(job)] = job
        return job

    def _spawn(self, job: Job) -> asyncio.Task[None]:
        return asyncio.create_task(self._loop(job), name=f"job-{job.name}")

    async def start(self) -> None:
        if self._stopping is None:
            self._stopping = asyncio.Event()
            self._tasks = {self._spawn(job): job for job in self.jobs.values()}

    async def stop(self) -> None:
        stopping, self._stopping = self._stopping, None
        if stopping is None:
            return
        stopping.set()
        tasks, self._tasks = self._tasks, {}
        # A loop that is not running its job is waiting or taking its lease (a storage
        # lease settles for about a second): nothing to finish, so it is cancelled at
        # once, and a lease record it may have left expires after its TTL.
        for task, job in tasks.items():
            if not job.running:
                task.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _sleep(self, stopping: asyncio.Event, seconds: float) -> bool:
        """Wait ``seconds``; True when the scheduler is stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=max(seconds, 0.0))
        return stopping.is_set()

    async def _loop(self, job: Job) -> None:
        stopping = self._stopping
        assert stopping is not None
        due = time.monotonic() + job.first_delay
        if job.once_per_cluster:
            assert self.leases is not None
            job.lease = self.leases.job(job.name, job.lease_ttl)
        try:
            while not stopping.is_set():
                holds = await self._hold(job)
                now = time.monotonic()
                if holds and now >= due:
                    await self._run(job)
                    due = time.monotonic() + job.next_delay()
                    continue
                if await self._sleep(stopping, self._wait(job, holds, due - now)):
                    break
        finally:
            if job.lease is not None and job.lease.held:
                await self._release(job.lease)

    @staticmethod
    def _wait(job: Job, holds: bool, until_due: float) -> float:
        """Until the next run, or the next renewal; a non-holder polls for the lease."""
        if job.lease is None:
            return until_due
        poll = job.lease.renew_interval or job.interval
        return min(until_due, poll) if holds else poll

    async def _hold(self, job: Job) -> bool:
        """Whether this instance may run ``job`` now (taking or renewing its lease)."""
        lease = job.lease
        if lease is None:
            return True
        if lease.held and time.monotonic() - job.confirmed_at < lease.renew_interval:
            return True
        try:
            held = await lease.acquire()  # renews when already held
        except Exception as exc:  # noqa: BLE001 - a lease backend failure: retried next tick
            log.warning(f"job {job.name}: lease unavailable: {exc}")
            return False
        if held:
            job.confirmed_at = time.monotonic()
        return held

    async def _run(self, job: Job) -> None:
        fence = job.lease.fence if job.lease is not None else 0
        log.debug(f"job {job.name} starting (fence {fence})")
        job.running = True
        try:
            if job.lease is not None:
                await self._run_leased(job, job.lease, JobRun(job.name, fence))
            else:
                await job.run(JobRun(job.name, fence))
        except asyncio.CancelledError:
            if self._stopping is None or self._stopping.is_set():
                raise
            job.failures += 1
            log.warning(f"job {job.name} cancelled: its lease was lost")
        except Exception:
            job.failures += 1
            log.exception(f"job {job.name} failed; it runs again in {job.interval:g}s")
        else:
            job.runs += 1
        finally:
            job.running = False

    async def _run_leased(self, job: Job, lease: Lease, run: JobRun) -> None:
        """Run in a task of its own, cancelled if a renewal finds the lease taken."""
        task = asyncio.create_task(_call(job, run), name=f"run-{job.name}")
        renewer = asyncio.create_task(keep_renewing(lease, task), name=f"lease-{job.name}")
        try:
            await task
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    @staticmethod
    async def _release(lease: Lease) -> None:
        try:
            await lease.release()
        except Exception as exc:  # noqa: BLE001 - a lease backend failure: retried next tick
            log.warning(f"could not release lease {lease.name}: {exc}")


async def _call(job: Job, run: JobRun) -> None:
    await job.run(run)
