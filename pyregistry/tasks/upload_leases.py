"""Upload-session exclusivity across workers and instances, from the lease factory.

Implements the storage layer's ``UploadLocks``: the session's lease is taken before the
offset check and held, renewed, until the write is done. A lease held by another request
means a concurrent write to the same session: 416, as for a chunk out of order. One
short retry lets a writer that is just finishing go first. A lease backend that fails
(Redis down) is a storage error, answered 500 without a traceback of ours.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from pyregistry.storage.errors import BlobUploadUnknown, StorageError
from pyregistry.storage.session_lock import SessionHold, UploadSessionBusy
from pyregistry.tasks.flock_lease import LeaseTargetMissing
from pyregistry.tasks.lease import renewing
from pyregistry.tasks.leases import LeaseFactory
from storage_drivers.errors import StorageDriverError

ATTEMPTS = 2
RETRY_DELAY_SECONDS = 0.05


class UploadLeases:
    """One lease per upload session write, as :class:`LeaseFactory` makes them."""

    def __init__(self, leases: LeaseFactory) -> None:
        self.leases = leases

    @contextlib.asynccontextmanager
    async def exclusive(self, repository: str, upload_id: str) -> AsyncIterator[SessionHold]:
        lease = await self.leases.upload_lease(repository, upload_id)
        for attempt in range(ATTEMPTS):
            try:
                if await lease.acquire():
                    break
            except LeaseTargetMissing as exc:
                raise BlobUploadUnknown(detail={"uuid": upload_id}) from exc
            except StorageDriverError:
                raise  # the storage layer's guard answers for its own driver
            except Exception as exc:  # Redis down: a backend failure, not a client error
                raise StorageError(f"upload session lease unavailable: {exc}") from exc
            if attempt + 1 < ATTEMPTS:
                await asyncio.sleep(RETRY_DELAY_SECONDS)
        else:
            raise UploadSessionBusy(detail={"uuid": upload_id})
        hold = SessionHold()
        async with renewing(lease):
            try:
                yield hold
            finally:
                if hold.removed:
                    lease.record_removed()

    async def close(self) -> None:
        await self.leases.close()
