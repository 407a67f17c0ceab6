"""Which lease guards an upload session's writes, and what a failing backend answers."""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from pyregistry.storage import BlobUploadUnknown, Registry, StorageError, paths
from pyregistry.storage.session_lock import UploadSessionBusy
from pyregistry.tasks.flock_lease import FlockLease
from pyregistry.tasks.leases import LeaseFactory
from pyregistry.tasks.local_lease import LocalLease
from pyregistry.tasks.redis_lease import RedisLease
from pyregistry.tasks.storage_lease import StorageLease
from pyregistry.tasks.upload_leases import UploadLeases
from storage_drivers.filesystem import FilesystemDriver
from storage_drivers.inmemory import InMemoryDriver
from tests.storage.helpers import RecordingDriver, sha256, stream
from tests.support.command import free_port
from tests.support.redis import RedisServer

UPLOAD_DB = 14


def test_the_filesystem_driver_takes_an_flock_even_with_redis(tmp_path: Path) -> None:
    factory = LeaseFactory(FilesystemDriver(tmp_path), redis_client=object())
    lease = factory.upload("team/app", "0" * 8 + "-0000-4000-8000-" + "0" * 12)
    assert isinstance(lease, FlockLease)
    assert lease.os_path.startswith(str(tmp_path.resolve()))
    assert lease.os_path.endswith("/_uploads/00000000-0000-4000-8000-000000000000/startedat")


def test_other_drivers_take_redis_when_configured_else_storage() -> None:
    upload_id = "0" * 8 + "-0000-4000-8000-" + "0" * 12
    other = RecordingDriver(InMemoryDriver())  # a driver that is neither of the two below
    assert isinstance(LeaseFactory(other).upload("a", upload_id), StorageLease)
    with_redis = LeaseFactory(InMemoryDriver(), redis_client=object())
    assert isinstance(with_redis.upload("a", upload_id), RedisLease)


async def test_the_inmemory_driver_keeps_upload_leases_in_memory() -> None:
    """Its content lives in this process only: a table there is exact, and costs no
    storage lease's settle time on every chunk. Two factories on one driver (two
    instances in one process) share the table; another driver has its own."""
    upload_id = "0" * 8 + "-0000-4000-8000-" + "0" * 12
    driver = InMemoryDriver()
    first = LeaseFactory(driver).upload("a", upload_id)
    assert isinstance(first, LocalLease)
    assert await first.acquire()
    assert not await LeaseFactory(driver).upload("a", upload_id).acquire()
    elsewhere = LeaseFactory(InMemoryDriver()).upload("a", upload_id)
    assert await elsewhere.acquire()
    await first.release()
    assert await LeaseFactory(driver).upload("a", upload_id).acquire()
    assert [info async for info in driver.walk("/")] == [], "nothing is stored"


async def held_while_writing(registry: Registry, observe: Callable[[str], Awaitable[None]]) -> None:
    """A write holds the session: a second writer is refused, ``observe`` sees the lease."""
    session = await registry.repository("team/app").uploads.create()
    gate = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        yield b"first"
        await gate.wait()
        yield b" part"

    writing = asyncio.create_task(session.append(body(), offset=0))
    await asyncio.sleep(0.3)
    with pytest.raises(UploadSessionBusy):
        await session.append(stream(b"second"), offset=0)
    await observe(session.id)
    gate.set()
    assert await writing == len(b"first part")
    await session.commit(sha256(b"first part"))


async def test_an_flock_guards_a_session_on_the_filesystem(tmp_path: Path) -> None:
    driver = FilesystemDriver(tmp_path)
    registry = Registry(driver, upload_locks=UploadLeases(LeaseFactory(driver)))

    async def marker_locked(upload_id: str) -> None:
        marker = tmp_path / paths.upload_started_at_path("team/app", upload_id).lstrip("/")
        fd = os.open(marker, os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        lock_file = tmp_path / paths.upload_lock_path("team/app", upload_id).lstrip("/")
        assert not lock_file.exists(), "the session's marker is the lock: no file of its own"

    await held_while_writing(registry, marker_locked)
    await registry.close()


async def test_an_flock_on_a_finished_session_is_unknown(tmp_path: Path) -> None:
    """The marker is the lock target and is never created by the lock: once the session
    has ended, a writer is told the session is unknown, and nothing comes back."""
    driver = FilesystemDriver(tmp_path)
    registry = Registry(driver, upload_locks=UploadLeases(LeaseFactory(driver)))
    session = await registry.repository("team/app").uploads.create()
    await session.commit(sha256(b"data"), stream(b"data"))
    with pytest.raises(BlobUploadUnknown):
        await session.append(stream(b"more"))
    session_dir = tmp_path / paths.upload_path("team/app", session.id).lstrip("/")
    assert not session_dir.exists()
    await registry.close()


async def test_a_redis_key_guards_a_session_on_other_drivers(
    redis_server_process: RedisServer,
) -> None:
    client = Redis(host=redis_server_process.host, port=redis_server_process.port, db=UPLOAD_DB)
    driver = InMemoryDriver()
    registry = Registry(driver, upload_locks=UploadLeases(LeaseFactory(driver, client)))

    async def key_exists(upload_id: str) -> None:
        assert await client.exists(f"pyregistry:lease:upload:team/app:{upload_id}")

    await held_while_writing(registry, key_exists)
    assert await client.keys("pyregistry:lease:upload:team/app:*") == [], "a key was left"
    await registry.close()


async def test_redis_down_is_a_storage_error_not_a_crash() -> None:
    dead = Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5)
    driver = InMemoryDriver()
    registry = Registry(driver, upload_locks=UploadLeases(LeaseFactory(driver, dead)))
    session = await registry.repository("team/app").uploads.create()
    with pytest.raises(StorageError):
        await session.append(stream(b"data"))
    await registry.close()
