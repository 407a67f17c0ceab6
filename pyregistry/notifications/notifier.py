"""The API's event sink for webhooks: build the event, queue it durably per endpoint,
let each endpoint's task deliver it.

``emit`` returns once the event is committed to the queue, so the request that caused it
is answered only after its event is safe; it never waits for an endpoint.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from pyregistry.debug import expvar
from pyregistry.notifications.config import EndpointConfig, NotificationsConfig
from pyregistry.notifications.delivery import EndpointDelivery
from pyregistry.notifications.events import EventBuilder
from pyregistry.notifications.metrics import EndpointMetrics, PrometheusFamilies, default_families
from pyregistry.notifications.queue import EventQueue

log = logging.getLogger("pyregistry.notifications")

#: Where ``/debug/vars`` shows the endpoints (distribution: ``registry.notifications``).
VARS_NAME = "registry.notifications"
_SECRET_HEADER = re.compile(r"authorization|cookie|token|secret|password|key", re.IGNORECASE)


class Notifier:
    """An :class:`~pyregistry.events.EventSink` posting events to webhook endpoints."""

    def __init__(
        self,
        settings: NotificationsConfig,
        builder: EventBuilder,
        queue: EventQueue,
        *,
        families: PrometheusFamilies | None = None,
    ) -> None:
        self.settings = settings
        self.builder = builder
        self.queue = queue
        families = families or default_families()
        self.metrics = {ep.name: EndpointMetrics(ep.name, families) for ep in settings.endpoints}
        self.deliveries = {
            ep.name: EndpointDelivery(ep, queue, self.metrics[ep.name]) for ep in settings.endpoints
        }
        self._started = False
        self._closed = False
        self._batch: list[tuple[list[tuple[str, dict[str, Any]]], asyncio.Future[dict[str, int]]]]
        self._batch = []
        self._flusher: asyncio.Task[None] | None = None

    @property
    def endpoints(self) -> tuple[EndpointConfig, ...]:
        return self.settings.endpoints

    async def emit(self, event_kind: str, **details: Any) -> None:
        """Queue the event(s) for every endpoint whose ignore rules let them through."""
        events = await self.builder.build(event_kind, details)
        rows = [(ep.name, event) for event in events for ep in self.endpoints if ep.wants(event)]
        if not rows:
            return
        pending = await self._append(rows)
        for name, count in pending.items():
            metrics = self.metrics[name]
            metrics.queued(sum(1 for row_name, _ in rows if row_name == name))
            metrics.set_pending(count)
            self.deliveries[name].wake()

    async def _append(self, rows: list[tuple[str, dict[str, Any]]]) -> dict[str, int]:
        """Queue ``rows``, sharing one disk sync with the emits made meanwhile (group
        commit): concurrent requests each wait for one sync, not for each other's."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[dict[str, int]] = loop.create_future()
        self._batch.append((rows, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush())
        return await asyncio.shield(done)

    async def _flush(self) -> None:
        while self._batch:
            batch, self._batch = self._batch, []
            rows = [row for part, _ in batch for row in part]
            try:
                pending = await asyncio.to_thread(self.queue.append, rows)
            except Exception as exc:  # noqa: BLE001 - handed to every waiting emit
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(pending)

    async def start(self) -> None:
        """Start delivering (in the serving event loop) and publish ``/debug/vars``."""
        if self._started:
            return
        self._started = True
        for ep in self.endpoints:
            log.info(
                f"notifications: configuring endpoint {ep.name} ({ep.url}), "
                f"timeout={ep.timeout:g}s, threshold={ep.threshold}, backoff={ep.backoff:g}s, "
                f"headers={redact(ep.headers)}"
            )
        for name in self.settings.disabled:
            log.info(f"notifications: endpoint {name} disabled, skipping")
        pending = await asyncio.to_thread(self.queue.pending_by_endpoint)
        for name, count in sorted(pending.items()):
            if name in self.metrics:
                self.metrics[name].set_pending(count)
            else:
                log.warning(
                    f"notifications: {count} events queued for endpoint {name!r}, which is not "
                    "configured (or disabled): they stay in the queue until it is again"
                )
        for delivery in self.deliveries.values():
            delivery.start()
        expvar.publish(VARS_NAME, self.vars)

    async def stop(self) -> None:
        """Stop delivering; undelivered events stay queued for the next start."""
        if self._closed:
            return
        self._closed = True
        expvar.unpublish(VARS_NAME)
        await asyncio.gather(*(d.stop() for d in self.deliveries.values()))
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        await asyncio.to_thread(self.queue.close)

    def vars(self) -> dict[str, Any]:
        """distribution's ``/debug/vars`` shape: ``{"endpoints": [...]}``."""
        pending = self.queue.pending_by_endpoint() if not self._closed else {}
        return {
            "endpoints": [
                {
                    "name": ep.name,
                    "url": ep.url,
                    "Headers": redact(ep.headers) or None,
                    "Timeout": round(ep.timeout * 1e9),
                    "Threshold": ep.threshold,
                    "Backoff": round(ep.backoff * 1e9),
                    "IgnoredMediaTypes": sorted(ep.ignored_media_types) or None,
                    "Ignore": {
                        "MediaTypes": sorted(ep.ignored_media_types) or None,
                        "Actions": sorted(ep.ignored_actions) or None,
                    },
                    "Metrics": self.metrics[ep.name].snapshot(pending.get(ep.name, 0)),
                }
                for ep in self.endpoints
            ],
            "queue": {"path": self.queue.path, "pending": pending},
        }


def redact(headers: dict[str, list[str]]) -> dict[str, list[str]]:
    """Header values that look like credentials, hidden from logs and ``/debug/vars``."""
    return {
        name: ["<redacted>"] * len(values) if _SECRET_HEADER.search(name) else list(values)
        for name, values in headers.items()
    }
