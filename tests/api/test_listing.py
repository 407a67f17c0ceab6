"""end-8a/8b (tags), the catalog, and end-12a/12b (referrers)."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from pyregistry.app import create_app
from pyregistry.config.model import CatalogConfig, Config, StorageConfig
from tests.api.helpers import (
    OCI_INDEX,
    OCI_MANIFEST,
    digest_of,
    error_codes,
    image_manifest,
    push_blob,
    push_image,
)

NAME = "org/tools/cli"
TAGS = ["1.0", "1.0.1", "2.0", "latest", "v10", "v9"]


@pytest.fixture
def tagged(client: TestClient) -> str:
    digest, _ = push_image(client, NAME, TAGS[0])
    for tag in TAGS[1:]:
        head = client.get(f"/v2/{NAME}/manifests/{digest}")
        put = client.put(
            f"/v2/{NAME}/manifests/{tag}",
            content=head.content,
            headers={"Content-Type": OCI_MANIFEST},
        )
        assert put.status_code == 201
    return digest


def test_tags_list_all(client: TestClient, tagged: str) -> None:
    response = client.get(f"/v2/{NAME}/tags/list")
    assert response.status_code == 200
    assert response.json() == {"name": NAME, "tags": TAGS}
    assert "link" not in response.headers


def test_tags_pagination_follows_link_headers(client: TestClient, tagged: str) -> None:
    seen: list[str] = []
    url = f"/v2/{NAME}/tags/list?n=2"
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = response.json()["tags"]
        assert len(page) <= 2
        seen += page
        pages += 1
        link = response.headers.get("link")
        if link:
            assert link.endswith('; rel="next"')
            url = link[link.index("<") + 1 : link.index(">")]
            assert url.startswith(f"/v2/{NAME}/tags/list?")
        else:
            url = ""
    assert seen == TAGS
    assert pages == 3


def test_tags_last_without_n(client: TestClient, tagged: str) -> None:
    response = client.get(f"/v2/{NAME}/tags/list", params={"last": "2.0"})
    assert response.json()["tags"] == ["latest", "v10", "v9"]


def test_tags_n_larger_than_count_has_no_link(client: TestClient, tagged: str) -> None:
    response = client.get(f"/v2/{NAME}/tags/list?n=100")
    assert response.json()["tags"] == TAGS
    assert "link" not in response.headers
    exact = client.get(f"/v2/{NAME}/tags/list?n={len(TAGS)}")
    assert exact.json()["tags"] == TAGS
    assert "link" not in exact.headers


def test_tags_n_zero_is_empty_without_link(client: TestClient, tagged: str) -> None:
    response = client.get(f"/v2/{NAME}/tags/list?n=0")
    assert response.status_code == 200
    assert response.json() == {"name": NAME, "tags": []}
    assert "link" not in response.headers


@pytest.mark.parametrize("n", ["-1", "abc", "1.5"])
def test_tags_invalid_n_is_400(client: TestClient, tagged: str, n: str) -> None:
    response = client.get(f"/v2/{NAME}/tags/list", params={"n": n})
    assert response.status_code == 400
    assert error_codes(response) == ["PAGINATION_NUMBER_INVALID"]


def test_tags_of_unknown_repository_is_404(client: TestClient) -> None:
    for url in ("/v2/nobody/here/tags/list", "/v2/nobody/here/tags/list?n=0"):
        response = client.get(url)
        assert response.status_code == 404
        assert error_codes(response) == ["NAME_UNKNOWN"]


def test_tags_of_repository_without_tags_is_empty(client: TestClient) -> None:
    push_blob(client, "only/blobs", b"layer")
    response = client.get("/v2/only/blobs/tags/list")
    assert response.status_code == 200
    assert response.json() == {"name": "only/blobs", "tags": []}


def test_catalog_lists_nested_names_with_pagination(client: TestClient) -> None:
    names = ["a", "a/b", "a/b/c", "b-c", "z/y"]
    for name in names:
        push_image(client, name, "t")
    assert client.get("/v2/_catalog").json() == {"repositories": names}
    first = client.get("/v2/_catalog?n=2")
    assert first.json()["repositories"] == ["a", "a/b"]
    link = first.headers["link"]
    assert link == '</v2/_catalog?last=a%2Fb&n=2>; rel="next"'
    second = client.get("/v2/_catalog", params={"n": 2, "last": "a/b"})
    assert second.json()["repositories"] == ["a/b/c", "b-c"]
    third = client.get("/v2/_catalog", params={"n": 2, "last": "b-c"})
    assert third.json()["repositories"] == ["z/y"]
    assert "link" not in third.headers
    assert client.get("/v2/_catalog?n=0").json() == {"repositories": []}


def test_catalog_default_page_is_100(client: TestClient) -> None:
    for i in range(101):
        push_blob(client, f"r{i:03d}", b"x")
    response = client.get("/v2/_catalog")
    assert len(response.json()["repositories"]) == 100
    assert "last=r099" in response.headers["link"]


@pytest.mark.parametrize("n", ["-3", "x", "1001"])
def test_catalog_invalid_n_is_400(client: TestClient, n: str) -> None:
    response = client.get("/v2/_catalog", params={"n": n})
    assert response.status_code == 400
    assert error_codes(response) == ["PAGINATION_NUMBER_INVALID"]


@pytest.mark.parametrize(
    "config",
    [
        Config(storage=StorageConfig(driver="inmemory"), catalog=CatalogConfig(maxentries=5)),
        Config(storage=StorageConfig(driver="inmemory"), raw={"catalog": {"maxentries": 5}}),
    ],
    ids=["typed", "raw"],
)
def test_catalog_maxentries_from_config(config: Config) -> None:
    with TestClient(create_app(config)) as client:
        assert client.get("/v2/_catalog?n=6").status_code == 400
        assert client.get("/v2/_catalog?n=5").status_code == 200


def test_empty_catalog(client: TestClient) -> None:
    assert client.get("/v2/_catalog").json() == {"repositories": []}


def _push_referrer(
    client: TestClient, subject: str, size: int, artifact_type: str | None, tag: str
) -> str:
    config = json.dumps({"tag": tag}).encode()
    push_blob(client, NAME, config)
    manifest = image_manifest(
        config,
        [],
        subject={"mediaType": OCI_MANIFEST, "digest": subject, "size": size},
        artifact_type=artifact_type,
        annotations={"org.example.tag": tag},
        config_media_type="application/vnd.example.config" if artifact_type is None else None,
    )
    digest = digest_of(manifest)
    response = client.put(
        f"/v2/{NAME}/manifests/{digest}", content=manifest, headers={"Content-Type": OCI_MANIFEST}
    )
    assert response.status_code == 201
    return digest


def test_referrers_list_and_filter(client: TestClient) -> None:
    subject, manifest = push_image(client, NAME, "subject")
    sbom = _push_referrer(client, subject, len(manifest), "application/vnd.example.sbom", "sbom")
    sig = _push_referrer(client, subject, len(manifest), "application/vnd.example.sig", "sig")
    plain = _push_referrer(client, subject, len(manifest), None, "plain")

    response = client.get(f"/v2/{NAME}/referrers/{subject}")
    assert response.status_code == 200
    assert response.headers["content-type"] == OCI_INDEX
    assert "oci-filters-applied" not in response.headers
    index = response.json()
    assert index["schemaVersion"] == 2
    assert index["mediaType"] == OCI_INDEX
    by_digest = {d["digest"]: d for d in index["manifests"]}
    assert set(by_digest) == {sbom, sig, plain}
    assert by_digest[sbom]["artifactType"] == "application/vnd.example.sbom"
    assert by_digest[plain]["artifactType"] == "application/vnd.example.config"
    assert by_digest[sig]["annotations"] == {"org.example.tag": "sig"}
    assert by_digest[sig]["mediaType"] == OCI_MANIFEST

    filtered = client.get(
        f"/v2/{NAME}/referrers/{subject}", params={"artifactType": "application/vnd.example.sbom"}
    )
    assert filtered.headers["oci-filters-applied"] == "artifactType"
    assert [d["digest"] for d in filtered.json()["manifests"]] == [sbom]


def test_referrers_of_unknown_subject_or_repository_is_empty(client: TestClient) -> None:
    push_image(client, NAME, "x")
    for name in (NAME, "no/such/repo"):
        response = client.get(f"/v2/{name}/referrers/{digest_of(b'unknown')}")
        assert response.status_code == 200
        assert response.json() == {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}


def test_referrers_bad_digest_is_400(client: TestClient) -> None:
    response = client.get(f"/v2/{NAME}/referrers/sha256:bad")
    assert response.status_code == 400
    assert error_codes(response) == ["DIGEST_INVALID"]


def test_referrers_drop_deleted_manifests(client: TestClient) -> None:
    subject, manifest = push_image(client, NAME, "subject")
    sbom = _push_referrer(client, subject, len(manifest), "application/vnd.example.sbom", "s")
    assert client.delete(f"/v2/{NAME}/manifests/{sbom}").status_code == 202
    assert client.get(f"/v2/{NAME}/referrers/{subject}").json()["manifests"] == []
