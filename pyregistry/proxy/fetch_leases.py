"""Concurrent pulls of one uncached blob or manifest on several workers or instances
sharing one storage fetch it from the upstream once (:mod:`pyregistry.proxy.flights`
does so within a process, for free).

The first pull takes the fetch lease and streams from the upstream while storing; the
others find it taken and wait, polling storage, until it is committed (they
then serve it from storage) or the lease is free again (that fetch failed: one of them
takes the lease and fetches). Which lease, as :mod:`pyregistry.tasks.leases` chooses:

* ``redis`` configured: a Redis key that expires unless renewed (exact across hosts);
* the filesystem driver: the tasks' ``flock`` on a file under
  ``/pyregistry/mirror-fetches`` (two system calls; the kernel drops it when its holder
  dies). The file is unlinked on release, so none stays behind per blob; a new holder
  checks that the file it locked is still the one at the path;
* otherwise (S3, Swift without Redis): a lease object in storage with a short settle
  time, removed after release. It adds that settle time to a cold fetch.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os

from pyregistry.storage import Digest, paths
from pyregistry.tasks.flock_lease import FlockLease, LeaseTargetMissing
from pyregistry.tasks.lease import Lease
from pyregistry.tasks.leases import UPLOAD_SETTLE_SECONDS, LeaseFactory
from pyregistry.tasks.redis_lease import RedisLease
from pyregistry.tasks.storage_lease import StorageLease
from storage_drivers.errors import PathNotFound
from storage_drivers.filesystem import FilesystemDriver

log = logging.getLogger("pyregistry.proxy")

FETCHES_ROOT = f"{paths.PYREGISTRY_ROOT}/mirror-fetches"
#: How long a fetch lease outlives a holder that died (Redis and storage leases).
FETCH_LEASE_SECONDS = 30.0
#: Waiters poll storage from this interval, doubling up to the next. A manifest is
#: answered before it is stored, and the client's next request may reach another
#: worker: that one finds its store done after a few milliseconds, not 20.
FIRST_POLL_SECONDS = 0.005
MAX_POLL_SECONDS = 0.25
#: Tries to lock a file that the previous holder unlinked meanwhile.
RELOCK_ATTEMPTS = 5


class FetchFlock(FlockLease):
    """The task leases' ``flock``, its directory made when missing and its file unlinked
    by the holder on release (one per blob would pile up)."""

    async def acquire(self) -> bool:
        if self.held:
            return True
        for _ in range(RELOCK_ATTEMPTS):
            try:
                if not await super().acquire():
                    return False
            except LeaseTargetMissing:
                os.makedirs(os.path.dirname(self.os_path), exist_ok=True)
                continue
            if self._at_path():
                return True
            await super().release()  # the holder before us unlinked it: lock the new one
        return False

    def _at_path(self) -> bool:
        """The file locked is still the one at the path."""
        assert self._fd is not None
        try:
            return os.stat(self.os_path).st_ino == os.fstat(self._fd).st_ino
        except FileNotFoundError:
            return False

    async def release(self) -> None:
        if self.held:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.os_path)  # while still locked: a waiter then relocks anew
        await super().release()


class RemovedStorageLease(StorageLease):
    """A storage lease whose record goes on release (one per blob would pile up)."""

    async def release(self) -> None:
        held = self.held
        await super().release()
        if held:
            with contextlib.suppress(PathNotFound):
                await self.driver.delete(self.path)


class Unshared(Lease):
    """No lease backend: every process fetches for itself (flights still dedup within)."""

    @property
    def held(self) -> bool:
        return True

    async def acquire(self) -> bool:
        return True

    async def renew(self) -> bool:
        return True

    async def release(self) -> None:
        return None


def blob_key(digest: Digest) -> str:
    """The fetch key of a blob (one fetch per blob: the blob store is shared)."""
    return f"{digest.algorithm}-{digest.hex}"


def manifest_key(repository: str, digest: Digest) -> str:
    """The fetch key of a manifest: per repository, since it is cached per repository
    (the name is hashed to keep the key one path component)."""
    name = hashlib.sha256(repository.encode()).hexdigest()[:16]
    return f"manifest-{name}-{digest.algorithm}-{digest.hex}"


class FetchLeases:
    """The fetch lease of each key (:func:`blob_key`, :func:`manifest_key`), from the
    registry's lease factory (None: unshared)."""

    def __init__(self, leases: LeaseFactory | None) -> None:
        self.leases = leases

    def lease(self, key: str) -> Lease:
        leases = self.leases
        if leases is None:
            return Unshared(key)
        name = f"mirror-fetch-{key}"
        path = f"{FETCHES_ROOT}/{key}"
        driver = leases.driver
        if leases.redis is not None:
            return RedisLease(name, leases.redis, ttl=FETCH_LEASE_SECONDS, fenced=False)
        if isinstance(driver, FilesystemDriver):
            return FetchFlock(name, driver.root_directory + path.replace("/", os.sep))
        return RemovedStorageLease(
            name, driver, path, ttl=FETCH_LEASE_SECONDS, settle=UPLOAD_SETTLE_SECONDS
        )

    async def take(self, key: str) -> Lease | None:
        """The fetch lease of ``key``, held; None while another process holds it. A
        backend that fails (Redis down) costs the sharing, not the pull."""
        lease = self.lease(key)
        try:
            return lease if await lease.acquire() else None
        except Exception as exc:  # noqa: BLE001 - no lease: fetch unshared
            log.warning("fetch lease of %s unavailable (%s): fetching unshared", key, exc)
            return Unshared(key)

    @staticmethod
    async def pause(attempt: int) -> None:
        """Wait before looking again (a little longer each time)."""
        await asyncio.sleep(min(FIRST_POLL_SECONDS * 2**attempt, MAX_POLL_SECONDS))

    async def close(self) -> None:
        if self.leases is not None:
            await self.leases.close()
