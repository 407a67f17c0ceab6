"""Concurrent pulls of one uncached blob or manifest fetch it from the upstream once (per
process).

The first pull leads: it fetches from the upstream and stores. Pulls arriving while it
runs wait for it to end and are then served from storage; if the leader failed (the
upstream cut the transfer, its client went away), the next one leads a new fetch.
A manifest's leader also *shares* what it fetched as soon as it is verified, and keeps
storing it in a task of its own: the pulls waiting, and the client's next request (a
GET by digest right after a HEAD by tag), are served from memory rather than after the
copy's sync. Workers and instances sharing storage meet on a fetch lease instead
(:mod:`pyregistry.proxy.fetch_leases`); flights spare that lease's cost within a process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Iterator
from typing import Any

log = logging.getLogger("pyregistry.proxy")

#: How long a stopping process waits for the stores still running.
DRAIN_SECONDS = 10.0


class _Flight:
    """One fetch in progress: ``settled`` once its result is shared or it ended."""

    def __init__(self) -> None:
        self.settled = asyncio.Event()
        self.ended = asyncio.Event()
        self.result: Any = None


class Flights:
    """Fetches in progress in this process, by key (a digest), and the tasks that finish
    storing what was already answered."""

    def __init__(self) -> None:
        self._running: dict[str, _Flight] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def wait(self, key: str) -> bool:
        """Wait for a fetch of ``key`` in progress to end or share its result; False when
        there was none."""
        flight = self._running.get(key)
        if flight is None:
            return False
        await flight.settled.wait()
        return True

    async def ended(self, key: str) -> None:
        """Wait for a fetch of ``key`` in progress (if any) to end: what it fetched is
        stored by then, or will not be."""
        flight = self._running.get(key)
        if flight is not None:
            await flight.ended.wait()

    def shared(self, key: str) -> Any:
        """What the fetch of ``key`` in progress fetched, once verified (else None)."""
        flight = self._running.get(key)
        return None if flight is None else flight.result

    def share(self, key: str, result: Any) -> None:
        """Let pulls of ``key`` be answered with ``result`` while it is being stored."""
        flight = self._running.get(key)
        if flight is not None:
            flight.result = result
            flight.settled.set()

    @contextlib.contextmanager
    def lead(self, key: str) -> Iterator[None]:
        """Mark a fetch of ``key`` as running until the block ends (however it ends)."""
        flight = _Flight()
        self._running[key] = flight
        try:
            yield
        finally:
            if self._running.get(key) is flight:
                del self._running[key]
            flight.settled.set()
            flight.ended.set()

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run ``work`` (storing something already answered) beside the requests; kept
        referenced until done, and waited for by :meth:`drain`."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("%s failed: %r", task.get_name(), exc)

    async def drain(self) -> None:
        """Wait for the stores still running (the process is stopping), a while at most."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=DRAIN_SECONDS)
