"""The notification events the documentation shows (README.md, docs/notifications.md)
have exactly the fields of an event the registry sends for the same thing: a manifest
pushed by tag, by a logged-in user (with ``includereferences`` where the example lists
references)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import pyregistry
from tests.docs.blocks import Block, of_kind


def event_examples() -> list[Block]:
    return [b for b in of_kind("json") if '"events"' in b.text and '"action"' in b.text]


def shape(value: Any, path: str = "") -> set[str]:
    """Every key path in ``value`` (a list counts as its first element)."""
    if isinstance(value, dict):
        paths = set()
        for key, item in value.items():
            paths |= {f"{path}.{key}"} | shape(item, f"{path}.{key}")
        return paths
    if isinstance(value, list) and value:
        return shape(value[0], f"{path}[]")
    return set()


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received.extend(json.loads(body)["events"])
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/event", received
    server.shutdown()
    server.server_close()


def sent_event(url: str, received: list[dict[str, Any]], references: bool) -> dict[str, Any]:
    """The event for a manifest pushed by tag by alice, as the registry sent it."""
    received.clear()
    auth = {"token": {"service": "docs", "issuer": "docs", "issue": {}}}
    notifications = {
        "events": {"includereferences": references},
        "endpoints": [{"name": "docs", "url": url, "timeout": "2s", "backoff": "100ms"}],
    }
    with pyregistry.serve(
        auth=auth, notifications=notifications, credentials=("alice", "secret")
    ) as reg:
        digest = reg.push_random_image("team/app", "v1", layers=1)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            pushed = [
                e for e in received if e["action"] == "push" and e["target"].get("digest") == digest
            ]
            if pushed:
                return pushed[0]
            time.sleep(0.05)
    raise AssertionError(f"no manifest push event arrived; got {received!r}")


@pytest.mark.parametrize("block", event_examples(), ids=[b.name for b in event_examples()])
def test_event_example_has_the_fields_the_registry_sends(
    block: Block, receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    documented = json.loads(block.text)["events"][0]
    references = "references" in documented["target"]
    sent = sent_event(*receiver, references=references)
    assert shape(documented) == shape(sent), (
        f"{block.name}: only in the example {sorted(shape(documented) - shape(sent))}, "
        f"only in the event {sorted(shape(sent) - shape(documented))}"
    )
