"""validation.manifests.sparse: sparse image manifests and indexes, only when asked for."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pyregistry.config import config_from_document
from tests.api.helpers import OCI_INDEX, OCI_MANIFEST, error_codes, image_manifest, push_image


def _server(start: Callable[..., str], validation: dict[str, Any] | None) -> str:
    document: dict[str, Any] = {"version": "0.1", "storage": {"inmemory": None}}
    if validation is not None:
        document["validation"] = validation
    return start(config_from_document(document))


def _index(child_digest: str, absent_digest: str) -> bytes:
    children = [
        {"mediaType": OCI_MANIFEST, "digest": child_digest, "size": 10},
        {
            "mediaType": OCI_MANIFEST,
            "digest": absent_digest,
            "size": 10,
            "platform": {"architecture": "arm64", "os": "linux"},
        },
    ]
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children}).encode()


def _push(client: httpx.Client, body: bytes, media_type: str, tag: str) -> httpx.Response:
    return client.put(
        f"/v2/sparse/app/manifests/{tag}", content=body, headers={"Content-Type": media_type}
    )


ABSENT = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("validation", "image_ok", "index_ok"),
    [
        (None, False, False),  # the default is strict
        ({"disabled": True}, False, True),  # as distribution: sparse indexes only
        ({"manifests": {"sparse": True}}, True, True),
        ({"manifests": {"sparse": True, "indexes": {"platforms": "all"}}}, True, True),
        ({"manifests": {"sparse": False}}, False, False),
    ],
)
def test_sparse_switch(
    registry_server_factory: Callable[..., str],
    validation: dict[str, Any] | None,
    image_ok: bool,
    index_ok: bool,
) -> None:
    url = _server(registry_server_factory, validation)
    with httpx.Client(base_url=url, timeout=30) as client:
        present, _ = push_image(client, "sparse/app", "present")
        sparse_image = image_manifest(b'{"sparse":1}', [b"never pushed"])
        resp = _push(client, sparse_image, OCI_MANIFEST, "image")
        if image_ok:
            assert resp.status_code == 201, resp.text
            assert client.get("/v2/sparse/app/manifests/image").content == sparse_image
        else:
            assert resp.status_code == 400 and error_codes(resp) == ["MANIFEST_BLOB_UNKNOWN"]
        resp = _push(client, _index(present, ABSENT), OCI_INDEX, "index")
        if index_ok:
            assert resp.status_code == 201, resp.text
            assert client.head(f"/v2/sparse/app/manifests/{ABSENT}").status_code == 404
        else:
            assert resp.status_code == 400 and error_codes(resp) == ["MANIFEST_BLOB_UNKNOWN"]
