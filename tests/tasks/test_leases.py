"""The lease contract, on every backend: one holder at a time, renewal, release, and a
dead holder replaced (after expiry; at once for an ``flock``, which dies with it)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from pyregistry.storage import paths
from pyregistry.tasks.flock_lease import FlockLease, LeaseTargetMissing
from pyregistry.tasks.lease import renewing
from pyregistry.tasks.storage_lease import LeaseRecord, StorageLease
from storage_drivers.filesystem import FilesystemDriver
from tests.tasks.conftest import SETTLE, TTL, MakeLease


async def test_one_holder_at_a_time(make_lease: MakeLease) -> None:
    first, second = await make_lease("one"), await make_lease("one")
    assert await first.acquire() and first.held
    assert not await second.acquire() and not second.held
    assert await first.renew()
    assert not await second.acquire()
    await first.release()
    assert not first.held
    assert await second.acquire()
    assert second.fence >= first.fence
    await second.release()


async def test_leases_of_different_names_are_independent(make_lease: MakeLease) -> None:
    one, other = await make_lease("alpha"), await make_lease("beta")
    assert await one.acquire() and await other.acquire()
    await one.release()
    await other.release()


async def test_racing_claimants_never_both_win(make_lease: MakeLease) -> None:
    for _ in range(3):
        claimants = [await make_lease("raced") for _ in range(6)]
        won = await asyncio.gather(*(c.acquire() for c in claimants))
        assert sum(won) <= 1, f"{sum(won)} holders at once"
        for claimant in claimants:
            await claimant.release()


async def test_renewing_keeps_a_lease_past_its_expiry(make_lease: MakeLease) -> None:
    holder, rival = await make_lease("kept"), await make_lease("kept")
    assert await holder.acquire()
    async with renewing(holder):
        await asyncio.sleep(TTL * 1.5)
        assert not await rival.acquire()
    assert not holder.held
    assert await rival.acquire()
    await rival.release()


async def test_a_holder_cancelled_by_its_caller_still_releases(make_lease: MakeLease) -> None:
    """anyio cancels a scope at every await inside it (Starlette's request scope when a
    client hangs up): the release in ``renewing``'s cleanup must still happen, or the next
    holder waits for the expiry."""
    holder, rival = await make_lease("cancelled"), await make_lease("cancelled")
    assert await holder.acquire()
    inside = asyncio.Event()

    async def hold() -> None:
        with anyio.CancelScope() as scope:
            scopes.append(scope)
            async with renewing(holder):
                inside.set()
                await asyncio.sleep(30)

    scopes: list[anyio.CancelScope] = []
    task = asyncio.create_task(hold())
    await inside.wait()
    scopes[0].cancel()
    await asyncio.wait_for(task, TTL)
    for _ in range(20):  # released at once, not after the expiry
        if await rival.acquire():
            break
        await asyncio.sleep(0.01)
    assert rival.held, "the cancelled holder never released its lease"
    await rival.release()


@pytest.mark.parametrize("make_lease", ["filesystem", "s3", "redis"], indirect=True)
async def test_a_dead_holder_is_replaced_after_expiry(make_lease: MakeLease) -> None:
    dead, heir = await make_lease("heir"), await make_lease("heir")
    assert await dead.acquire()  # ... and never renews nor releases: it died
    assert not await heir.acquire()
    await asyncio.sleep(TTL + 0.2)
    assert await heir.acquire()
    assert heir.fence > dead.fence
    assert not await dead.renew(), "a holder whose lease expired must learn it lost it"
    await dead.release()
    assert await heir.renew(), "the old holder must not remove the new holder's lease"
    await heir.release()


def test_a_killed_flock_holder_frees_the_lease_at_once(tmp_path: Path) -> None:
    path = tmp_path / "job.lock"
    hold = (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        "time.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        lease = FlockLease("job", str(path))
        assert not asyncio.run(lease.acquire())
        holder.kill()
        holder.wait(10)
        assert asyncio.run(lease.acquire())
    finally:
        holder.kill()
        holder.wait(10)


async def test_an_flock_never_creates_its_directory(tmp_path: Path) -> None:
    with pytest.raises(LeaseTargetMissing):
        await FlockLease("gone", str(tmp_path / "removed-session" / "lock")).acquire()
    assert not (tmp_path / "removed-session").exists()


async def test_a_storage_lease_object_is_readable_and_outside_distributions_tree(
    tmp_path: Path,
) -> None:
    driver = FilesystemDriver(tmp_path)
    lease = StorageLease("upload-purge", driver, paths.lease_path("upload-purge"), ttl=TTL)
    lease.settle = SETTLE
    assert await lease.acquire()
    record = LeaseRecord.decode((tmp_path / "pyregistry/leases/upload-purge").read_bytes())
    assert record is not None and record.fence == lease.fence == 1
    assert not (tmp_path / "docker").exists()
    await lease.release()
    released = LeaseRecord.decode((tmp_path / "pyregistry/leases/upload-purge").read_bytes())
    assert released is not None and released.expires == 0 and released.fence == 1
    await driver.close()


async def test_a_garbled_lease_object_counts_as_free(tmp_path: Path) -> None:
    driver = FilesystemDriver(tmp_path)
    await driver.put_content(paths.lease_path("garbled"), b"\x00not json")
    lease = StorageLease("garbled", driver, paths.lease_path("garbled"), ttl=TTL, settle=SETTLE)
    assert await lease.acquire()
    await lease.release()
    await driver.close()


def test_lease_names_cannot_escape() -> None:
    for bad in ("../x", "a/b", "", "A", "x\n"):
        with pytest.raises(ValueError, match="invalid lease name"):
            paths.lease_path(bad)
