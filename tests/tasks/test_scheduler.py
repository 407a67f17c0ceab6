"""The scheduler in one process: intervals, failures, graceful stop, lost leases, and
two schedulers sharing one storage taking turns (the cross-process version is in
``test_two_instances.py``)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import pytest

from pyregistry.storage import paths
from pyregistry.tasks.leases import LeaseFactory
from pyregistry.tasks.scheduler import JobRun, Scheduler
from pyregistry.tasks.storage_lease import LeaseRecord
from storage_drivers.inmemory import InMemoryDriver
from tests.storage.helpers import RecordingDriver

SETTLE = 0.05


def factory(driver: InMemoryDriver) -> LeaseFactory:
    return LeaseFactory(driver, settle=SETTLE)


async def wait_until(condition: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_a_failing_job_is_logged_and_retried(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    async def flaky(run: JobRun) -> None:
        calls.append(run.fence)
        if len(calls) <= 2:
            raise RuntimeError("storage hiccup")

    scheduler = Scheduler(factory(InMemoryDriver()))
    job = scheduler.every("flaky", 0.05, flaky, first_delay=0, lease_ttl=3)
    with caplog.at_level(logging.ERROR, logger="pyregistry.tasks"):
        await scheduler.start()
        await wait_until(lambda: job.runs >= 2)
        await scheduler.stop()
    assert job.failures == 2
    assert "job flaky failed" in caplog.text and "storage hiccup" in caplog.text
    assert calls[0] >= 1, "a once-per-cluster run knows its lease's fence"


async def test_two_schedulers_on_one_storage_take_turns_never_overlap() -> None:
    driver = InMemoryDriver()
    spans: list[tuple[str, float, float]] = []

    def job(owner: str) -> Callable[[JobRun], Awaitable[None]]:
        async def run(_: JobRun) -> None:
            start = time.monotonic()
            await asyncio.sleep(0.05)
            spans.append((owner, start, time.monotonic()))

        return run

    schedulers = [Scheduler(factory(driver)) for _ in range(2)]
    for name, scheduler in zip("ab", schedulers, strict=True):
        scheduler.every("shared", 0.02, job(name), first_delay=0, lease_ttl=0.6)
        await scheduler.start()
    await wait_until(lambda: len(spans) >= 10)
    await schedulers[0].stop()  # a graceful stop hands the job over at once
    handed_over = len(spans)
    await wait_until(lambda: any(owner == "b" for owner, *_ in spans[handed_over:]), within=5)
    await schedulers[1].stop()
    spans.sort(key=lambda s: s[1])
    for before, after in zip(spans, spans[1:], strict=False):
        assert after[1] >= before[2], f"runs overlapped: {before} and {after}"


async def test_stop_lets_the_running_job_finish_and_releases_its_lease() -> None:
    driver = InMemoryDriver()
    finished: list[bool] = []
    started = asyncio.Event()

    async def slow(_: JobRun) -> None:
        started.set()
        await asyncio.sleep(0.3)
        finished.append(True)

    scheduler = Scheduler(factory(driver))
    scheduler.every("slow", 60, slow, first_delay=0, lease_ttl=30)
    await scheduler.start()
    await asyncio.wait_for(started.wait(), 10)
    await scheduler.stop()
    assert finished == [True]
    heir = factory(driver).job("slow", 30)
    assert await heir.acquire(), "the stopped scheduler kept its lease"


async def test_a_run_whose_lease_is_taken_is_cancelled(caplog: pytest.LogCaptureFixture) -> None:
    driver = InMemoryDriver()
    cancelled = asyncio.Event()
    running = asyncio.Event()

    async def long(_: JobRun) -> None:
        running.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    scheduler = Scheduler(factory(driver))
    job = scheduler.every("long", 60, long, first_delay=0, lease_ttl=0.6)
    await scheduler.start()
    await asyncio.wait_for(running.wait(), 10)
    usurper = LeaseRecord("someone-else", 99, time.time() + 60, "elsewhere")
    await driver.put_content(paths.lease_path("long"), usurper.encode())
    with caplog.at_level(logging.WARNING, logger="pyregistry.tasks"):
        await asyncio.wait_for(cancelled.wait(), 5)
        await wait_until(lambda: job.failures == 1)
    await scheduler.stop()
    assert "lost" in caplog.text


async def test_a_job_that_is_not_once_per_cluster_runs_everywhere() -> None:
    driver = InMemoryDriver()
    counts = {"a": 0, "b": 0}

    def count(owner: str) -> Callable[[JobRun], Awaitable[None]]:
        async def run(_: JobRun) -> None:
            counts[owner] += 1

        return run

    schedulers = [Scheduler(factory(driver)) for _ in range(2)]
    for owner, scheduler in zip("ab", schedulers, strict=True):
        scheduler.every("local", 0.02, count(owner), first_delay=0, once_per_cluster=False)
        await scheduler.start()
    await wait_until(lambda: min(counts.values()) >= 3)
    for scheduler in schedulers:
        await scheduler.stop()


def test_job_names_are_unique() -> None:
    scheduler = Scheduler(None)

    async def nothing(_: JobRun) -> None:
        return None

    scheduler.every("once", 1, nothing)
    with pytest.raises(ValueError, match="already registered"):
        scheduler.every("once", 1, nothing)


async def test_an_instance_without_the_lease_polls_for_it_gently() -> None:
    """While another holds the lease, a due job costs one read per ``ttl / 3``."""
    driver = RecordingDriver(InMemoryDriver())
    holder = LeaseRecord("another-instance", 1, time.time() + 60, "elsewhere")
    await driver.put_content(paths.lease_path("polled"), holder.encode())
    ran: list[int] = []

    async def never(run: JobRun) -> None:
        ran.append(run.fence)

    scheduler = Scheduler(LeaseFactory(driver, settle=SETTLE))
    scheduler.every("polled", 0.01, never, first_delay=0, lease_ttl=0.6)
    driver.calls.clear()
    await scheduler.start()
    await asyncio.sleep(1.0)
    await scheduler.stop()
    assert ran == []
    reads = [c for c in driver.calls if c[0] == "get_content"]
    assert 2 <= len(reads) <= 10, f"{len(reads)} reads of the lease in one second"
    assert not [c for c in driver.calls if c[0] == "put_content"]
