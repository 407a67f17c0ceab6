"""Fixtures for the notification tests: receivers and registries that notify them."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pyregistry.app import create_app
from pyregistry.config.model import Config, StorageConfig, typed_section
from pyregistry.notifications import Notifier
from tests.notifications.receiver import Behaviour, Receiver
from tests.support.server import run_server

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


def endpoint(receiver: Receiver, name: str = "receiver", **options: Any) -> dict[str, Any]:
    """An endpoint entry for ``receiver`` with quick test timings."""
    entry: dict[str, Any] = {
        "name": name,
        "url": receiver.url,
        "timeout": "2s",
        "threshold": 3,
        "backoff": "200ms",
    }
    entry.update(options)
    return entry


def notifying_config(
    storage_root: Path,
    queue_dir: Path,
    endpoints: list[dict[str, Any]],
    **notifications: Any,
) -> Config:
    """A filesystem registry (deletes on) notifying ``endpoints``."""
    section: dict[str, Any] = {"endpoints": endpoints, "queue": {"directory": str(queue_dir)}}
    section.update(notifications)
    return Config(
        storage=StorageConfig(
            driver="filesystem",
            parameters={"rootdirectory": str(storage_root)},
            delete_enabled=True,
        ),
        notifications=typed_section("notifications", section),
    )


def notifying_app(config: Config) -> Any:
    """The registry app as ``pyregistry serve`` builds it: ``create_app`` wires the
    notifier itself."""
    app = create_app(config)
    sink = app.state.notifier
    assert isinstance(sink, Notifier), "the app has no notifier"
    return app


@contextlib.contextmanager
def serve(config: Config) -> Iterator[str]:
    with run_server(notifying_app(config)) as url:
        yield url


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver(Behaviour()).start()
    try:
        yield rec
    finally:
        rec.stop()


# -- pushing through the HTTP API -------------------------------------------------------


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_blob(client: httpx.Client, name: str, data: bytes) -> str:
    """POST, then PUT the whole blob: one blob push event."""
    digest = digest_of(data)
    start = client.post(f"/v2/{name}/blobs/uploads/")
    assert start.status_code == 202, start.text
    done = client.put(start.headers["location"], params={"digest": digest}, content=data)
    assert done.status_code == 201, done.text
    return digest


def image(config: bytes, layers: list[bytes]) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": digest_of(config), "size": len(config)},
            "layers": [
                {"mediaType": OCI_LAYER, "digest": digest_of(layer), "size": len(layer)}
                for layer in layers
            ],
        }
    ).encode()


def push_image(
    client: httpx.Client, name: str, reference: str, *, seed: str = "x", layers: int = 2
) -> tuple[str, list[str], bytes]:
    """Config and layers, then the manifest at ``reference``: returns (manifest digest,
    blob digests in push order, manifest bytes)."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
    blobs = [f"{seed}-layer-{i}".encode() * 50 for i in range(layers)]
    digests = [push_blob(client, name, blob) for blob in [config, *blobs]]
    manifest = image(config, blobs)
    put = client.put(
        f"/v2/{name}/manifests/{reference}",
        content=manifest,
        headers={"Content-Type": OCI_MANIFEST},
    )
    assert put.status_code == 201, put.text
    return put.headers["docker-content-digest"], digests, manifest
