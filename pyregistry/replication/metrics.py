"""Prometheus metrics of replication (on the debug server's metrics path)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

ITEMS = Counter(
    "pyregistry_replication_items",
    "Manifests and blobs replication copied, skipped (already there), deleted or failed",
    ["policy", "result"],
)
BYTES = Counter(
    "pyregistry_replication_bytes",
    "Blob bytes replication copied or skipped",
    ["policy", "result"],
)
PENDING = Gauge("pyregistry_replication_pending", "Changes waiting in a push queue", ["policy"])
LAG = Gauge(
    "pyregistry_replication_lag_seconds",
    "Age of the oldest change waiting in a push queue (0: none)",
    ["policy"],
)
EXECUTIONS = Counter(
    "pyregistry_replication_executions", "Replication executions by outcome", ["policy", "status"]
)
