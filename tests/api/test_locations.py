"""``Location`` headers over a real socket: ``http.host``, ``http.relativeurls``,
``http.prefix`` and a reverse proxy's ``X-Forwarded-Proto``/``X-Forwarded-Host`` decide
where clients are sent next, as in distribution."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pyregistry.app import create_app
from pyregistry.config import config_from_document
from tests.api.helpers import OCI_MANIFEST, digest_of, image_manifest
from tests.support.server import run_server

NAME = "team/app"
BEHIND_NGINX = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "registry.example.org"}


def locations(url: str, headers: dict[str, str], root: str = "") -> dict[str, str]:
    """Push a blob in two steps and a manifest; the Location of each answer, by step.

    Each next request goes where the previous Location said (relative ones resolve
    against the registry's URL, as clients do)."""
    blob = b"{}"
    with httpx.Client(base_url=url, headers=headers) as client:
        started = client.post(f"{root}/v2/{NAME}/blobs/uploads/")
        assert started.status_code == 202, started.text
        upload = started.headers["location"]
        patched = client.patch(_local(url, upload), content=blob)
        assert patched.status_code == 202, patched.text
        chunk = patched.headers["location"]
        done = client.put(_local(url, chunk), params={"digest": digest_of(blob)})
        assert done.status_code == 201, done.text
        put = client.put(
            f"{root}/v2/{NAME}/manifests/latest",
            content=image_manifest(blob, []),
            headers={"Content-Type": OCI_MANIFEST},
        )
        assert put.status_code == 201, put.text
    return {
        "upload": upload,
        "chunk": chunk,
        "blob": done.headers["location"],
        "manifest": put.headers["location"],
    }


def _local(url: str, location: str) -> str:
    """Where a Location points, on this test server (the proxy in front is imaginary)."""
    target = httpx.URL(url).join(location)
    return str(httpx.URL(url).copy_with(path=target.path, query=target.query or None))


def serve(http: dict[str, Any]) -> Any:
    document = {"version": "0.1", "storage": {"inmemory": None}, "http": http}
    return run_server(create_app(config_from_document(document)))


@pytest.mark.parametrize(
    ("http", "headers", "origin"),
    [
        ({}, {}, "http://127.0.0.1:{port}"),
        ({}, BEHIND_NGINX, "https://registry.example.org"),
        (
            {"host": "https://registry.example.com:8443"},
            BEHIND_NGINX,
            "https://registry.example.com:8443",
        ),
        ({"relativeurls": True}, BEHIND_NGINX, ""),
        ({"prefix": "/reg/", "host": "http://mirror.example"}, {}, "http://mirror.example/reg"),
    ],
    ids=["request-host", "x-forwarded", "http.host", "relativeurls", "prefix"],
)
def test_locations_over_a_socket(
    http: dict[str, Any], headers: dict[str, str], origin: str
) -> None:
    with serve(http) as url:
        origin = origin.format(port=httpx.URL(url).port)
        got = locations(url, headers, root="/reg" if "prefix" in http else "")
    digest = digest_of(b"{}")
    assert got["upload"].startswith(f"{origin}/v2/{NAME}/blobs/uploads/")
    assert got["chunk"] == got["upload"]
    assert got["blob"] == f"{origin}/v2/{NAME}/blobs/{digest}"
    manifest_digest = digest_of(image_manifest(b"{}", []))
    assert got["manifest"] == f"{origin}/v2/{NAME}/manifests/{manifest_digest}"
