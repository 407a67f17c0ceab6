"""Per-endpoint counters, shown as distribution shows them: JSON under ``/debug/vars``
(``registry.notifications.endpoints``) and Prometheus families named like distribution's
(``registry_notifications_events_total{type,endpoint}``,
``registry_notifications_pending_total{endpoint}``,
``registry_notifications_status_total{code,endpoint}``).

``Events`` counts events queued for the endpoint, ``Successes``/``Failures`` count delivery
attempts answered 2xx-3xx / otherwise, ``Errors`` attempts that got no answer (refused,
timed out), ``Statuses`` attempts by status line. ``Pending`` is read from the durable
queue, so it includes events left by an earlier run or another worker process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge


def status_text(code: int) -> str:
    """``202 Accepted``, as Go's ``http.StatusText`` renders it."""
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} "


class PrometheusFamilies:
    """The notification metric families on one collector registry."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        common: dict[str, Any] = {
            "namespace": "registry",
            "subsystem": "notifications",
            "registry": registry,
        }
        self.events = Counter(
            "events", "The number of total events", ("type", "endpoint"), **common
        )
        self.pending = Gauge(
            "pending_total",
            "The gauge of pending events in queue",
            ("endpoint",),
            multiprocess_mode="livemostrecent",
            **common,
        )
        self.status = Counter("status", "The number of status code", ("code", "endpoint"), **common)


_default: PrometheusFamilies | None = None


def default_families() -> PrometheusFamilies:
    """The process-wide families (created once: prometheus_client refuses duplicates)."""
    global _default
    if _default is None:
        _default = PrometheusFamilies()
    return _default


@dataclass
class EndpointMetrics:
    """One endpoint's counters in this process, mirrored into Prometheus."""

    endpoint: str
    families: PrometheusFamilies
    events: int = 0
    successes: int = 0
    failures: int = 0
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)

    def queued(self, count: int = 1) -> None:
        self.events += count
        self.families.events.labels("Events", self.endpoint).inc(count)

    def success(self, code: int) -> None:
        self.successes += 1
        self._status(code)
        self.families.events.labels("Successes", self.endpoint).inc()

    def failure(self, code: int) -> None:
        self.failures += 1
        self._status(code)
        self.families.events.labels("Failures", self.endpoint).inc()

    def error(self) -> None:
        self.errors += 1
        self.families.events.labels("Errors", self.endpoint).inc()

    def set_pending(self, pending: int) -> None:
        self.families.pending.labels(self.endpoint).set(pending)

    def _status(self, code: int) -> None:
        text = status_text(code)
        self.statuses[text] = self.statuses.get(text, 0) + 1
        self.families.status.labels(text, self.endpoint).inc()

    def snapshot(self, pending: int) -> dict[str, Any]:
        """distribution's ``EndpointMetrics`` JSON."""
        return {
            "Pending": pending,
            "Events": self.events,
            "Successes": self.successes,
            "Failures": self.failures,
            "Errors": self.errors,
            "Statuses": dict(self.statuses),
        }
