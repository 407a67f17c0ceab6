"""The blob fetch leases a mirror takes, one backend at a time: one holder at once, and
nothing left behind per blob once released (a record or lock file per fetched blob would
pile up). The Redis one runs in tests/proxy/test_shared_fetch.py."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from pyregistry.proxy.fetch_leases import FETCHES_ROOT, FetchFlock, FetchLeases, blob_key
from pyregistry.storage import Digest
from pyregistry.tasks.leases import LeaseFactory
from storage_drivers.errors import PathNotFound
from storage_drivers.filesystem import FilesystemDriver
from storage_drivers.inmemory import InMemoryDriver

KEY = blob_key(Digest.from_bytes(b"a blob"))


def _exists(path: str) -> bool:
    return os.path.exists(path)


def test_flock_lease_is_exclusive_and_leaves_no_file(tmp_path: Path) -> None:
    leases = FetchLeases(LeaseFactory(FilesystemDriver(rootdirectory=str(tmp_path))))
    first, second = leases.lease(KEY), leases.lease(KEY)
    assert isinstance(first, FetchFlock)
    assert isinstance(second, FetchFlock)

    async def scenario() -> None:
        assert await first.acquire()
        assert not await second.acquire()
        await first.release()
        assert not _exists(first.os_path)
        assert await second.acquire()  # a fresh file, locked
        assert _exists(second.os_path)
        await second.release()

    asyncio.run(scenario())
    assert list((tmp_path / FETCHES_ROOT.lstrip("/")).iterdir()) == []


def test_a_waiter_holding_the_unlinked_file_locks_the_new_one(tmp_path: Path) -> None:
    """A waiter that opened the file before its holder unlinked it must not believe it
    holds the lease on a file nobody else can see."""
    path = str(tmp_path / "lock")
    holder, waiter, newcomer = (FetchFlock("x", path) for _ in range(3))

    async def scenario() -> None:
        assert await holder.acquire()
        assert not await waiter.acquire()
        await holder.release()
        assert await waiter.acquire()
        assert not await newcomer.acquire()  # the same file at the path: excluded
        await waiter.release()

    asyncio.run(scenario())


def test_storage_lease_is_exclusive_and_its_record_goes() -> None:
    driver = InMemoryDriver()
    leases = FetchLeases(LeaseFactory(driver))

    async def scenario() -> None:
        first, second = leases.lease(KEY), leases.lease(KEY)
        assert await first.acquire()
        assert not await second.acquire()
        await first.release()
        with pytest.raises(PathNotFound):  # nothing under it
            await driver.list(FETCHES_ROOT)
        assert await second.acquire()
        await second.release()

    asyncio.run(scenario())
