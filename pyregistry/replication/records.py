"""Execution records: per policy, the last runs (start, end, status, what was copied,
skipped and failed, the last error), kept as one JSON object in the registry's storage so
``pyregistry replication status`` and every instance see the same history.

A run in progress keeps a heartbeat object of its own beside the records (renewed every
third of the lease, so the records list is not rewritten while it runs). A record still
marked running whose heartbeat is gone or expired belonged to a process that died
(``kill -9``) or lost its lease: it reads as interrupted, and the next save writes it so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any

from pyregistry.replication import metrics
from pyregistry.replication.queue import ROOT
from pyregistry.replication.tally import Tally
from storage_drivers.base import StorageDriver
from storage_drivers.errors import PathNotFound

RECORDS_ROOT = f"{ROOT}/executions"
HEARTBEATS_ROOT = f"{ROOT}/running"
RUNNING, SUCCEEDED, FAILED, INTERRUPTED = "running", "succeeded", "failed", "interrupted"


@dataclass
class Execution:
    policy: str
    trigger: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    status: str = RUNNING
    started: float = field(default_factory=time.time)
    ended: float | None = None
    tally: dict[str, Any] = field(default_factory=dict)

    def finish(self, tally: Tally) -> None:
        self.ended = time.time()
        self.tally = tally.as_dict()
        self.status = FAILED if tally.failed else SUCCEEDED
        metrics.EXECUTIONS.labels(self.policy, self.status).inc()


class ExecutionRecords:
    """The kept executions of every policy."""

    def __init__(self, driver: StorageDriver, keep: int = 20) -> None:
        self.driver = driver
        self.keep = max(keep, 1)
        #: What this process last loaded or saved, per policy (for /debug/vars).
        self.cached: dict[str, list[dict[str, Any]]] = {}

    @staticmethod
    def path(policy: str) -> str:
        return f"{RECORDS_ROOT}/{policy}"

    @staticmethod
    def heartbeat_path(policy: str, execution: str) -> str:
        return f"{HEARTBEATS_ROOT}/{policy}/{execution}"

    async def load(self, policy: str) -> list[dict[str, Any]]:
        """The kept records, newest first; a running one whose holder is gone is
        marked interrupted."""
        try:
            data = await self.driver.get_content(self.path(policy))
        except PathNotFound:
            return []
        try:
            value = json.loads(data)
        except ValueError:
            return []
        entries = [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []
        for entry in entries:
            if entry.get("status") == RUNNING and not await self._alive(policy, entry):
                entry["status"] = INTERRUPTED
        self.cached[policy] = entries
        return entries

    async def _alive(self, policy: str, entry: dict[str, Any]) -> bool:
        try:
            data = await self.driver.get_content(self.heartbeat_path(policy, str(entry.get("id"))))
            expires = float(json.loads(data))
        except (PathNotFound, ValueError, TypeError):
            return False
        return expires >= time.time()

    async def save(self, execution: Execution) -> None:
        """Add or replace ``execution`` (by id), newest first, keeping the last few."""
        entries = [e for e in await self.load(execution.policy) if e.get("id") != execution.id]
        for entry in entries:
            if entry.get("status") == INTERRUPTED:  # its holder died: its heartbeat is litter
                await self._forget_heartbeat(execution.policy, str(entry.get("id")))
        entries.insert(0, asdict(execution))
        entries = self.cached[execution.policy] = entries[: self.keep]
        body = json.dumps(entries, separators=(",", ":")).encode()
        await self.driver.put_content(self.path(execution.policy), body)

    async def _beat(self, execution: Execution, ttl: float) -> None:
        path = self.heartbeat_path(execution.policy, execution.id)
        await self.driver.put_content(path, json.dumps(time.time() + ttl).encode())

    async def _forget_heartbeat(self, policy: str, execution: str) -> None:
        with contextlib.suppress(PathNotFound):
            await self.driver.delete(self.heartbeat_path(policy, execution))

    async def _keep_beating(self, execution: Execution, ttl: float) -> None:
        while True:
            await asyncio.sleep(ttl / 3)
            try:
                await self._beat(execution, ttl)
            except Exception:  # noqa: BLE001 - a storage hiccup: the next beat may succeed
                continue

    @contextlib.asynccontextmanager
    async def running(self, execution: Execution, ttl: float) -> AsyncIterator[Execution]:
        """Record ``execution`` as running for the block, its heartbeat renewed so that
        it reads as interrupted ``ttl`` seconds after this process stops renewing it."""
        ttl = max(ttl, 0.3)
        await self._beat(execution, ttl)
        await self.save(execution)
        beating = asyncio.create_task(self._keep_beating(execution, ttl))
        try:
            yield execution
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
            if execution.status == RUNNING:  # cancelled (lease lost, shutdown)
                execution.status, execution.ended = INTERRUPTED, time.time()
                with contextlib.suppress(Exception):
                    await asyncio.shield(self.save(execution))
            await self._forget_heartbeat(execution.policy, execution.id)
