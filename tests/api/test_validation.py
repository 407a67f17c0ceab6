"""The config's ``validation`` section: layer URLs (foreign / non-distributable layers) and
which children of an index must exist (sparse indexes)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from pyregistry.app import create_app
from pyregistry.config import ConfigError, config_from_document
from tests.api.helpers import (
    DOCKER_MANIFEST,
    FOREIGN_LAYER,
    OCI_INDEX,
    OCI_MANIFEST,
    digest_of,
    error_codes,
    image_manifest,
    push_blob,
    push_image,
)

NAME = "windows/app"
NONDISTRIBUTABLE = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"


def client_for(validation: dict[str, Any] | None = None) -> TestClient:
    document: dict[str, Any] = {"version": "0.1", "storage": {"inmemory": None}}
    if validation is not None:
        document["validation"] = validation
    return TestClient(create_app(config_from_document(document)))


def push_with_urls(client: TestClient, *urls: str, media_type: str = FOREIGN_LAYER) -> int:
    """Push an image whose only layer lives elsewhere; the status of the manifest PUT."""
    config = b'{"os":"windows"}'
    push_blob(client, NAME, config)
    layer = {"mediaType": media_type, "digest": digest_of(b"elsewhere"), "size": 9}
    if urls:
        layer["urls"] = list(urls)
    manifest = image_manifest(config, [], media_type=DOCKER_MANIFEST, extra_layers=[layer])
    response = client.put(
        f"/v2/{NAME}/manifests/{digest_of(manifest)}",
        content=manifest,
        headers={"Content-Type": DOCKER_MANIFEST},
    )
    if response.status_code != 201:
        assert error_codes(response) == ["MANIFEST_INVALID"], response.text
    return response.status_code


def test_layer_urls_by_default_must_only_be_well_formed() -> None:
    with client_for() as client:
        assert push_with_urls(client, "https://mcr.example/layer.tar.gz") == 201
        assert push_with_urls(client, "http://a.example/x", media_type=NONDISTRIBUTABLE) == 201
        assert push_with_urls(client, "ftp://mirror.example/layer") == 400
        assert push_with_urls(client, "https://a.example/layer#part") == 400
        assert push_with_urls(client, "not a url") == 400


def test_allow_and_deny_patterns_as_distribution_applies_them() -> None:
    urls = {"allow": [r"^https://([^/]+\.)?good\.example/"], "deny": [r"/blocked/"]}
    with client_for({"manifests": {"urls": urls}}) as client:
        assert push_with_urls(client, "https://cdn.good.example/layer") == 201
        assert push_with_urls(client, "https://good.example/blocked/layer") == 400
        assert push_with_urls(client, "https://other.example/layer") == 400
        # every URL of the layer must pass, not just one
        assert push_with_urls(client, "https://good.example/a", "https://bad.example/b") == 400
    with client_for({"manifests": {"urls": {"deny": ["evil"]}}}) as client:
        assert push_with_urls(client, "https://any.example/layer") == 201
        assert push_with_urls(client, "https://evil.example/layer") == 400


def test_disabled_validation_checks_no_url() -> None:
    with client_for({"disabled": True, "manifests": {"urls": {"allow": ["^$"]}}}) as client:
        assert push_with_urls(client, "ftp://mirror.example/layer") == 201
    with client_for({"disabled": True, "enabled": True}) as client:  # enabled wins
        assert push_with_urls(client, "ftp://mirror.example/layer") == 400


def _index(children: list[tuple[str, bytes, str]]) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": digest,
                    "size": len(body),
                    "platform": {"architecture": arch, "os": "linux"},
                }
                for digest, body, arch in children
            ],
        }
    ).encode()


def push_index(client: TestClient, *, missing: str) -> tuple[int, list[str]]:
    """An amd64 + arm64 index whose ``missing`` child was never pushed."""
    children: list[tuple[str, bytes, str]] = []
    for arch in ("amd64", "arm64"):
        manifest = image_manifest(b"{}", [arch.encode()])
        if arch == missing:
            children.append((digest_of(manifest), manifest, arch))
        else:
            digest, body = push_image(client, NAME, arch, layers=[arch.encode()], config=b"{}")
            children.append((digest, body, arch))
    response = client.put(
        f"/v2/{NAME}/manifests/multi", content=_index(children), headers={"Content-Type": OCI_INDEX}
    )
    return response.status_code, error_codes(response) if response.status_code != 201 else []


@pytest.mark.parametrize(
    ("validation", "missing", "expected"),
    [
        (None, "arm64", (400, ["MANIFEST_BLOB_UNKNOWN"])),
        (
            {"manifests": {"indexes": {"platforms": "all"}}},
            "amd64",
            (400, ["MANIFEST_BLOB_UNKNOWN"]),
        ),
        ({"manifests": {"indexes": {"platforms": "none"}}}, "arm64", (201, [])),
        ({"disabled": True}, "amd64", (201, [])),
    ],
)
def test_sparse_indexes_follow_indexes_platforms(
    validation: dict[str, Any] | None, missing: str, expected: tuple[int, list[str]]
) -> None:
    with client_for(validation) as client:
        assert push_index(client, missing=missing) == expected


def test_platform_list_requires_only_the_listed_platforms() -> None:
    only_amd64 = {
        "manifests": {
            "indexes": {
                "platforms": "List",
                "platformlist": [{"architecture": "amd64", "os": "linux"}],
            }
        }
    }
    with client_for(only_amd64) as client:
        assert push_index(client, missing="arm64") == (201, [])
    with client_for(only_amd64) as client:
        assert push_index(client, missing="amd64") == (400, ["MANIFEST_BLOB_UNKNOWN"])


def test_a_pattern_that_does_not_compile_names_its_key() -> None:
    document = {
        "version": "0.1",
        "storage": {"inmemory": None},
        "validation": {"manifests": {"urls": {"allow": ["^ok$", "(unclosed"]}}},
    }
    with pytest.raises(ConfigError) as caught:
        config_from_document(document, "config.yml")
    assert caught.value.key == "validation.manifests.urls.allow[1]"
    assert "config.yml" in str(caught.value)
