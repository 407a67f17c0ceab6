"""``OCI-Chunk-Min-Length`` where the storage needs it: S3 multipart parts are at least
5 MiB, so a registry on S3 asks clients for chunks that big, and takes them."""

from __future__ import annotations

import hashlib
import uuid

import httpx
from starlette.applications import Starlette

from pyregistry.app import create_app
from pyregistry.config import config_from_document
from storage_drivers.s3 import S3Driver
from tests.support.s3 import S3Server
from tests.support.server import run_server


def s3_app(moto_server: S3Server) -> Starlette:
    parameters = moto_server.driver_parameters(f"/chunks-{uuid.uuid4().hex[:8]}")
    return create_app(config_from_document({"version": "0.1", "storage": {"s3": parameters}}))


def test_a_registry_on_s3_asks_for_5_mib_chunks_and_takes_them(moto_server: S3Server) -> None:
    with run_server(s3_app(moto_server)) as url, httpx.Client(base_url=url) as client:
        started = client.post("/v2/big/layer/blobs/uploads/")
        assert started.status_code == 202
        minimum = int(started.headers["oci-chunk-min-length"])
        assert minimum == S3Driver.min_chunk_size == 5 * 1024 * 1024
        data = hashlib.sha256(b"seed").digest() * ((2 * minimum + 1000) // 32)
        location = started.headers["location"]
        for start in range(0, len(data), minimum):
            chunk = data[start : start + minimum]
            end = start + len(chunk) - 1
            patched = client.patch(
                location, content=chunk, headers={"Content-Range": f"{start}-{end}"}
            )
            assert patched.status_code == 202, patched.text
            assert patched.headers["range"] == f"0-{end}"
            location = patched.headers["location"]
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        done = client.put(location, params={"digest": digest})
        assert done.status_code == 201, done.text
        assert client.head(f"/v2/big/layer/blobs/{digest}").headers["content-length"] == str(
            len(data)
        )
