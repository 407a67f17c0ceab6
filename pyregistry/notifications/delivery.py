"""Delivering one endpoint's queue: one event per request, in order, until accepted.

Retries follow distribution's breaker (go-events ``Breaker``): while fewer than
``threshold`` attempts in a row have failed, the next attempt goes out at once; after
that, each attempt starts no sooner than ``backoff`` after the last failure ended. A
success resets the count. Events are never dropped; the one at the head of the queue is
retried until the endpoint answers 2xx or 3xx (after following redirects).

Each endpoint has its own task, HTTP client and lease, so a slow or dead endpoint holds up
only its own queue; requests to the registry only ever wait for the queue's local write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import httpx

from pyregistry import __version__
from pyregistry.notifications.config import EndpointConfig
from pyregistry.notifications.events import EVENTS_MEDIA_TYPE
from pyregistry.notifications.metrics import EndpointMetrics
from pyregistry.notifications.queue import DeliveryLease, EventQueue, QueuedEvent

log = logging.getLogger("pyregistry.notifications")

#: How often an idle deliverer looks for rows other processes appended.
POLL_INTERVAL = 0.5
#: How often a process without the lease tries to take it over.
LEASE_RETRY = 1.0
#: Pause after an unexpected error in the loop itself (not a delivery failure).
CRASH_PAUSE = 1.0


class Breaker:
    """Consecutive-failure count and when the next attempt may start."""

    def __init__(
        self, threshold: int, backoff: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = threshold
        self.backoff = backoff
        self.clock = clock
        self.failures = 0
        self.last_failure = 0.0

    def delay(self) -> float:
        """Seconds to wait before the next attempt (0: go now)."""
        if self.failures < self.threshold:
            return 0.0
        return max(0.0, self.last_failure + self.backoff - self.clock())

    def success(self) -> None:
        self.failures = 0

    def failure(self) -> None:
        self.failures += 1
        self.last_failure = self.clock()


def envelope(body: str) -> bytes:
    """``{"events": [event]}`` around the stored JSON, byte-identical on every retry."""
    return ('{"events":[' + body + "]}").encode()


class EndpointDelivery:
    """The background task that drains one endpoint's queue."""

    def __init__(self, endpoint: EndpointConfig, queue: EventQueue, metrics: EndpointMetrics):
        self.endpoint = endpoint
        self.queue = queue
        self.metrics = metrics
        self.breaker = Breaker(endpoint.threshold, endpoint.backoff)
        self.lease = DeliveryLease(queue.directory, endpoint.name)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        headers = [("Content-Type", EVENTS_MEDIA_TYPE), ("User-Agent", f"pyregistry/{__version__}")]
        configured = {name.lower() for name in endpoint.headers}
        headers = [(k, v) for k, v in headers if k.lower() not in configured]
        headers += [(name, value) for name, values in endpoint.headers.items() for value in values]
        self._headers = headers

    def wake(self) -> None:
        """New rows were appended in this process: look now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._client = httpx.AsyncClient(
                follow_redirects=True, trust_env=False, timeout=self.endpoint.timeout
            )
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"notifications:{self.endpoint.name}"
            )

    async def stop(self) -> None:
        """Stop at once; an attempt in flight is abandoned and its event stays queued."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.lease.release()
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    async def _run(self) -> None:
        while True:
            try:
                if not self.lease.try_acquire():
                    await asyncio.sleep(LEASE_RETRY)
                    continue
                self._wake.clear()
                batch = await asyncio.to_thread(self.queue.head, self.endpoint.name)
                if not batch:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), POLL_INTERVAL)
                    continue
                for queued in batch:
                    await self._deliver(queued)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(f"notifications: endpoint {self.endpoint.name}: delivery loop error")
                await asyncio.sleep(CRASH_PAUSE)

    async def _deliver(self, queued: QueuedEvent) -> None:
        """Post one event until the endpoint accepts it, then forget it."""
        body = envelope(queued.body)
        while True:
            delay = self.breaker.delay()
            if delay > 0:
                await asyncio.sleep(delay)
            if await self._attempt(body):
                if self.breaker.failures >= self.breaker.threshold:
                    log.info(f"notifications: endpoint {self.endpoint.name} recovered")
                self.breaker.success()
                break
            self.breaker.failure()
            if self.breaker.failures == self.breaker.threshold:
                log.warning(
                    f"notifications: endpoint {self.endpoint.name} failed "
                    f"{self.breaker.failures} times in a row, backing off "
                    f"{self.endpoint.backoff:g}s between attempts"
                )
        await asyncio.to_thread(self.queue.remove, queued.seq)
        self.metrics.set_pending(await asyncio.to_thread(self.queue.pending, self.endpoint.name))

    async def _attempt(self, body: bytes) -> bool:
        """One POST; True when the endpoint answered 2xx or 3xx within ``timeout``."""
        assert self._client is not None
        name, url = self.endpoint.name, self.endpoint.url
        try:
            async with asyncio.timeout(self.endpoint.timeout):
                response = await self._client.post(url, content=body, headers=self._headers)
        except (TimeoutError, httpx.HTTPError, OSError) as exc:
            self.metrics.error()
            reason = str(exc) or type(exc).__name__
            if isinstance(exc, TimeoutError):
                reason = f"no answer within {self.endpoint.timeout:g}s"
            log.debug(f"notifications: endpoint {name}: error posting to {url}: {reason}")
            return False
        status = response.status_code
        if 200 <= status < 400:
            self.metrics.success(status)
            return True
        self.metrics.failure(status)
        log.debug(f"notifications: endpoint {name}: {url} answered {status}")
        return False
