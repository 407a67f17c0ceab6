"""An embedded registry with the ``notifications`` section: events reach an endpoint."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import pyregistry


class _Receiver(BaseHTTPRequestHandler):
    envelopes: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).envelopes.append(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A webhook endpoint on loopback; yields its URL and the envelopes it received."""
    envelopes: list[dict[str, Any]] = []
    handler = type("Receiver", (_Receiver,), {"envelopes": envelopes})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/events", envelopes
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_push_events_reach_the_endpoint(
    receiver: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, envelopes = receiver
    notifications = {
        "endpoints": [{"name": "tests", "url": url, "timeout": "2s", "backoff": "100ms"}]
    }
    with pyregistry.serve(notifications=notifications) as reg:
        queue = Path(reg.config.notifications["queue"]["directory"])
        assert queue.is_dir() and not queue.is_relative_to(Path.cwd())
        digest = reg.push_random_image("events/app", "v1", layers=1)
        deadline = time.monotonic() + 15
        pushed: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not pushed:
            events = [event for envelope in envelopes for event in envelope["events"]]
            pushed = [
                e for e in events if e["action"] == "push" and e["target"].get("digest") == digest
            ]
            time.sleep(0.05)
        assert pushed, f"no manifest push event for {digest}; got {envelopes!r}"
        assert pushed[0]["target"]["repository"] == "events/app"
        assert pushed[0]["target"]["tag"] == "v1"
    assert not queue.exists()  # the private queue directory goes with the registry
