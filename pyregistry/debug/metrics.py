"""Prometheus metrics for the registry API, named like distribution's
(``registry_http_requests_total{handler,method,code}`` ...).

:class:`MetricsMiddleware` is pure ASGI and wraps the whole API app. The ``handler`` label is
the kind of route (``manifest``, ``blob``, ``blob_upload_chunk``...), worked out from the
path, never the path itself, so repository names and digests cannot blow up the label set.
Bytes are counted as they stream; nothing is buffered.

With several workers, set ``PROMETHEUS_MULTIPROC_DIR`` (the server does) and
:func:`render` aggregates every worker's values. Storage usage gauges
(:mod:`pyregistry.usage.gauges`) are added to whatever :func:`render` exposes.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pyregistry.usage.gauges import UsageCollector

#: distribution's request-duration buckets (seconds).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60)

_ROUTE = re.compile(
    r"/v2/(?P<name>.+)/(?:"
    r"(?P<tags>tags/list)"
    r"|(?P<manifest>manifests/[^/]+)"
    r"|(?P<blob_upload_chunk>blobs/uploads/[^/]+)"
    r"|(?P<blob_upload>blobs/uploads/?)"
    r"|(?P<blob>blobs/[^/]+)"
    r"|(?P<referrers>referrers/[^/]+)"
    r")",
    re.DOTALL,
)


def route_name(path: str, prefix: str = "/") -> str:
    """The API route a path belongs to: ``base``, ``catalog``, ``tags``, ``manifest``,
    ``blob``, ``blob_upload``, ``blob_upload_chunk``, ``referrers`` or ``other``."""
    root = prefix.rstrip("/")
    if root and path.startswith(root + "/"):
        path = path[len(root) :]
    if path in ("/v2", "/v2/"):
        return "base"
    if path == "/v2/_catalog":
        return "catalog"
    match = _ROUTE.fullmatch(path)
    if match is None:
        return "other"
    return next(kind for kind, value in match.groupdict().items() if value and kind != "name")


class Metrics:
    """The metric families, on one collector registry."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        labels = ("handler", "method")
        common: dict[str, Any] = {
            "namespace": "registry",
            "subsystem": "http",
            "registry": registry,
        }
        self.requests = Counter(
            "requests",
            "Requests served, by route, method and status code.",
            (*labels, "code"),
            **common,
        )
        self.duration = Histogram(
            "request_duration_seconds",
            "Time to serve a request, until the last byte.",
            labels,
            buckets=DURATION_BUCKETS,
            **common,
        )
        self.bytes_in = Counter("request_bytes", "Request body bytes received.", labels, **common)
        self.bytes_out = Counter("response_bytes", "Response body bytes sent.", labels, **common)
        self.in_flight = Gauge(
            "in_flight_requests",
            "Requests being served.",
            ("handler",),
            multiprocess_mode="livesum",
            **common,
        )


_default: Metrics | None = None


def default_metrics() -> Metrics:
    """The process-wide families on prometheus_client's default registry."""
    global _default
    if _default is None:
        _default = Metrics()
    return _default


class MetricsMiddleware:
    """Pure ASGI: counts requests, bytes each way and latency per route kind."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        prefix: str = "/",
        metrics: Metrics | None = None,
        namer: Callable[[str, str], str] | None = None,
    ) -> None:
        self.app = app
        self.prefix = prefix
        self.metrics = metrics or default_metrics()
        self.namer = namer or (lambda _method, path: route_name(path, prefix))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        handler = self.namer(method, scope["path"])
        counts = {"in": 0, "out": 0, "status": 0}

        async def counting_receive() -> Message:
            message: Message = await receive()
            if message["type"] == "http.request":
                counts["in"] += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                counts["status"] = message["status"]
            elif message["type"] == "http.response.body":
                counts["out"] += len(message.get("body", b""))
            await send(message)

        m = self.metrics
        m.in_flight.labels(handler).inc()
        start = time.perf_counter()
        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            m.in_flight.labels(handler).dec()
            m.duration.labels(handler, method).observe(time.perf_counter() - start)
            m.requests.labels(handler, method, str(counts["status"] or 500)).inc()
            m.bytes_in.labels(handler, method).inc(counts["in"])
            m.bytes_out.labels(handler, method).inc(counts["out"])


def render(registry: CollectorRegistry | None = None) -> tuple[bytes, str]:
    """The Prometheus text exposition and its content type; with
    ``PROMETHEUS_MULTIPROC_DIR`` set, the sum over every worker process."""
    if registry is None:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            registry.register(UsageCollector())
        else:
            registry = REGISTRY
            _register_usage_once()
    return generate_latest(registry), CONTENT_TYPE_LATEST


_usage_registered = False


def _register_usage_once() -> None:
    global _usage_registered
    if not _usage_registered:
        REGISTRY.register(UsageCollector())
        _usage_registered = True
