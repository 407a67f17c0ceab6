"""A lease object claimed with conditional writes, where the driver offers them.

:class:`~pyregistry.tasks.storage_lease.StorageLease` cannot make its write conditional,
so it reads, writes, waits its settle time and reads again: every upload write on S3
without Redis waited a quarter of a second for it. Where the store checks
``If-None-Match``/``If-Match`` (S3, see ``storage_drivers/s3/conditional.py``) a claim
is exact in one round trip:

- create the record only if there is none; else read it, and replace it only if it is
  still the version read and free (expired, or a record of ours);
- renew: replace our version with a later expiry (refused: it was taken, so lost);
- release: delete our version (refused or gone: someone else's now, left alone).

The record is :class:`~pyregistry.tasks.storage_lease.LeaseRecord`, so both kinds read
each other's; its fence grows only while the record lasts (upload sessions, which use
this lease, need none). Instances mixing the two on one session (a rolling upgrade) can both
believe they hold it for a moment; a session written twice fails its digest check.
"""

from __future__ import annotations

import contextlib
import time

from pyregistry.tasks.lease import Lease, new_token
from pyregistry.tasks.storage_lease import LeaseRecord, holder_name
from storage_drivers.base import StorageDriver
from storage_drivers.errors import ConditionFailed, PathNotFound, StorageDriverError

#: Claims retried when the record vanished between the refused create and the read.
CLAIM_ATTEMPTS = 3


class ConditionalLease(Lease):
    """The lease whose record lives at driver path ``path``, written conditionally."""

    def __init__(self, name: str, driver: StorageDriver, path: str, *, ttl: float) -> None:
        super().__init__(name)
        self.driver = driver
        self.path = path
        self.ttl = ttl
        self._token = new_token()
        #: The record's version as we last wrote it (None: not held).
        self._version: str | None = None

    @property
    def held(self) -> bool:
        return self._version is not None

    def _record(self, fence: int) -> bytes:
        return LeaseRecord(self._token, fence, time.time() + self.ttl, holder_name()).encode()

    async def acquire(self) -> bool:
        if self.held:
            return await self.renew()
        for _ in range(CLAIM_ATTEMPTS):
            try:
                self._version = await self.driver.put_content_if(self.path, self._record(1), None)
                self.fence = 1
                return True
            except ConditionFailed:
                pass
            try:
                content, version = await self.driver.get_content_version(self.path)
            except PathNotFound:
                continue  # released meanwhile: create it again
            current = LeaseRecord.decode(content)
            theirs = current is not None and current.token != self._token
            if theirs and current is not None and current.expires > time.time():
                return False
            fence = (current.fence if current is not None else 0) + 1
            try:
                self._version = await self.driver.put_content_if(
                    self.path, self._record(fence), version
                )
            except (ConditionFailed, PathNotFound):
                return False  # another claimant replaced or removed it first
            self.fence = fence
            return True
        return False

    async def renew(self) -> bool:
        version = self._version
        if version is None:
            return False
        try:
            self._version = await self.driver.put_content_if(
                self.path, self._record(self.fence), version
            )
        except (ConditionFailed, PathNotFound):
            self._version = None  # replaced or removed: a rival may hold it now
            return False
        return True

    def record_removed(self) -> None:
        if self._version is not None:
            self._version = None
            self._token = new_token()

    async def release(self) -> None:
        version, self._version = self._version, None
        if version is None:
            return
        with contextlib.suppress(ConditionFailed, PathNotFound):
            await self.driver.delete_if(self.path, version)
        self._token = new_token()


async def conditional_writes(driver: StorageDriver) -> bool:
    """Whether ``driver`` offers conditional writes (a failing probe counts as no)."""
    try:
        return await driver.conditional_writes()
    except StorageDriverError:
        return False
