"""Execution records: per policy, the last runs (start, end, status, what was copied,
skipped and failed, the last error), kept as one JSON object in the registry's storage so
``pyregistry replication status`` and every instance see the same history.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from pyregistry.replication import metrics
from pyregistry.replication.queue import ROOT
from pyregistry.replication.tally import Tally
from storage_drivers.base import StorageDriver
from storage_drivers.errors import PathNotFound

RECORDS_ROOT = f"{ROOT}/executions"
RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"


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

    async def load(self, policy: str) -> list[dict[str, Any]]:
        try:
            data = await self.driver.get_content(self.path(policy))
        except PathNotFound:
            return []
        try:
            value = json.loads(data)
        except ValueError:
            return []
        entries = [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []
        self.cached[policy] = entries
        return entries

    async def save(self, execution: Execution) -> None:
        """Add or replace ``execution`` (by id), newest first, keeping the last few."""
        entries = [e for e in await self.load(execution.policy) if e.get("id") != execution.id]
        entries.insert(0, asdict(execution))
        entries = self.cached[execution.policy] = entries[: self.keep]
        body = json.dumps(entries, separators=(",", ":")).encode()
        await self.driver.put_content(self.path(execution.policy), body)
