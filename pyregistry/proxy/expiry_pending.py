"""What a mirror expiry run is about to leave unnamed, recorded before it removes it.

Expiry removes manifests, then links, then blob data; a run killed between the steps
(kill -9) would leave links no manifest names and data no link names, which only a full
garbage collection could find again. So the digests whose data may lose its last name
and the repositories whose links may, are written here first (with when they were first
recorded), and every run finishes what the record holds. A removal the guard spared (an
object written within the grace period) stays recorded and is tried again; an entry
older than every grace period is dropped, since what is still there then is in use.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterable

from pyregistry.proxy.pulls import RECORDS_ROOT
from storage_drivers.base import StorageDriver
from storage_drivers.errors import PathNotFound

log = logging.getLogger("pyregistry.proxy")

#: A name no repository can have (no component starts with ``_``).
PENDING_PATH = f"{RECORDS_ROOT}/_expiry-pending"


def _times(value: object) -> dict[str, float]:
    if not isinstance(value, dict):
        return {}
    return {str(k): float(v) for k, v in value.items() if isinstance(v, int | float)}


class PendingRemovals:
    """The record: blob digests and repository names, each with when it was added."""

    def __init__(self, driver: StorageDriver, clock: Callable[[], float] = time.time) -> None:
        self.driver = driver
        self.clock = clock
        self.blobs: dict[str, float] = {}
        self.repositories: dict[str, float] = {}

    async def load(self) -> None:
        try:
            content = await self.driver.get_content(PENDING_PATH)
        except PathNotFound:
            return
        try:
            data = json.loads(content)
        except ValueError as exc:  # the garbage collector reclaims what is left
            log.warning(f"mirror expiry: pending record unreadable ({exc}); dropped")
            return
        if isinstance(data, dict):
            self.blobs = _times(data.get("blobs"))
            self.repositories = _times(data.get("repositories"))

    async def add(self, *, blobs: Iterable[str] = (), repositories: Iterable[str] = ()) -> None:
        """Record, then save (before the removal that needs it)."""
        now = self.clock()
        for digest in blobs:
            self.blobs.setdefault(digest, now)
        for name in repositories:
            self.repositories.setdefault(name, now)
        await self._save()

    async def settle(self, keep_for: float) -> None:
        """Drop entries older than ``keep_for``; save, or remove the record when empty."""
        cutoff = self.clock() - keep_for
        self.blobs = {d: t for d, t in self.blobs.items() if t >= cutoff}
        self.repositories = {n: t for n, t in self.repositories.items() if t >= cutoff}
        if self.blobs or self.repositories:
            await self._save()
            return
        with contextlib.suppress(PathNotFound):
            await self.driver.delete(PENDING_PATH)

    async def _save(self) -> None:
        document = {"blobs": self.blobs, "repositories": self.repositories}
        await self.driver.put_content(PENDING_PATH, json.dumps(document, sort_keys=True).encode())
