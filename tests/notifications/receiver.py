"""A real webhook receiver on loopback, for the notification tests.

It records every request (arrival time, headers, parsed envelope, status it answered) and
can misbehave on purpose: answer 500 to its first N requests, hang on its first M requests
for a while, or be stopped and started again on the same port (an endpoint that is down).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Attempt:
    """One request the receiver got."""

    at: float  # time.monotonic() on arrival
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what it answered; 0 while it has not (or when it hung)

    @property
    def events(self) -> list[dict[str, Any]]:
        envelope = json.loads(self.body)
        events: list[dict[str, Any]] = envelope["events"]
        return events

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 400


@dataclass
class Behaviour:
    fail_first: int = 0
    fail_status: int = 500
    hang_first: int = 0
    hang_seconds: float = 0.0
    status: int = 200


@dataclass
class Receiver:
    """Start with :meth:`start`; ``url`` stays the same across :meth:`stop`/:meth:`start`."""

    behaviour: Behaviour = field(default_factory=Behaviour)
    attempts: list[Attempt] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _release: threading.Event = field(default_factory=threading.Event)
    _seen: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/callback"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's naming
                arrived = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status = receiver._decide()
                attempt = Attempt(arrived, self.path, dict(self.headers.items()), body, 0)
                with receiver._lock:
                    receiver.attempts.append(attempt)
                if status is None:
                    # hang; whatever comes after is too late to count (status stays 0)
                    receiver._release.wait(receiver.behaviour.hang_seconds)
                    status = receiver.behaviour.status
                else:
                    attempt.status = status
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the registry gave up on this attempt (timeout)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._release.clear()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _decide(self) -> int | None:
        """The status for the next request (None: hang first)."""
        with self._lock:
            self._seen += 1
            n = self._seen
        b = self.behaviour
        if n <= b.hang_first:
            return None
        if n <= b.hang_first + b.fail_first:
            return b.fail_status
        return b.status

    # -- reading what arrived -----------------------------------------------------------

    def snapshot(self) -> list[Attempt]:
        with self._lock:
            return list(self.attempts)

    def delivered(self) -> list[dict[str, Any]]:
        """Events from accepted requests, in arrival order."""
        return [event for a in self.snapshot() if a.accepted for event in a.events]

    def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 20.0
    ) -> list[dict[str, Any]]:
        """Poll until ``predicate(delivered events)`` holds; fail with what did arrive."""
        deadline = time.monotonic() + timeout
        while True:
            events = self.delivered()
            if predicate(events):
                return events
            if time.monotonic() > deadline:
                summary = [(e["action"], e["target"].get("digest", e["target"])) for e in events]
                raise AssertionError(f"receiver did not get the expected events: {summary}")
            time.sleep(0.05)

    def wait_count(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        return self.wait_for(lambda events: len(events) >= count, timeout)
