"""end-3, end-7 (incl. multi-tag ?tag=), end-9: manifests by tag or digest."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from tests.api.helpers import (
    DOCKER_MANIFEST,
    FOREIGN_LAYER,
    OCI_INDEX,
    OCI_MANIFEST,
    digest_of,
    error_codes,
    image_manifest,
    prepare_image,
    push_blob,
    push_image,
)

NAME = "library/busybox"
DOCKER_ACCEPT = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/json",
]


def test_put_by_tag_then_get_by_tag_and_digest(client: TestClient) -> None:
    manifest = prepare_image(client, NAME, b"layer one", config=b'{"os":"linux"}')
    digest = digest_of(manifest)
    put = client.put(
        f"/v2/{NAME}/manifests/latest", content=manifest, headers={"Content-Type": OCI_MANIFEST}
    )
    assert put.status_code == 201
    assert put.headers["docker-content-digest"] == digest
    assert put.headers["location"] == f"http://testserver/v2/{NAME}/manifests/{digest}"
    assert put.headers["content-length"] == "0"
    assert "oci-subject" not in put.headers
    for reference in ("latest", digest):
        got = client.get(f"/v2/{NAME}/manifests/{reference}", headers={"Accept": OCI_MANIFEST})
        assert got.status_code == 200
        assert got.content == manifest
        assert got.headers["content-type"] == OCI_MANIFEST
        assert got.headers["docker-content-digest"] == digest
        assert got.headers["content-length"] == str(len(manifest))
        assert got.headers["etag"] == f'"{digest}"'


def test_head_manifest_has_length_digest_and_type(client: TestClient) -> None:
    digest, manifest = push_image(client, NAME, "v1")
    for reference in ("v1", digest):
        head = client.head(f"/v2/{NAME}/manifests/{reference}")
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-length"] == str(len(manifest))
        assert head.headers["docker-content-digest"] == digest
        assert head.headers["content-type"] == OCI_MANIFEST


def test_accept_as_several_header_lines(client: TestClient) -> None:
    digest, manifest = push_image(client, NAME, "multi")
    headers = [("Accept", value) for value in DOCKER_ACCEPT]
    response = client.get(f"/v2/{NAME}/manifests/multi", headers=headers)
    assert response.status_code == 200
    assert response.content == manifest
    assert response.headers["content-type"] == OCI_MANIFEST


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "*/*",
        f"{DOCKER_MANIFEST}, */*;q=0.5",
        DOCKER_MANIFEST,  # not acceptable, but served as stored (distribution never converts)
        "application/*",
    ],
)
def test_manifest_served_as_stored_whatever_the_accept(
    client: TestClient, accept: str | None
) -> None:
    digest, manifest = push_image(client, NAME, "any")
    headers = {"Accept": accept} if accept else {}
    response = client.get(f"/v2/{NAME}/manifests/any", headers=headers)
    assert response.status_code == 200
    assert response.content == manifest
    assert response.headers["content-type"] == OCI_MANIFEST


def test_docker_schema2_manifest(client: TestClient) -> None:
    digest, manifest = push_image(client, NAME, "docker", media_type=DOCKER_MANIFEST)
    response = client.get(f"/v2/{NAME}/manifests/docker", headers={"Accept": DOCKER_MANIFEST})
    assert response.headers["content-type"] == DOCKER_MANIFEST
    assert response.content == manifest


def test_put_by_digest_and_multiple_tags(client: TestClient) -> None:
    manifest = prepare_image(client, NAME, b"tagged layer")
    digest = digest_of(manifest)
    response = client.put(
        f"/v2/{NAME}/manifests/{digest}?tag=1.0&tag=1&tag=latest",
        content=manifest,
        headers={"Content-Type": OCI_MANIFEST},
    )
    assert response.status_code == 201
    assert response.headers["docker-content-digest"] == digest
    assert response.headers.get_list("oci-tag") == ["1.0", "1", "latest"]
    for tag in ("1.0", "1", "latest"):
        got = client.head(f"/v2/{NAME}/manifests/{tag}")
        assert got.headers["docker-content-digest"] == digest
    assert client.get(f"/v2/{NAME}/tags/list").json()["tags"] == ["1", "1.0", "latest"]


def test_put_with_an_invalid_extra_tag_changes_nothing(client: TestClient) -> None:
    manifest = prepare_image(client, NAME, b"l")
    digest = digest_of(manifest)
    response = client.put(
        f"/v2/{NAME}/manifests/{digest}?tag=ok&tag=-bad",
        content=manifest,
        headers={"Content-Type": OCI_MANIFEST},
    )
    assert response.status_code == 400
    assert error_codes(response) == ["TAG_INVALID"]
    assert client.head(f"/v2/{NAME}/manifests/{digest}").status_code == 404


def test_put_by_digest_must_match(client: TestClient) -> None:
    manifest = prepare_image(client, NAME, b"l")
    wrong = digest_of(b"another document")
    response = client.put(
        f"/v2/{NAME}/manifests/{wrong}", content=manifest, headers={"Content-Type": OCI_MANIFEST}
    )
    assert response.status_code == 400
    assert error_codes(response) == ["DIGEST_INVALID"]
    assert client.head(f"/v2/{NAME}/manifests/{digest_of(manifest)}").status_code == 404


def test_put_by_sha512_digest(client: TestClient) -> None:
    manifest = prepare_image(client, NAME, b"l512")
    digest = digest_of(manifest, "sha512")
    response = client.put(
        f"/v2/{NAME}/manifests/{digest}", content=manifest, headers={"Content-Type": OCI_MANIFEST}
    )
    assert response.status_code == 201, response.text
    assert response.headers["docker-content-digest"] == digest
    assert client.get(f"/v2/{NAME}/manifests/{digest}").content == manifest


def test_subject_gives_oci_subject_header(client: TestClient) -> None:
    subject_digest, subject = push_image(client, NAME, "base")
    config = b'{"artifact":true}'
    push_blob(client, NAME, config)
    referrer = image_manifest(
        config,
        [],
        subject={"mediaType": OCI_MANIFEST, "digest": subject_digest, "size": len(subject)},
        artifact_type="application/vnd.example.sbom",
    )
    response = client.put(
        f"/v2/{NAME}/manifests/{digest_of(referrer)}",
        content=referrer,
        headers={"Content-Type": OCI_MANIFEST},
    )
    assert response.status_code == 201
    assert response.headers["oci-subject"] == subject_digest


def test_subject_may_not_exist_yet(client: TestClient) -> None:
    config = b'{"artifact":"early"}'
    push_blob(client, NAME, config)
    missing = digest_of(b"not pushed yet")
    referrer = image_manifest(
        config, [], subject={"mediaType": OCI_MANIFEST, "digest": missing, "size": 10}
    )
    response = client.put(
        f"/v2/{NAME}/manifests/sig", content=referrer, headers={"Content-Type": OCI_MANIFEST}
    )
    assert response.status_code == 201
    assert response.headers["oci-subject"] == missing


def test_non_distributable_layers_need_not_be_pushed(client: TestClient) -> None:
    config = b'{"windows":true}'
    push_blob(client, NAME, config)
    foreign = {
        "mediaType": FOREIGN_LAYER,
        "digest": digest_of(b"foreign layer"),
        "size": 13,
        "urls": ["https://example.invalid/layer.tar.gz"],
    }
    manifest = image_manifest(config, [], media_type=DOCKER_MANIFEST, extra_layers=[foreign])
    response = client.put(
        f"/v2/{NAME}/manifests/win", content=manifest, headers={"Content-Type": DOCKER_MANIFEST}
    )
    assert response.status_code == 201, response.text


def test_manifest_referencing_unknown_blob_is_400(client: TestClient) -> None:
    manifest = image_manifest(b"{}", [b"never pushed"])
    response = client.put(
        f"/v2/{NAME}/manifests/broken", content=manifest, headers={"Content-Type": OCI_MANIFEST}
    )
    assert response.status_code == 400
    assert error_codes(response) == ["MANIFEST_BLOB_UNKNOWN"]


def test_index_and_its_children(client: TestClient) -> None:
    child_digest, child = push_image(client, NAME, "amd64")
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": child_digest,
                    "size": len(child),
                    "platform": {"architecture": "amd64", "os": "linux"},
                }
            ],
        }
    ).encode()
    response = client.put(
        f"/v2/{NAME}/manifests/multiarch", content=index, headers={"Content-Type": OCI_INDEX}
    )
    assert response.status_code == 201
    got = client.get(f"/v2/{NAME}/manifests/multiarch", headers={"Accept": OCI_INDEX})
    assert got.headers["content-type"] == OCI_INDEX
    assert got.content == index


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"schemaVersion": 1}'])
def test_invalid_manifest_is_400(client: TestClient, body: bytes) -> None:
    response = client.put(
        f"/v2/{NAME}/manifests/bad", content=body, headers={"Content-Type": OCI_MANIFEST}
    )
    assert response.status_code == 400
    assert error_codes(response) == ["MANIFEST_INVALID"]


def test_manifest_over_4_mib_is_413(client: TestClient) -> None:
    body = b'{"padding": "' + b"x" * (4 * 1024 * 1024) + b'"}'
    response = client.put(
        f"/v2/{NAME}/manifests/huge", content=body, headers={"Content-Type": OCI_MANIFEST}
    )
    assert response.status_code == 413
    assert error_codes(response) == ["SIZE_INVALID"]


def test_manifest_over_4_mib_streamed_without_length_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(5):
            yield b"x" * (1024 * 1024)

    response = client.put(
        f"/v2/{NAME}/manifests/huge", content=chunks(), headers={"Content-Type": OCI_MANIFEST}
    )
    assert response.status_code == 413


def test_unknown_manifest_and_tag_are_404(client: TestClient) -> None:
    push_image(client, NAME, "present")
    for reference in ("absent", digest_of(b"nothing")):
        for method in ("GET", "HEAD"):
            response = client.request(method, f"/v2/{NAME}/manifests/{reference}")
            assert response.status_code == 404
        assert error_codes(client.get(f"/v2/{NAME}/manifests/{reference}")) == ["MANIFEST_UNKNOWN"]
    # Unknown repository: 404 as well, never an error status of another kind.
    assert client.head("/v2/no/such/repo/manifests/latest").status_code == 404


@pytest.mark.parametrize("reference", ["sha256:abc", "md5:" + "a" * 32, "-tag", "a" * 129])
def test_malformed_reference_is_400(client: TestClient, reference: str) -> None:
    for method in ("GET", "HEAD", "DELETE", "PUT"):
        response = client.request(method, f"/v2/{NAME}/manifests/{reference}", content=b"{}")
        assert response.status_code == 400, (method, reference)
    codes = error_codes(client.get(f"/v2/{NAME}/manifests/{reference}"))
    assert codes in (["DIGEST_INVALID"], ["TAG_INVALID"])


def test_if_none_match_gives_304(client: TestClient) -> None:
    digest, _ = push_image(client, NAME, "cached")
    response = client.get(f"/v2/{NAME}/manifests/cached", headers={"If-None-Match": f'"{digest}"'})
    assert response.status_code == 304


def test_delete_tag_is_202_and_keeps_the_manifest(client: TestClient) -> None:
    digest, _ = push_image(client, NAME, "temp")
    response = client.delete(f"/v2/{NAME}/manifests/temp")
    assert response.status_code == 202
    assert client.get(f"/v2/{NAME}/manifests/temp").status_code == 404
    assert client.get(f"/v2/{NAME}/manifests/{digest}").status_code == 200
    assert client.delete(f"/v2/{NAME}/manifests/temp").status_code == 404


def test_delete_by_digest_is_exactly_202_and_removes_tags(client: TestClient) -> None:
    digest, _ = push_image(client, NAME, "doomed")
    response = client.delete(f"/v2/{NAME}/manifests/{digest}")
    assert response.status_code == 202
    assert client.get(f"/v2/{NAME}/manifests/{digest}").status_code == 404
    assert client.get(f"/v2/{NAME}/manifests/doomed").status_code == 404
    again = client.delete(f"/v2/{NAME}/manifests/{digest}")
    assert again.status_code == 404
    assert error_codes(again) == ["MANIFEST_UNKNOWN"]


def test_content_type_parameters_are_ignored(client: TestClient) -> None:
    manifest = prepare_image(client, NAME, b"params")
    response = client.put(
        f"/v2/{NAME}/manifests/p",
        content=manifest,
        headers={"Content-Type": f"{OCI_MANIFEST}; charset=utf-8"},
    )
    assert response.status_code == 201
    assert client.get(f"/v2/{NAME}/manifests/p").headers["content-type"] == OCI_MANIFEST
