"""Over a real socket: uvicorn + httpx, for what only a real connection shows
(chunked request bodies, repeated header lines, ranges and 416 on a live connection,
streaming of multi-MiB blobs, HEAD framing, clean server shutdown)."""

from __future__ import annotations

import hashlib
import logging
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request

from pyregistry.api.context import RequestContext
from pyregistry.app import create_app
from tests.api.helpers import (
    OCI_MANIFEST,
    byteranges,
    digest_of,
    error_codes,
    push_blob,
    push_image,
)
from tests.support.server import inmemory_config, run_server

BIG = 3 * 1024 * 1024 + 17  # over 2 MiB and not a multiple of any chunk size


def big_blob() -> bytes:
    block = hashlib.sha256(b"seed").digest() * 2048  # 64 KiB of varied bytes
    data = block * (BIG // len(block) + 1)
    return data[:BIG]


def chunked(data: bytes, size: int = 100_000) -> Iterator[bytes]:
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


def test_docker_style_push_with_chunked_patch(registry_server: str) -> None:
    data = big_blob()
    digest = digest_of(data)
    with httpx.Client(base_url=registry_server) as client:
        start = client.post("/v2/docker/style/blobs/uploads/")
        assert start.status_code == 202
        # docker: PATCH with Transfer-Encoding: chunked and no Content-Type.
        patch = client.patch(start.headers["location"], content=chunked(data))
        assert patch.request.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in patch.request.headers
        assert patch.status_code == 202, patch.text
        assert patch.headers["range"] == f"0-{len(data) - 1}"
        put = client.put(patch.headers["location"], params={"digest": digest})
        assert put.status_code == 201
        assert put.headers["docker-content-digest"] == digest
        head = client.head(f"/v2/docker/style/blobs/{digest}")
        assert head.status_code == 200
        assert head.headers["content-length"] == str(len(data))
        assert head.content == b""


def test_big_blob_streams_back_intact(registry_server: str) -> None:
    data = big_blob()
    with httpx.Client(base_url=registry_server) as client:
        digest = digest_of(data)
        response = client.post(
            "/v2/big/blobs/uploads/", params={"digest": digest}, content=chunked(data)
        )
        assert response.status_code == 201
        hasher = hashlib.sha256()
        received = 0
        pieces = 0
        with client.stream("GET", f"/v2/big/blobs/{digest}") as stream:
            assert stream.status_code == 200
            assert stream.headers["content-length"] == str(len(data))
            for piece in stream.iter_raw():
                hasher.update(piece)
                received += len(piece)
                pieces += 1
        assert received == len(data)
        assert f"sha256:{hasher.hexdigest()}" == digest
        assert pieces > 1  # it really arrived as a stream


def test_ranges_and_416_on_a_live_connection(registry_server: str) -> None:
    data = big_blob()
    with httpx.Client(base_url=registry_server) as client:
        digest = push_blob(client, "ranged", data)
        url = f"/v2/ranged/blobs/{digest}"
        tail = client.get(url, headers={"Range": "bytes=-1000"})
        assert tail.status_code == 206
        assert tail.content == data[-1000:]
        middle = client.get(url, headers={"Range": f"bytes=2097150-{2097150 + 99}"})
        assert middle.status_code == 206
        assert middle.content == data[2097150 : 2097150 + 100]
        bad = client.get(url, headers={"Range": f"bytes={len(data)}-"})
        assert bad.status_code == 416
        assert bad.headers["content-range"] == f"bytes */{len(data)}"
        assert error_codes(bad)
        multi = client.get(url, headers={"Range": "bytes=0-1,2097150-2097159"})
        assert multi.status_code == 206
        assert byteranges(multi) == [
            (f"bytes 0-1/{len(data)}", data[:2]),
            (f"bytes 2097150-2097159/{len(data)}", data[2097150:2097160]),
        ]
        # The connection is still good after the 416 and the multipart answer.
        again = client.get(url, headers={"Range": "bytes=0-3"})
        assert again.status_code == 206
        assert again.content == data[:4]


def test_accept_header_lines_reach_the_server_separately(
    registry_server_factory: Callable[..., str],
) -> None:
    seen: list[list[str]] = []

    async def record_accept(request: Request, context: RequestContext) -> None:
        if context.endpoint == "manifest" and request.method == "GET":
            seen.append(request.headers.getlist("accept"))

    url = registry_server_factory(create_app(inmemory_config(), access_hooks=[record_accept]))
    accept = [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "application/json",
    ]
    with httpx.Client(base_url=url) as client:
        digest, manifest = push_image(client, "lines", "v1")
        response = client.get(
            "/v2/lines/manifests/v1", headers=[("Accept", value) for value in accept]
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == OCI_MANIFEST
        assert response.content == manifest
        head = client.head(f"/v2/lines/manifests/{digest}")
        assert head.headers["content-length"] == str(len(manifest))
        assert head.headers["docker-content-digest"] == digest
    assert seen == [accept]


def test_parallel_uploads(registry_server: str) -> None:
    blobs = [f"parallel blob {i}".encode() * 1000 for i in range(8)]

    def upload(data: bytes) -> str:
        with httpx.Client(base_url=registry_server) as client:
            return push_blob(client, "parallel", data)

    with ThreadPoolExecutor(max_workers=8) as pool:
        digests = list(pool.map(upload, blobs))
    with httpx.Client(base_url=registry_server) as client:
        for data, digest in zip(blobs, digests, strict=True):
            assert client.get(f"/v2/parallel/blobs/{digest}").content == data


def test_filesystem_server_round_trip(fs_registry_server: str, tmp_path: Path) -> None:
    with httpx.Client(base_url=fs_registry_server) as client:
        digest, manifest = push_image(client, "fs/repo", "v1")
        assert client.get("/v2/fs/repo/manifests/v1").content == manifest
        assert client.get("/v2/_catalog").json() == {"repositories": ["fs/repo"]}
    algorithm, hexpart = digest.split(":")
    blob_file = (
        tmp_path / "storage/docker/registry/v2/blobs" / algorithm / hexpart[:2] / hexpart / "data"
    )
    assert blob_file.read_bytes() == manifest


def test_run_server_stops_cleanly_and_frees_its_thread() -> None:
    before = {t.name for t in threading.enumerate()}
    with run_server(create_app(inmemory_config())) as url:
        assert httpx.get(f"{url}/v2/").status_code == 200
        running = {t.name for t in threading.enumerate()} - before
        assert any(name.startswith("pyregistry-test-server") for name in running)
    after = {t.name for t in threading.enumerate()}
    assert not any(name.startswith("pyregistry-test-server") for name in after - before)
    try:
        httpx.get(f"{url}/v2/", timeout=2)
    except httpx.ConnectError:
        pass
    else:
        raise AssertionError("server still answering after run_server exited")


def test_manifest_bodies_over_the_socket(registry_server: str) -> None:
    headers = {"Content-Type": OCI_MANIFEST}
    with httpx.Client(base_url=registry_server) as client:
        digest, manifest = push_image(client, "sock", "v1")
        # A manifest arriving with Transfer-Encoding: chunked.
        again = client.put("/v2/sock/manifests/v2", content=chunked(manifest, 7), headers=headers)
        assert again.request.headers.get("transfer-encoding") == "chunked"
        assert again.status_code == 201
        assert again.headers["docker-content-digest"] == digest
        # Too large, with and without a declared length: 413, and the connection survives.
        huge = b'{"p":"' + b"x" * (5 * 1024 * 1024) + b'"}'
        declared = client.put("/v2/sock/manifests/big", content=huge, headers=headers)
        assert declared.status_code == 413
        streamed = client.put(
            "/v2/sock/manifests/big", content=chunked(huge, 1 << 20), headers=headers
        )
        assert streamed.status_code == 413
        assert error_codes(streamed) == ["SIZE_INVALID"]
        assert client.get("/v2/").status_code == 200


def test_blob_upload_and_download_stream_in_bounded_memory(fs_registry_server: str) -> None:
    size = 48 * 1024 * 1024
    block = hashlib.sha256(b"memory").digest() * 4096  # 128 KiB

    def blocks() -> Iterator[bytes]:
        for _ in range(size // len(block)):
            yield block

    hasher = hashlib.sha256()
    for piece in blocks():
        hasher.update(piece)
    digest = f"sha256:{hasher.hexdigest()}"
    limit = 16 * 1024 * 1024  # a third of the blob: buffering it whole would blow this

    with httpx.Client(base_url=fs_registry_server, timeout=60) as client:
        tracemalloc.start()
        try:
            start = client.post("/v2/mem/blobs/uploads/")
            patch = client.patch(start.headers["location"], content=blocks())
            assert patch.headers["range"] == f"0-{size - 1}"
            assert (
                client.put(patch.headers["location"], params={"digest": digest}).status_code == 201
            )
            upload_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            received = 0
            with client.stream("GET", f"/v2/mem/blobs/{digest}") as stream:
                for piece in stream.iter_raw():
                    received += len(piece)
            download_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert received == size
    assert upload_peak < limit, upload_peak
    assert download_peak < limit, download_peak


def test_unexpected_error_is_a_logged_json_500_over_the_socket(
    registry_server_factory: Callable[..., str], server_errors: list[logging.LogRecord]
) -> None:
    async def explode(request: Request, context: RequestContext) -> None:
        if context.repository == "explode":
            raise RuntimeError("kaboom")

    app = create_app(inmemory_config(), access_hooks=[explode])
    url = registry_server_factory(app, allow_server_errors=True)
    with httpx.Client(base_url=url) as client:
        response = client.get("/v2/explode/tags/list")
        assert response.status_code == 500
        assert error_codes(response) == ["UNKNOWN"]
        assert client.get("/v2/fine/tags/list").status_code == 404
    assert any(record.exc_info for record in server_errors)
    server_errors.clear()


def test_a_500_fails_the_test_that_started_the_server(
    server_errors: list[logging.LogRecord],
) -> None:
    """The shared test servers turn any 500 into a failure, so no test can miss one."""

    async def explode(request: Request, context: RequestContext) -> None:
        raise RuntimeError("kaboom")

    app = create_app(inmemory_config(), access_hooks=[explode])
    # the 500 is reported when the server stops, after the request
    with pytest.raises(AssertionError, match="GET /v2/ answered 500"), run_server(app) as url:
        assert httpx.get(f"{url}/v2/").status_code == 500
    server_errors.clear()  # the API logged the traceback, as it should
