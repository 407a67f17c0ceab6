"""What a cold blob costs upstream, counted by a real upstream server over a socket: a
GET through the mirror is one upstream GET (its response head gives the size: no HEAD
first, a round trip per layer over a WAN link), a HEAD is one upstream HEAD (nothing
fetched), a range of a cold blob (or several) fetches and stores it whole and serves the
range, and the upstream's 404 and 429 come back as BLOB_UNKNOWN and TOOMANYREQUESTS."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from storage_drivers.filesystem import FilesystemDriver
from tests.api.helpers import byteranges
from tests.proxy.conftest import MirrorFactory
from tests.proxy.scripted_upstream import ScriptedUpstream
from tests.support.server import run_server

BLOB = random.Random("cold-requests").randbytes(3 * 1024 * 1024 + 5)
DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()
#: How long the stored copy's commit is made to take.
SLOW_COMMIT_SECONDS = 3.0


@contextlib.contextmanager
def _cold(
    start_mirror: MirrorFactory, digest: str = DIGEST, **options: Any
) -> Iterator[tuple[ScriptedUpstream, str]]:
    """An upstream serving BLOB (``options`` as ScriptedUpstream takes them) and the URL
    of ``digest`` through a fresh mirror of it."""
    upstream = ScriptedUpstream({DIGEST: BLOB}, **{"send_seconds": 0.05, **options})
    with run_server(upstream) as upstream_url:
        mirror = start_mirror(mirrors=[{"prefix": "up", "url": upstream_url}])
        yield upstream, f"{mirror}/v2/up/team/app/blobs/{digest}"


def _blob_requests(upstream: ScriptedUpstream) -> list[tuple[str, str]]:
    return [r for r in upstream.requests if r[1] == DIGEST]


def test_cold_get_is_one_upstream_get(start_mirror: MirrorFactory) -> None:
    with _cold(start_mirror) as (upstream, url):
        response = httpx.get(url, timeout=30)
        assert response.status_code == 200
        assert response.headers["content-length"] == str(len(BLOB))
        assert response.content == BLOB
        assert _blob_requests(upstream) == [("GET", DIGEST)]
        # cached now: neither a HEAD nor a GET goes upstream
        assert httpx.head(url, timeout=30).headers["content-length"] == str(len(BLOB))
        assert httpx.get(url, timeout=30).content == BLOB
        assert _blob_requests(upstream) == [("GET", DIGEST)]


def test_cold_head_is_one_upstream_head(start_mirror: MirrorFactory) -> None:
    with _cold(start_mirror) as (upstream, url):
        response = httpx.head(url, timeout=30)
        assert response.status_code == 200
        assert response.headers["content-length"] == str(len(BLOB))
        assert _blob_requests(upstream) == [("HEAD", DIGEST)]


def test_cold_range_fetches_whole_and_serves_the_range(start_mirror: MirrorFactory) -> None:
    with _cold(start_mirror) as (upstream, url):
        start, end = 1024 * 1024 - 3, 2 * 1024 * 1024 + 9  # across two pieces
        response = httpx.get(url, headers={"Range": f"bytes={start}-{end}"}, timeout=30)
        assert response.status_code == 206
        assert response.headers["content-range"] == f"bytes {start}-{end}/{len(BLOB)}"
        assert response.content == BLOB[start : end + 1]
        tail = httpx.get(url, headers={"Range": "bytes=-4"}, timeout=30)  # from the cache
        assert tail.status_code == 206
        assert tail.content == BLOB[-4:]
        too_far = httpx.get(url, headers={"Range": f"bytes={len(BLOB)}-"}, timeout=30)
        assert too_far.status_code == 416
        assert _blob_requests(upstream) == [("GET", DIGEST)]


def test_cold_ranges_fetch_once_and_come_back_in_order(start_mirror: MirrorFactory) -> None:
    """Several ranges of a cold blob (a partial pull of containers/storage asks so): the
    first part comes from the fetch, the others from the copy it stored, so the
    upstream still sees one GET."""
    with _cold(start_mirror) as (upstream, url):
        far, size = 2 * 1024 * 1024 + 7, len(BLOB)
        header = f"bytes={far}-{far + 9},0-4,-3"
        response = httpx.get(url, headers={"Range": header}, timeout=30)
        assert response.status_code == 206
        assert byteranges(response) == [
            (f"bytes {far}-{far + 9}/{size}", BLOB[far : far + 10]),
            (f"bytes 0-4/{size}", BLOB[:5]),
            (f"bytes {size - 3}-{size - 1}/{size}", BLOB[-3:]),
        ]
        assert _blob_requests(upstream) == [("GET", DIGEST)]


def test_upstream_without_content_length_is_asked_for_the_size(
    start_mirror: MirrorFactory,
) -> None:
    """An upstream whose GET announces no length costs a HEAD as well (the client's
    response head needs the size before the bytes). (The client's raw reader gives up
    on such a body and GETs it again through httpx: not counted here.)"""
    with _cold(start_mirror, chunked=True) as (upstream, url):
        response = httpx.get(url, timeout=30)
        assert response.status_code == 200
        assert response.content == BLOB
        requests = _blob_requests(upstream)
        assert requests.count(("HEAD", DIGEST)) == 1
        assert httpx.get(url, timeout=30).content == BLOB  # cached: nothing upstream
        assert _blob_requests(upstream) == requests


def test_cold_get_errors_come_back_as_oci_errors(start_mirror: MirrorFactory) -> None:
    missing = "sha256:" + "0" * 64
    with _cold(start_mirror, missing) as (upstream, url):
        response = httpx.get(url, timeout=30)
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "BLOB_UNKNOWN"
        assert [r for r in upstream.requests if r[1] == missing] == [("GET", missing)]
    with _cold(start_mirror, retry_after="7") as (_, url):
        response = httpx.get(url, timeout=30)
        assert response.status_code == 429
        assert response.json()["errors"][0]["code"] == "TOOMANYREQUESTS"
        assert response.headers["retry-after"] == "7"


def test_cold_get_ends_without_waiting_for_the_copy_to_be_synced(
    start_mirror: MirrorFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client's last bytes wait for the digest check, not for the stored copy's sync
    and move into the blob store (half a second for 256 MiB on a slow disk: a cold pull
    over a fast link ran at 0.83 of a direct one while they did)."""
    committing = threading.Event()
    real_publish = FilesystemDriver.publish

    async def slow_publish(self: FilesystemDriver, *args: Any, **kwargs: Any) -> None:
        committing.set()
        await asyncio.sleep(SLOW_COMMIT_SECONDS)
        await real_publish(self, *args, **kwargs)

    monkeypatch.setattr(FilesystemDriver, "publish", slow_publish)
    with _cold(start_mirror) as (upstream, url):
        started = time.monotonic()
        response = httpx.get(url, timeout=30)
        elapsed = time.monotonic() - started
        assert response.status_code == 200 and response.content == BLOB
        assert elapsed < SLOW_COMMIT_SECONDS, f"the GET waited {elapsed:.1f}s for the commit"
        assert committing.wait(30), "the copy was never committed"
        # the copy is stored all the same: the next GET waits for the fetch's commit and is
        # served from storage, without the upstream
        assert httpx.get(url, timeout=30).content == BLOB
        assert _blob_requests(upstream) == [("GET", DIGEST)]
