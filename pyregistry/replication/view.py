"""Replication as ``/debug/vars`` shows it, read from storage: the queues and execution
records live there, so the answer is the same whatever process gives it; a worker that
replicates, an instance that does not hold the policy's lease, or the supervisor of
several workers, whose debug server runs where nothing replicates. What only the
replicating process knows (its last error, the loops it cut) is added when there is one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pyregistry.config.sections.replication import ReplicationSection
from pyregistry.replication.queue import ChangeQueue
from pyregistry.replication.records import ExecutionRecords
from storage_drivers.base import StorageDriver

if TYPE_CHECKING:
    from pyregistry.replication.service import ReplicationService

#: Where replication shows on ``/debug/vars``.
VARS_NAME = "registry.replication"
#: Executions shown per policy.
SHOWN = 5


class StoredView:
    """An awaitable ``/debug/vars`` value (:func:`pyregistry.debug.expvar.publish_async`)."""

    def __init__(
        self,
        settings: ReplicationSection,
        driver: Callable[[], StorageDriver],
        service: ReplicationService | None = None,
    ) -> None:
        self.settings = settings
        self.driver = driver
        self.service = service

    async def __call__(self) -> dict[str, Any]:
        driver = self.driver()
        records = ExecutionRecords(driver, self.settings.history)
        policies: dict[str, Any] = {}
        for policy in self.settings.policies:
            count, oldest = await ChangeQueue(driver, policy.name).pending()
            policies[policy.name] = {
                "direction": policy.direction,
                "target": policy.target,
                "pending": count,
                "lag_seconds": round(time.time() - oldest, 3) if oldest else 0.0,
                "executions": (await records.load(policy.name))[:SHOWN],
            }
        out: dict[str, Any] = {"id": self.settings.id, "source": "storage", "policies": policies}
        if self.service is not None:
            local = self.service.snapshot()
            out["loops_cut"] = local["loops_cut"]
            for name, entry in policies.items():
                entry["last_error"] = local["policies"].get(name, {}).get("last_error", "")
        return out
