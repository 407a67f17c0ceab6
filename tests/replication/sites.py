"""Registries for replication tests: real pyregistry apps on loopback (filesystem
storage), each behind a counter of the requests it answered, so tests can show that
nothing loops and nothing is copied twice."""

from __future__ import annotations

import collections
import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from starlette.types import ASGIApp, Receive, Scope, Send

from pyregistry.app import create_app
from pyregistry.config import load_config
from tests.support.server import run_server


class RequestCounter:
    """Pure ASGI: counts ``METHOD kind`` (``PUT manifests``, ``POST uploads``...)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.counts: collections.Counter[str] = collections.Counter()
        self.agents: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            parts = scope["path"].split("/")
            kind = next((p for p in ("manifests", "uploads", "blobs") if p in parts), "other")
            self.counts[f"{scope['method']} {kind}"] += 1
            headers = dict(scope.get("headers") or [])
            if scope["method"] in ("PUT", "DELETE") and kind == "manifests":
                self.agents.append(headers.get(b"user-agent", b"").decode())
        await self.app(scope, receive, send)


@dataclass
class Site:
    name: str
    url: str
    root: Path
    counter: RequestCounter
    app: Any = field(repr=False, default=None)

    @property
    def host(self) -> str:
        return self.url.removeprefix("http://")


def site_config(root: Path, name: str, replication: dict[str, Any] | None) -> Path:
    document: dict[str, Any] = {
        "version": "0.1",
        "storage": {
            "filesystem": {"rootdirectory": str(root / "data")},
            "delete": {"enabled": True},
        },
        "http": {"addr": "127.0.0.1:0"},
    }
    if replication:
        document["replication"] = {"id": name, "queue": {"poll": "100ms"}, **replication}
    root.mkdir(parents=True, exist_ok=True)
    path = root / "config.yml"
    path.write_text(yaml.safe_dump(document))
    return path


@contextlib.contextmanager
def serve_site(root: Path, name: str, replication: dict[str, Any] | None = None) -> Iterator[Site]:
    """A registry named ``name`` storing under ``root``, with ``replication`` settings."""
    app = create_app(load_config(str(site_config(root, name, replication))))
    counter = RequestCounter(app)
    with run_server(counter) as url:
        yield Site(name, url, root, counter, app)


def push_to(name: str, url: str, *, deletes: bool = True, **policy: Any) -> dict[str, Any]:
    """A replication section pushing everything to ``url`` (a target named ``name``)."""
    return {
        "targets": [{"name": name, "url": url}],
        "policies": [{"name": f"to-{name}", "target": name, "deletes": deletes, **policy}],
    }


def wait_until(check: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    """Poll ``check`` until it returns something truthy; its value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}: last {last!r}")
