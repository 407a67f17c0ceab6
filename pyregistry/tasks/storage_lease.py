"""A lease as a small object in storage, for instances that share only their storage.

A driver's ``put_content`` is atomic but not conditional, so two processes can both find
the lease free and both write it. The record (holder token, fence, expiry) is therefore
claimed in three steps, all through the driver interface (filesystem, S3, Swift alike):

1. read the record; a live record with another token means "taken";
2. write our record (fence + 1, expiry = now + ttl);
3. wait ``settle`` seconds, then read again: the claim holds only if our token is there.

Why that suffices: a rival who writes after us must have read before our write was
visible (else it saw our live record), and every claimant gives up when its own read-to-
write span exceeded ``settle``; so the rival's write lands less than ``settle`` after
ours, before our confirming read, and at most the last writer keeps the lease. A holder
renews (read, compare, rewrite) every ``ttl / 3`` and finds out there when it was
overwritten. Requirements: read-after-write consistency (filesystem, S3 since 2020;
Swift only with a consistent proxy setup, else use ``redis``), and host clocks that agree
to well within ``ttl`` (expiry is wall-clock time).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from dataclasses import asdict, dataclass

from pyregistry.tasks.lease import Lease, new_token
from storage_drivers.base import StorageDriver
from storage_drivers.errors import PathNotFound

#: A claimant slower than this between its read and its write gives the claim up.
DEFAULT_SETTLE_SECONDS = 1.0
#: Claims given up for slowness before ``acquire`` answers False.
SLOW_CLAIM_ATTEMPTS = 3


@dataclass(frozen=True)
class LeaseRecord:
    """What the lease object holds (JSON)."""

    token: str
    fence: int
    expires: float
    holder: str

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def decode(cls, content: bytes) -> LeaseRecord | None:
        """The record, or None when the object is not one (it then counts as free)."""
        try:
            data = json.loads(content)
            return cls(
                str(data["token"]), int(data["fence"]), float(data["expires"]), str(data["holder"])
            )
        except (ValueError, TypeError, KeyError):
            return None


def holder_name() -> str:
    """Who holds a lease, for people reading the object: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


class StorageLease(Lease):
    """The lease whose record lives at driver path ``path``."""

    def __init__(
        self,
        name: str,
        driver: StorageDriver,
        path: str,
        *,
        ttl: float,
        settle: float = DEFAULT_SETTLE_SECONDS,
    ) -> None:
        super().__init__(name)
        self.driver = driver
        self.path = path
        self.ttl = ttl
        self.settle = settle
        #: Kept across failed claims, so a record we left behind never blocks us.
        self._token = new_token()
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    async def _read(self) -> LeaseRecord | None:
        try:
            return LeaseRecord.decode(await self.driver.get_content(self.path))
        except PathNotFound:
            return None

    def _record(self, fence: int) -> LeaseRecord:
        return LeaseRecord(self._token, fence, time.time() + self.ttl, holder_name())

    async def acquire(self) -> bool:
        if self._held:
            return await self.renew()
        for _ in range(SLOW_CLAIM_ATTEMPTS):
            claimed = await self._claim()
            if claimed is not None:
                return claimed
        return False

    async def _claim(self) -> bool | None:
        """One claim: True or False, or None when given up only for being slow (a first
        request on a cold connection often is; the retry reads our record as ours)."""
        started = time.monotonic()
        current = await self._read()
        if current is not None and current.token != self._token and current.expires > time.time():
            return False
        fence = (current.fence if current is not None else 0) + 1  # never reused
        await self.driver.put_content(self.path, self._record(fence).encode())
        if time.monotonic() - started >= self.settle:
            return None  # too slow to rule out a rival's write landing after our check
        await asyncio.sleep(self.settle)
        confirmed = await self._read()
        if confirmed is None or confirmed.token != self._token:
            return False
        self.fence, self._held = confirmed.fence, True
        return True

    async def renew(self) -> bool:
        if not self._held:
            return False
        current = await self._read()
        if current is None or current.token != self._token or current.expires <= time.time():
            self._held = False  # overwritten, removed, or expired: a rival may hold it now
            return False
        await self.driver.put_content(self.path, self._record(self.fence).encode())
        return True

    def record_removed(self) -> None:
        if self._held:
            self._held = False
            self._token = new_token()

    async def release(self) -> None:
        """Mark our record expired (not deleted: the next holder's fence must still grow).
        A record that is gone, not ours, or about to expire anyway is left alone."""
        if not self._held:
            return
        self._held = False
        current = await self._read()
        mine = current is not None and current.token == self._token
        if mine and current is not None and current.expires > time.time() + self.settle:
            expired = LeaseRecord(self._token, self.fence, 0.0, current.holder)
            await self.driver.put_content(self.path, expired.encode())
        self._token = new_token()
