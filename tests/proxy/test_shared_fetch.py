"""Two mirror instances (separate processes) on one storage, asked at once for the same
uncached blob and manifest, fetch each from the upstream once: the other waits for the
first to commit and serves it from storage. The upstream is a real server that sends
slowly and counts the fetches. One run per fetch lease backend, chosen by configuration
as a deployment chooses it: the filesystem's flock, Redis, and (S3 without Redis) the
lease object in storage."""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import random
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.proxy.scripted_upstream import ScriptedUpstream
from tests.support.registry_process import RegistryProcess, free_port, write_config
from tests.support.server import run_server

BLOB = random.Random("shared-fetch").randbytes(3 * 1024 * 1024)
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": "sha256:" + hashlib.sha256(BLOB).hexdigest(),
            "size": len(BLOB),
        },
        "layers": [],
    }
).encode()
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _storage(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, Any]:
    if backend == "s3-storage-lease":
        server = request.getfixturevalue("moto_server")
        return {"s3": server.driver_parameters(f"/mirror-{uuid.uuid4().hex[:12]}")}
    return {"filesystem": {"rootdirectory": str(tmp_path / "shared")}}


@pytest.mark.parametrize("backend", ["flock", "redis", "s3-storage-lease"])
def test_two_instances_fetch_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    blob, manifest = _digest(BLOB), _digest(MANIFEST)
    upstream = ScriptedUpstream({blob: BLOB}, {manifest: (MANIFEST_TYPE, MANIFEST)})
    sections: dict[str, Any] = {"storage": _storage(backend, tmp_path, request)}
    if backend == "redis":  # the fetch lease is a Redis key then
        sections["redis"] = {"addr": request.getfixturevalue("redis_server").addr}
    with run_server(upstream) as upstream_url:
        sections["mirrors"] = [{"prefix": "up", "url": upstream_url}]
        instances = []
        for i in range(2):
            port = free_port()
            directory = tmp_path / f"instance-{i}"
            directory.mkdir()
            config = write_config(directory, port, **sections)
            instances.append(RegistryProcess(["serve", str(config)], port=port))
        with instances[0], instances[1]:
            bases = [f"http://127.0.0.1:{p.port}/v2/up/team/app" for p in instances]
            urls = [f"{b}/blobs/{blob}" for b in bases] + [
                f"{b}/manifests/{manifest}" for b in bases
            ]
            headers = {"Accept": MANIFEST_TYPE}

            def get(url: str) -> httpx.Response:
                # a pull that waited for the other's fetch may be redirected to the
                # stored copy (S3), as any pull of a cached blob is
                return httpx.get(url, headers=headers, timeout=30, follow_redirects=True)

            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                bodies = list(pool.map(get, urls * 2))
            assert [r.status_code for r in bodies] == [200] * 8
            assert [r.content for r in bodies] == [BLOB, BLOB, MANIFEST, MANIFEST] * 2
            # once cached, both serve them from storage
            assert httpx.get(urls[1], timeout=30, follow_redirects=True).content == BLOB
            assert httpx.get(urls[2], headers=headers, timeout=30).content == MANIFEST
    assert upstream.fetches == {blob: 1, manifest: 1}
