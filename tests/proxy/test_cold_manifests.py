"""A cold manifest is answered as soon as it is fetched and verified, and stored after:
the client does not wait for the copy's sync (a few milliseconds per pull on a real disk,
twice per image: the manifest, then its tag), the pulls that follow at once (a GET by
digest after a HEAD by tag) are served from the fetch in memory, without a second
upstream GET, and the copy is kept however the client leaves. Checked over real sockets
against a scripted upstream, with the storage's manifest writes slowed down."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from storage_drivers.filesystem import FilesystemDriver
from tests.proxy.conftest import MirrorFactory
from tests.proxy.scripted_upstream import ScriptedUpstream
from tests.support.server import run_server

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": "sha256:" + "a" * 64,
            "size": 2,
        },
        "layers": [],
    }
).encode()
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
#: How long each write of the cache's manifests and tags is made to take.
SLOW_STORE_SECONDS = 3.0
ACCEPT = {"Accept": OCI_MANIFEST}


@pytest.fixture
def slow_manifest_writes(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Every write under a repository's ``_manifests`` waits SLOW_STORE_SECONDS; the event
    is set once such a write has finished."""
    written = threading.Event()
    real = FilesystemDriver.put_contents

    async def slow(self: FilesystemDriver, contents: Mapping[str, bytes]) -> None:
        slowed = any("/_manifests/" in path for path in contents)
        if slowed:
            await asyncio.sleep(SLOW_STORE_SECONDS)
        await real(self, contents)
        if slowed:
            written.set()

    monkeypatch.setattr(FilesystemDriver, "put_contents", slow)
    return written


@contextlib.contextmanager
def _mirror(
    start_mirror: MirrorFactory, root: Path, **options: Any
) -> Iterator[tuple[ScriptedUpstream, str, str]]:
    """A scripted upstream with MANIFEST (tag ``v1``), the manifests URL of its
    repository through a mirror stored at ``root``, and the upstream's URL."""
    upstream = ScriptedUpstream(
        {}, {DIGEST: (OCI_MANIFEST, MANIFEST)}, tags={"v1": DIGEST}, **options
    )
    with run_server(upstream) as upstream_url:
        mirror = start_mirror(root, mirrors=[{"prefix": "up", "url": upstream_url}])
        yield upstream, f"{mirror}/v2/up/team/app/manifests", upstream_url


def _timed(method: str, url: str, **options: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.request(method, url, headers=ACCEPT, timeout=30, **options)
    return response, time.monotonic() - started


def _wait_stored(root: Path, written: threading.Event) -> None:
    assert written.wait(30), "the manifest was never stored"
    links = root / "docker/registry/v2/repositories/up/team/app/_manifests"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if (links / "tags/v1/current/link").exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"the tag was never stored under {links}")


def test_cold_tag_is_answered_before_the_copy_is_stored(
    start_mirror: MirrorFactory, tmp_path: Path, slow_manifest_writes: threading.Event
) -> None:
    root = tmp_path / "mirror"
    with _mirror(start_mirror, root, send_seconds=0.01) as (upstream, base, _):
        head, elapsed = _timed("HEAD", f"{base}/v1")
        assert head.status_code == 200, head.text
        assert head.headers["docker-content-digest"] == DIGEST
        assert elapsed < SLOW_STORE_SECONDS, f"the HEAD waited {elapsed:.1f}s for the store"
        # the client's next request, while the copy is still being stored: served from
        # the fetch, not fetched again
        got, elapsed = _timed("GET", f"{base}/{DIGEST}")
        assert got.status_code == 200 and got.content == MANIFEST
        assert elapsed < SLOW_STORE_SECONDS, f"the GET waited {elapsed:.1f}s for the store"
        assert not slow_manifest_writes.is_set(), "stored before the answers: not a test"
        assert upstream.fetches[DIGEST] == 1
        # stored all the same: with the upstream gone, the tag and manifest are served
        _wait_stored(root, slow_manifest_writes)
        upstream.manifests.clear()
        assert httpx.get(f"{base}/v1", headers=ACCEPT, timeout=30).content == MANIFEST
        assert httpx.get(f"{base}/{DIGEST}", headers=ACCEPT, timeout=30).content == MANIFEST
        assert upstream.fetches[DIGEST] == 1


def test_a_pull_that_hangs_up_still_caches_the_manifest(
    start_mirror: MirrorFactory, tmp_path: Path
) -> None:
    root = tmp_path / "mirror"
    with _mirror(start_mirror, root, send_seconds=1.5) as (upstream, base, _):
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{base}/{DIGEST}", headers=ACCEPT, timeout=0.3)
        revision = (
            root / "docker/registry/v2/repositories/up/team/app/_manifests/revisions"
            f"/sha256/{DIGEST.split(':', 1)[1]}/link"
        )
        deadline = time.monotonic() + 30
        while not revision.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert revision.exists(), "the fetch stopped with its client"
        upstream.manifests.clear()
        assert httpx.get(f"{base}/{DIGEST}", headers=ACCEPT, timeout=30).content == MANIFEST
        assert upstream.fetches[DIGEST] == 1


def test_another_instance_waits_for_the_store_instead_of_fetching(
    start_mirror: MirrorFactory, tmp_path: Path, slow_manifest_writes: threading.Event
) -> None:
    """Two mirrors on one storage (as two workers are): the second is asked for the
    manifest the first has answered and is still storing. It waits for the first's fetch
    lease and serves the stored copy: the upstream is asked once."""
    root = tmp_path / "mirror"
    with _mirror(start_mirror, root, send_seconds=0.01) as (upstream, base, upstream_url):
        other = start_mirror(root, mirrors=[{"prefix": "up", "url": upstream_url}])
        head, elapsed = _timed("HEAD", f"{base}/v1")
        assert head.status_code == 200 and elapsed < SLOW_STORE_SECONDS
        got, _ = _timed("GET", f"{other}/v2/up/team/app/manifests/{DIGEST}")
        assert got.status_code == 200 and got.content == MANIFEST
        assert slow_manifest_writes.is_set(), "served before the first one stored it"
        assert upstream.fetches[DIGEST] == 1
