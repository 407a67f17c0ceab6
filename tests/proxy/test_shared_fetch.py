"""Two mirror instances (separate processes) on one storage, asked for the same uncached
blob at once, fetch it from the upstream once: the other waits for the first to commit
and serves it from storage. The upstream is a real server that sends the blob slowly
and counts the fetches."""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import random
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.registry_process import RegistryProcess, free_port, write_config
from tests.support.server import run_server

BLOB = random.Random("shared-fetch").randbytes(3 * 1024 * 1024)
DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()
CHUNK = 64 * 1024
#: The upstream takes about this long to send the blob: the pulls overlap.
SEND_SECONDS = 1.5


class SlowUpstream:
    """A registry that has one blob, sent slowly; counts GETs of it."""

    def __init__(self) -> None:
        self.fetches = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == "/v2/":
            await _answer(send, 200, b"{}")
        elif path.endswith(f"/blobs/{DIGEST}"):
            headers = [
                (b"content-length", str(len(BLOB)).encode()),
                (b"docker-content-digest", DIGEST.encode()),
                (b"content-type", b"application/octet-stream"),
            ]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            if method == "GET":
                self.fetches += 1
                pause = SEND_SECONDS / (len(BLOB) / CHUNK)
                for start in range(0, len(BLOB), CHUNK):
                    await asyncio.sleep(pause)
                    body = BLOB[start : start + CHUNK]
                    more = start + CHUNK < len(BLOB)
                    await send({"type": "http.response.body", "body": body, "more_body": more})
            else:
                await send({"type": "http.response.body", "body": b""})
        else:
            await _answer(send, 404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"no"}]}')


async def _answer(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.mark.parametrize("backend", ["flock", "redis"])
def test_two_instances_fetch_one_blob_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    upstream = SlowUpstream()
    storage = {"filesystem": {"rootdirectory": str(tmp_path / "shared")}}
    sections: dict[str, Any] = {}
    if backend == "redis":  # the fetch lease is a Redis key then
        sections["redis"] = {"addr": request.getfixturevalue("redis_server").addr}
    with run_server(upstream) as upstream_url:
        sections["mirrors"] = [{"prefix": "up", "url": upstream_url}]
        instances = []
        for i in range(2):
            port = free_port()
            directory = tmp_path / f"instance-{i}"
            directory.mkdir()
            config = write_config(directory, port, storage=storage, **sections)
            instances.append(RegistryProcess(["serve", str(config)], port=port))
        with instances[0], instances[1]:
            urls = [f"http://127.0.0.1:{p.port}/v2/up/team/app/blobs/{DIGEST}" for p in instances]
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                bodies = list(pool.map(lambda url: httpx.get(url, timeout=30).content, urls * 2))
            assert all(body == BLOB for body in bodies)
            # once cached, both serve it from storage
            assert httpx.get(urls[1], timeout=30).content == BLOB
    assert upstream.fetches == 1
