"""Looking into an index database from the test process (read-only), and pushing through
any httpx client, so tests can see that the index, not storage, answered."""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from pyregistry.index.files import read_pointer
from tests.api.helpers import OCI_MANIFEST, digest_of, image_manifest


@dataclass
class IndexView:
    """What the current database of an index directory holds right now."""

    ready: bool
    intents: int
    dirty: list[str]
    repositories: list[str]
    tags: dict[str, list[str]]


def index_directory(root: Path) -> Path:
    """Where a filesystem registry at ``root`` keeps its index by default."""
    return root / "_pyregistry" / "index"


def view(directory: Path) -> IndexView | None:
    """None while there is no current database."""
    name = read_pointer(str(directory))
    if name is None or not (directory / name).exists():
        return None
    with sqlite3.connect(f"file:{directory / name}?mode=ro", uri=True) as db:
        ready = db.execute("SELECT value FROM meta WHERE key = 'ready'").fetchone()[0] == "1"
        intents = db.execute("SELECT COUNT(*) FROM intents").fetchone()[0]
        dirty = [r[0] for r in db.execute("SELECT name FROM repositories WHERE dirty = 1")]
        repositories = [
            r[0] for r in db.execute("SELECT name FROM repositories WHERE present = 1 ORDER BY key")
        ]
        tags: dict[str, list[str]] = {}
        for repository, tag in db.execute("SELECT repository, tag FROM tags ORDER BY tag"):
            tags.setdefault(repository, []).append(bytes(tag).decode())
    return IndexView(ready, intents, dirty, repositories, tags)


def wait_until(directory: Path, condition: str, timeout: float = 20.0) -> IndexView:
    """Poll until ``condition`` ("ready" or "clean": ready, no intents, nothing dirty)."""
    deadline = time.monotonic() + timeout
    current = None
    while time.monotonic() < deadline:
        try:
            current = view(directory)
        except sqlite3.Error:
            current = None
        settled = condition == "ready" or (
            current is not None and not current.intents and not current.dirty
        )
        if current is not None and current.ready and settled:
            return current
        time.sleep(0.05)
    raise AssertionError(f"index in {directory} not {condition} after {timeout}s: {current}")


def push_blob(client: httpx.Client, name: str, data: bytes) -> None:
    """POST then PUT, keeping the query the upload URL carries (distribution's state)."""
    start = client.post(f"/v2/{name}/blobs/uploads/")
    assert start.status_code == 202, start.text
    location = httpx.URL(start.headers["location"])
    done = client.put(
        location.copy_merge_params({"digest": digest_of(data)}),
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert done.status_code == 201, done.text


def push_tagged(client: httpx.Client, name: str, tags: list[str], seed: str) -> str:
    """One small image under ``tags``; its manifest digest."""
    config = f'{{"seed": "{seed}"}}'.encode()
    layer = os.urandom(64)
    push_blob(client, name, config)
    push_blob(client, name, layer)
    manifest = image_manifest(config, [layer])
    digest = ""
    for tag in tags:
        put = client.put(
            f"/v2/{name}/manifests/{tag}",
            content=manifest,
            headers={"Content-Type": OCI_MANIFEST},
        )
        assert put.status_code == 201, put.text
        digest = put.headers["docker-content-digest"]
    return digest
