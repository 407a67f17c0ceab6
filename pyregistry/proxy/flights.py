"""Concurrent pulls of one uncached blob fetch it from the upstream once (per process).

The first pull leads: it streams from the upstream while storing. Pulls arriving while it
runs wait for it to end and are then served from storage; if the leader failed (the
upstream cut the transfer, its client went away), the next one leads a new fetch.
Workers and instances sharing storage meet on a blob's fetch lease instead
(:mod:`pyregistry.proxy.fetch_leases`); flights spare that lease's cost within a process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator


class Flights:
    """Fetches in progress in this process, by key (a digest)."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Event] = {}

    async def wait(self, key: str) -> bool:
        """Wait for a fetch of ``key`` in progress to end; False when there was none."""
        event = self._running.get(key)
        if event is None:
            return False
        await event.wait()
        return True

    @contextlib.contextmanager
    def lead(self, key: str) -> Iterator[None]:
        """Mark a fetch of ``key`` as running until the block ends (however it ends)."""
        event = asyncio.Event()
        self._running[key] = event
        try:
            yield
        finally:
            if self._running.get(key) is event:
                del self._running[key]
            event.set()
