"""The lean hot path, through a served registry: API requests skip Starlette's router but
keep every header once, small blobs go out whole, big ones still stream, a delete is seen
at once, and the access log still prints the Combined Log Format line."""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pyregistry.client import RegistryClient
from pyregistry.client.content import build_image
from tests.support.registry_process import RegistryProcess, free_port, write_config

REPO = "hot/path"
BIG = os.urandom(200 * 1024)  # beyond the 64 KiB of a one-piece body


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, RegistryProcess]]:
    tmp: Path = tmp_path_factory.mktemp("hot")
    port = free_port()
    config = write_config(
        tmp,
        port,
        storage={"filesystem": {"rootdirectory": str(tmp / "data")}, "delete": {"enabled": True}},
        http={"headers": {"X-Content-Type-Options": ["nosniff"]}},
        log={"accesslog": {"disabled": False}},
    )
    with RegistryProcess(["serve", str(config), "--workers", "1"], port=port) as proc:
        yield f"http://127.0.0.1:{port}", proc


def test_each_header_once_on_api_answers_and_on_others(
    served: tuple[str, RegistryProcess],
) -> None:
    base, _ = served
    for url, status in (
        (f"{base}/v2/", 200),
        (f"{base}/v2/{REPO}/manifests/nope", 404),
        (f"{base}/v2/Bad..Name/tags/list", 400),
        (f"{base}/v2{REPO}/tags/list", 404),
        (f"{base}/elsewhere", 404),
    ):
        response = httpx.get(url)
        assert response.status_code == status, url
        assert response.headers.get_list("docker-distribution-api-version") == ["registry/2.0"]
        assert response.headers.get_list("x-content-type-options") == ["nosniff"]
        assert response.headers["content-type"].startswith("application/json")


def test_small_and_big_blobs_and_a_manifest_round_trip(
    served: tuple[str, RegistryProcess],
) -> None:
    base, _ = served
    image = build_image(seed="hot-path", layers=1)
    with RegistryClient(base) as client:
        client.push(REPO, image, "v1")
        big = client.push_blob(REPO, BIG)
        layer = image.layer_digests[0]
        small = httpx.get(f"{base}/v2/{REPO}/blobs/{layer}")
        assert small.status_code == 200
        assert small.content == image.layers[0].gzipped
        assert small.headers["content-length"] == str(len(small.content))
        assert small.headers.get_list("docker-content-digest") == [layer]
        head = httpx.head(f"{base}/v2/{REPO}/blobs/{layer}")
        assert head.headers["content-length"] == str(len(small.content)) and not head.content
        part = httpx.get(f"{base}/v2/{REPO}/blobs/{layer}", headers={"Range": "bytes=2-9"})
        assert part.status_code == 206 and part.content == image.layers[0].gzipped[2:10]
        whole = httpx.get(f"{base}/v2/{REPO}/blobs/{big}")
        assert whole.headers["content-length"] == str(len(BIG))
        assert "sha256:" + hashlib.sha256(whole.content).hexdigest() == big
        manifest = httpx.get(f"{base}/v2/{REPO}/manifests/v1")
        assert manifest.content == image.manifest
        client.delete_manifest(REPO, image.digest)
        assert httpx.get(f"{base}/v2/{REPO}/manifests/{image.digest}").status_code == 404
        client.delete_blob(REPO, layer)
        assert httpx.head(f"{base}/v2/{REPO}/blobs/{layer}").status_code == 404


def test_access_log_keeps_its_combined_format(served: tuple[str, RegistryProcess]) -> None:
    base, proc = served
    httpx.get(f"{base}/v2/", headers={"User-Agent": "hot-path-test/1", "Referer": "r"})
    # The line is written once the answer is sent: the client may read it first.
    deadline = time.monotonic() + 5
    while not (lines := [x for x in proc.stdout.splitlines() if "hot-path-test/1" in x]):
        assert time.monotonic() < deadline, "no access log line"
        time.sleep(0.01)
    line = lines[-1]
    pattern = (
        r"^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "
        r'"GET /v2/ HTTP/1\.1" 200 \d+ "r" "hot-path-test/1" \S+$'
    )
    assert re.match(pattern, line), line
