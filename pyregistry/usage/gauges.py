"""Storage usage as Prometheus gauges on the debug server, as of the last measurement.

The online collector measures after each run (:func:`refresh`); the debug server may be
another process (the supervisor of several workers), so the figures are handed over as a
JSON file in ``PROMETHEUS_MULTIPROC_DIR`` when that is set (replaced atomically), else
kept in this process. :class:`UsageCollector` reads them at scrape time, so a repository
that is gone disappears from the gauges instead of keeping its last value.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from pyregistry.usage.measure import Usage, measure
from storage_drivers.base import StorageDriver

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
SNAPSHOT_NAME = "pyregistry-usage.json"

_latest: Usage | None = None


def _snapshot_path() -> str | None:
    directory = os.environ.get(MULTIPROC_ENV)
    return os.path.join(directory, SNAPSHOT_NAME) if directory else None


def publish(usage: Usage) -> None:
    """Make ``usage`` what the gauges report, in this process and for the debug server."""
    global _latest
    _latest = usage
    path = _snapshot_path()
    if path is None:
        return
    fd, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".usage-")
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(usage.as_dict(), out)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def latest() -> Usage | None:
    """The last published figures (from the snapshot file when workers share one)."""
    path = _snapshot_path()
    if path is None:
        return _latest
    try:
        with open(path) as source:
            return Usage.from_dict(json.load(source))
    except (OSError, ValueError, TypeError):
        return _latest


async def refresh(driver: StorageDriver) -> Usage:
    """Measure ``driver`` and publish the figures."""
    usage = await measure(driver)
    publish(usage)
    return usage


class UsageCollector(Collector):
    """``registry_storage_*`` gauges from :func:`latest` (nothing before a measurement)."""

    def collect(self) -> Iterator[Metric]:
        usage = latest()
        if usage is None:
            return
        repository = GaugeMetricFamily(
            "registry_storage_repository_bytes",
            "Bytes of the blobs a repository links (manifests, configs, layers).",
            labels=["repository"],
        )
        for r in usage.repositories:
            repository.add_metric([r.name], r.bytes)
        project = GaugeMetricFamily(
            "registry_storage_project_bytes",
            "Bytes of a project's blobs, each blob counted once.",
            labels=["project"],
        )
        linked = GaugeMetricFamily(
            "registry_storage_project_linked_bytes",
            "Sum of a project's repository sizes (shared blobs counted per repository).",
            labels=["project"],
        )
        for p in usage.projects:
            project.add_metric([p.name], p.bytes)
            linked.add_metric([p.name], p.linked_bytes)
        yield repository
        yield project
        yield linked
        for name, text, value in (
            ("registry_storage_bytes", "Bytes of referenced blobs, each once.", usage.bytes),
            (
                "registry_storage_linked_bytes",
                "Sum of every repository's size.",
                usage.linked_bytes,
            ),
            ("registry_storage_stored_bytes", "Bytes of every stored blob.", usage.stored_bytes),
            (
                "registry_storage_unreferenced_bytes",
                "Bytes of stored blobs no repository links (collectable).",
                usage.unreferenced_bytes,
            ),
            (
                "registry_storage_usage_timestamp_seconds",
                "When these figures were measured (Unix time).",
                usage.measured_at,
            ),
        ):
            yield GaugeMetricFamily(name, text, value=value)
