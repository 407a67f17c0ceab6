"""Which lease a deployment uses, for a background job or for an upload session.

* ``redis`` configured: a Redis key (:mod:`redis_lease`), for jobs and, on drivers other
  than the filesystem, for upload sessions: one round trip, and exact across hosts.
* otherwise jobs take a lease object in storage (:mod:`storage_lease`), which works on
  every driver and across hosts sharing that storage;
* upload sessions on the filesystem driver always take an ``flock`` on the session's
  ``startedat`` (:mod:`flock_lease`): a small push does a few of these, and two
  system calls cost far less than a round trip (see ``docs/background-tasks.md`` for
  shared filesystems); locking the marker, not a lock file beside it, spares a file
  created and deleted per blob. On S3 or Swift without Redis they take a lease object:
  written conditionally where the store honours ``If-None-Match``/``If-Match``
  (:mod:`conditional_lease`: one round trip), else a storage lease whose settle time
  is short, since a client waits for it on every chunk;
* upload sessions on the in-memory driver take a lease in a table in memory
  (:mod:`local_lease`): its content is seen by this process only, so that is exact.
"""

from __future__ import annotations

import os
from typing import Any

from pyregistry.config.model import Config
from pyregistry.storage import paths
from pyregistry.tasks.conditional_lease import ConditionalLease, conditional_writes
from pyregistry.tasks.flock_lease import FlockLease
from pyregistry.tasks.lease import Lease
from pyregistry.tasks.local_lease import LocalLease, table_for
from pyregistry.tasks.redis_lease import RedisLease
from pyregistry.tasks.storage_lease import DEFAULT_SETTLE_SECONDS, StorageLease
from storage_drivers.base import StorageDriver
from storage_drivers.filesystem import FilesystemDriver
from storage_drivers.inmemory import InMemoryDriver

#: How long an upload session's lease outlives a writer that died holding it.
UPLOAD_LEASE_SECONDS = 10.0
#: The storage lease's settle time for upload sessions (see ``storage_lease``).
UPLOAD_SETTLE_SECONDS = 0.25


class LeaseFactory:
    """Makes the leases of one registry; owns the Redis client when there is one."""

    def __init__(
        self,
        driver: StorageDriver,
        redis_client: Any | None = None,
        *,
        settle: float = DEFAULT_SETTLE_SECONDS,
        upload_ttl: float = UPLOAD_LEASE_SECONDS,
        upload_settle: float = UPLOAD_SETTLE_SECONDS,
    ) -> None:
        self.driver = driver
        self.redis = redis_client
        self.settle = settle
        self.upload_ttl = upload_ttl
        self.upload_settle = upload_settle

    @property
    def backend(self) -> str:
        """Where job leases live: ``redis`` or ``storage`` (for logs and docs)."""
        return "redis" if self.redis is not None else "storage"

    def job(self, name: str, ttl: float) -> Lease:
        """The lease that lets one instance run job ``name``."""
        if self.redis is not None:
            return RedisLease(f"job:{name}", self.redis, ttl=ttl)
        return StorageLease(name, self.driver, paths.lease_path(name), ttl=ttl, settle=self.settle)

    def upload(self, repository: str, upload_id: str) -> Lease:
        """The lease that lets one request write upload session ``upload_id``."""
        path = paths.upload_lock_path(repository, upload_id)
        name = f"upload:{repository}:{upload_id}"
        if isinstance(self.driver, FilesystemDriver):
            marker = paths.upload_started_at_path(repository, upload_id)
            os_path = self.driver.root_directory + marker.replace("/", os.sep)
            return FlockLease(name, os_path, create=False)
        if self.redis is not None:
            return RedisLease(name, self.redis, ttl=self.upload_ttl, fenced=False)
        if isinstance(self.driver, InMemoryDriver):
            return LocalLease(name, table_for(self.driver))
        return StorageLease(name, self.driver, path, ttl=self.upload_ttl, settle=self.upload_settle)

    async def upload_lease(self, repository: str, upload_id: str) -> Lease:
        """:meth:`upload`, but a storage lease becomes a :class:`ConditionalLease` where
        the driver offers conditional writes: no settle time to wait."""
        lease = self.upload(repository, upload_id)
        if not isinstance(lease, StorageLease):
            return lease
        if not await conditional_writes(self.driver):  # the driver keeps the answer
            return lease
        return ConditionalLease(lease.name, self.driver, lease.path, ttl=self.upload_ttl)

    async def close(self) -> None:
        client, self.redis = self.redis, None
        if client is not None:
            from pyregistry.descriptor_cache.connection import close_client

            await close_client(client)


def lease_factory(config: Config, driver: StorageDriver) -> LeaseFactory:
    """The factory for ``config``: Redis when the ``redis`` section names an address."""
    if config.redis is None or not config.redis.addrs:
        return LeaseFactory(driver)
    from pyregistry.descriptor_cache.connection import create_client, settings_from_config

    return LeaseFactory(driver, create_client(settings_from_config(config.redis)))
