"""Lease makers for every backend, each on real components: a local file, storage
through the filesystem and S3 drivers (SeaweedFS), a real redis-server, and the
in-memory driver's table in this process."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from pyregistry.storage import paths
from pyregistry.tasks.flock_lease import FlockLease
from pyregistry.tasks.lease import Lease
from pyregistry.tasks.local_lease import LocalLease, table_for
from pyregistry.tasks.redis_lease import RedisLease
from pyregistry.tasks.storage_lease import StorageLease
from storage_drivers.base import StorageDriver
from storage_drivers.filesystem import FilesystemDriver
from storage_drivers.inmemory import InMemoryDriver
from storage_drivers.s3 import S3Driver
from tests.support.redis import RedisServer
from tests.support.s3 import S3Server

#: Short enough that expiry tests stay quick, long enough for a loaded machine.
TTL = 1.5
SETTLE = 0.2
#: A database of its own (multi-instance pairs use 7 and 8, the race test 11).
LEASE_DB = 12

#: ``await make(name)`` -> a new holder's view of lease ``name`` on one backend.
MakeLease = Callable[[str], Awaitable[Lease]]

BACKENDS = ["flock", "filesystem", "s3", "redis", "memory"]


def _storage(driver: StorageDriver) -> MakeLease:
    async def make(name: str) -> Lease:
        return StorageLease(name, driver, paths.lease_path(name), ttl=TTL, settle=SETTLE)

    return make


@pytest_asyncio.fixture(params=BACKENDS)
async def make_lease(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MakeLease]:
    kind = request.param
    if kind == "flock":

        async def make_flock(name: str) -> Lease:
            return FlockLease(name, str(tmp_path / f"{name}.lock"))

        yield make_flock
    elif kind == "memory":
        table = table_for(InMemoryDriver())

        async def make_local(name: str) -> Lease:
            return LocalLease(name, table)

        yield make_local
    elif kind == "filesystem":
        driver = FilesystemDriver(tmp_path / "root")
        yield _storage(driver)
        await driver.close()
    elif kind == "s3":
        server: S3Server = request.getfixturevalue("seaweedfs_server")
        s3 = S3Driver.from_parameters(server.driver_parameters(f"/lease-{uuid.uuid4().hex[:12]}"))
        yield _storage(s3)
        await s3.close()
    else:
        redis_server: RedisServer = request.getfixturevalue("redis_server_process")
        client = Redis(host=redis_server.host, port=redis_server.port, db=LEASE_DB)
        prefix = uuid.uuid4().hex[:8]

        async def make_redis(name: str) -> Lease:
            return RedisLease(f"{prefix}-{name}", client, ttl=TTL)

        yield make_redis
        await client.aclose()
