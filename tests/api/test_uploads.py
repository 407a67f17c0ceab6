"""Blob upload sessions: end-4a/4b/4c, end-5, end-6, end-11, end-13, end-14."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from starlette.testclient import TestClient

from pyregistry.app import create_app
from pyregistry.config.model import Config, StorageConfig
from pyregistry.storage import Registry
from storage_drivers.inmemory import InMemoryDriver
from tests.api.helpers import digest_of, error_codes, push_blob

NAME = "team/project/app"


def start(client: TestClient, name: str = NAME) -> str:
    response = client.post(f"/v2/{name}/blobs/uploads/")
    assert response.status_code == 202, response.text
    return response.headers["location"]


def test_post_starts_a_session_with_all_headers(client: TestClient) -> None:
    response = client.post(f"/v2/{NAME}/blobs/uploads/", headers={"Content-Length": "0"})
    assert response.status_code == 202
    upload_id = response.headers["docker-upload-uuid"]
    uuid.UUID(upload_id)
    assert response.headers["location"] == (
        f"http://testserver/v2/{NAME}/blobs/uploads/{upload_id}"
    )
    assert response.headers["range"] == "0-0"
    assert response.headers["content-length"] == "0"
    assert "oci-chunk-min-length" not in response.headers


def test_post_without_trailing_slash_also_starts_a_session(client: TestClient) -> None:
    assert client.post(f"/v2/{NAME}/blobs/uploads").status_code == 202


def test_digest_algorithm_declared_up_front(client: TestClient) -> None:
    """end-4c: a chunked sha512 upload announced on POST; unknown algorithms are 400."""
    data = b"a chunked sha512 blob"
    response = client.post(f"/v2/{NAME}/blobs/uploads/", params={"digest-algorithm": "sha512"})
    assert response.status_code == 202
    patch = client.patch(response.headers["location"], content=data)
    assert patch.status_code == 202
    digest = digest_of(data, "sha512")
    done = client.put(patch.headers["location"], params={"digest": digest})
    assert done.status_code == 201
    assert done.headers["docker-content-digest"] == digest
    for bad in ("md5", "unknown", "", "SHA256"):
        refused = client.post(f"/v2/{NAME}/blobs/uploads/", params={"digest-algorithm": bad})
        assert refused.status_code == 400, bad
        assert error_codes(refused) == ["DIGEST_INVALID"]


def test_post_then_put_monolithic(client: TestClient) -> None:
    data = b"monolithic blob"
    digest = digest_of(data)
    location = start(client)
    response = client.put(location, params={"digest": digest}, content=data)
    assert response.status_code == 201
    assert response.headers["location"] == f"http://testserver/v2/{NAME}/blobs/{digest}"
    assert response.headers["docker-content-digest"] == digest
    assert response.headers["content-length"] == "0"
    assert client.get(f"/v2/{NAME}/blobs/{digest}").content == data


def test_single_post_upload(client: TestClient) -> None:
    data = b"single post body"
    digest = digest_of(data)
    response = client.post(f"/v2/{NAME}/blobs/uploads/", params={"digest": digest}, content=data)
    assert response.status_code == 201
    assert response.headers["docker-content-digest"] == digest
    assert response.headers["location"].endswith(f"/v2/{NAME}/blobs/{digest}")
    assert client.get(f"/v2/{NAME}/blobs/{digest}").content == data


def test_single_post_with_sha512(client: TestClient) -> None:
    data = b"a sha512 blob in one request"
    digest = digest_of(data, "sha512")
    response = client.post(f"/v2/{NAME}/blobs/uploads/", params={"digest": digest}, content=data)
    assert response.status_code == 201
    assert response.headers["docker-content-digest"] == digest
    assert client.get(f"/v2/{NAME}/blobs/{digest}").content == data


def test_single_post_digest_mismatch_leaves_nothing(client: TestClient) -> None:
    wrong = digest_of(b"something else")
    response = client.post(f"/v2/{NAME}/blobs/uploads/", params={"digest": wrong}, content=b"x")
    assert response.status_code == 400
    assert error_codes(response) == ["DIGEST_INVALID"]
    assert client.head(f"/v2/{NAME}/blobs/{wrong}").status_code == 404
    assert client.head(f"/v2/{NAME}/blobs/{digest_of(b'x')}").status_code == 404


def test_chunked_upload_with_content_range(client: TestClient) -> None:
    data = bytes(range(200)) * 50  # 10000 bytes
    location = start(client)
    offset = 0
    for size in (4000, 4000, 1500):
        chunk = data[offset : offset + size]
        response = client.patch(
            location,
            content=chunk,
            headers={
                "Content-Range": f"{offset}-{offset + size - 1}",
                "Content-Type": "application/octet-stream",
            },
        )
        assert response.status_code == 202, response.text
        offset += size
        assert response.headers["range"] == f"0-{offset - 1}"
        assert response.headers["content-length"] == "0"
        assert response.headers["docker-upload-uuid"]
        location = response.headers["location"]
    final = client.put(
        location,
        params={"digest": digest_of(data)},
        content=data[offset:],
        headers={"Content-Range": f"{offset}-{len(data) - 1}"},
    )
    assert final.status_code == 201, final.text
    assert client.get(f"/v2/{NAME}/blobs/{digest_of(data)}").content == data


@pytest.mark.parametrize("content_range", ["bytes=0-4", "bytes 0-4/5", "0-4/*"])
def test_lenient_content_range_forms(client: TestClient, content_range: str) -> None:
    location = start(client)
    response = client.patch(location, content=b"hello", headers={"Content-Range": content_range})
    assert response.status_code == 202
    assert response.headers["range"] == "0-4"


def test_patch_without_content_range_appends(client: TestClient) -> None:
    location = start(client)
    first = client.patch(location, content=b"abc")
    assert first.headers["range"] == "0-2"
    second = client.patch(first.headers["location"], content=b"def")
    assert second.status_code == 202
    assert second.headers["range"] == "0-5"
    done = client.put(second.headers["location"], params={"digest": digest_of(b"abcdef")})
    assert done.status_code == 201


def test_out_of_order_chunk_is_416_and_reports_progress(client: TestClient) -> None:
    location = start(client)
    client.patch(location, content=b"12345", headers={"Content-Range": "0-4"})
    response = client.patch(location, content=b"67890", headers={"Content-Range": "10-14"})
    assert response.status_code == 416
    assert error_codes(response) == ["BLOB_UPLOAD_INVALID"]
    assert response.headers["range"] == "0-4"
    assert response.headers["location"] == location
    # Nothing was written: the session continues where it was.
    status = client.get(location)
    assert status.status_code == 204
    assert status.headers["range"] == "0-4"


def test_content_range_that_ends_before_it_starts_is_416(client: TestClient) -> None:
    location = start(client)
    response = client.patch(location, content=b"x", headers={"Content-Range": "5-1"})
    assert response.status_code == 416


def test_malformed_content_range_is_400(client: TestClient) -> None:
    location = start(client)
    response = client.patch(location, content=b"x", headers={"Content-Range": "zero-one"})
    assert response.status_code == 400
    assert error_codes(response) == ["BLOB_UPLOAD_INVALID"]


def test_content_length_must_match_content_range(client: TestClient) -> None:
    location = start(client)
    response = client.patch(location, content=b"abc", headers={"Content-Range": "0-9"})
    assert response.status_code == 400
    assert error_codes(response) == ["SIZE_INVALID"]
    assert client.get(location).headers["range"] == "0-0"


def test_upload_status_and_cancel(client: TestClient) -> None:
    location = start(client)
    client.patch(location, content=b"partial")
    status = client.get(location)
    assert status.status_code == 204
    assert status.headers["range"] == "0-6"
    assert status.headers["location"] == location
    assert status.headers["docker-upload-uuid"] == location.rsplit("/", 1)[1]
    assert client.head(location).status_code == 204
    cancel = client.delete(location)
    assert cancel.status_code == 204
    gone = client.get(location)
    assert gone.status_code == 404
    assert error_codes(gone) == ["BLOB_UPLOAD_UNKNOWN"]
    assert client.delete(location).status_code == 404


@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
@pytest.mark.parametrize(
    "upload_id", ["0688f850-903c-4184-94fe-8e5df2f1ab9c", "--", "a.b", "not%20an%20id", "x" * 300]
)
def test_unknown_or_bad_upload_id_is_404(client: TestClient, method: str, upload_id: str) -> None:
    response = client.request(
        method,
        f"/v2/{NAME}/blobs/uploads/{upload_id}",
        params={"digest": digest_of(b"")} if method == "PUT" else None,
    )
    assert response.status_code == 404, response.text
    assert error_codes(response) == ["BLOB_UPLOAD_UNKNOWN"]


def test_upload_of_another_repository_is_unknown(client: TestClient) -> None:
    location = start(client, "one")
    upload_id = location.rsplit("/", 1)[1]
    assert client.get(f"/v2/two/blobs/uploads/{upload_id}").status_code == 404


def test_put_without_or_with_bad_digest_is_400(client: TestClient) -> None:
    location = start(client)
    client.patch(location, content=b"data")
    for params in ({}, {"digest": ""}, {"digest": "sha256:short"}, {"digest": "crc32:abcd"}):
        response = client.put(location, params=params)
        assert response.status_code == 400, params
        assert error_codes(response) == ["DIGEST_INVALID"]
    # The session survives a malformed request and can still complete.
    assert client.put(location, params={"digest": digest_of(b"data")}).status_code == 201


def test_put_with_wrong_digest_is_400_and_nothing_visible(client: TestClient) -> None:
    location = start(client)
    wrong = digest_of(b"other")
    response = client.put(location, params={"digest": wrong}, content=b"data")
    assert response.status_code == 400
    assert error_codes(response) == ["DIGEST_INVALID"]
    assert client.head(f"/v2/{NAME}/blobs/{wrong}").status_code == 404
    assert client.head(f"/v2/{NAME}/blobs/{digest_of(b'data')}").status_code == 404


def test_put_sha512(client: TestClient) -> None:
    digest = push_blob(client, NAME, b"sha512 via post+put", algorithm="sha512")
    assert client.get(f"/v2/{NAME}/blobs/{digest}").content == b"sha512 via post+put"


def test_mount_from_another_repository(client: TestClient) -> None:
    digest = push_blob(client, "source/repo", b"shared layer")
    response = client.post(
        "/v2/target/repo/blobs/uploads/", params={"mount": digest, "from": "source/repo"}
    )
    assert response.status_code == 201
    assert response.headers["location"].endswith(f"/v2/target/repo/blobs/{digest}")
    assert response.headers["docker-content-digest"] == digest
    assert client.get(f"/v2/target/repo/blobs/{digest}").content == b"shared layer"


@pytest.mark.parametrize("source", ["elsewhere", "Bad/Name!", "source/repo"])
def test_mount_that_cannot_happen_starts_an_upload(client: TestClient, source: str) -> None:
    push_blob(client, "source/repo", b"something")
    missing = digest_of(b"not in any repository")
    response = client.post(
        "/v2/target/repo/blobs/uploads/", params={"mount": missing, "from": source}
    )
    assert response.status_code == 202
    assert response.headers["range"] == "0-0"
    assert "/blobs/uploads/" in response.headers["location"]


def test_mount_with_bad_source_name_falls_back_to_upload(client: TestClient) -> None:
    digest = push_blob(client, "source/repo", b"exists")
    response = client.post(
        "/v2/target/blobs/uploads/", params={"mount": digest, "from": "UPPER/case"}
    )
    assert response.status_code == 202


def test_mount_with_malformed_digest_is_400(client: TestClient) -> None:
    response = client.post(
        "/v2/target/blobs/uploads/", params={"mount": "sha256:nope", "from": "source"}
    )
    assert response.status_code == 400
    assert error_codes(response) == ["DIGEST_INVALID"]


def test_mount_without_from_links_from_the_global_store(client: TestClient) -> None:
    digest = push_blob(client, "somewhere/else", b"global")
    response = client.post("/v2/target/blobs/uploads/", params={"mount": digest})
    assert response.status_code == 201
    assert client.get(f"/v2/target/blobs/{digest}").content == b"global"


class ChunkyDriver(InMemoryDriver):
    """An in-memory driver that, like S3, wants chunks of a minimum size."""

    min_chunk_size = 5 * 1024 * 1024

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> ChunkyDriver:
        return cls()


def test_oci_chunk_min_length_comes_from_the_driver() -> None:
    registry = Registry(ChunkyDriver(), delete_enabled=True)
    app = create_app(Config(storage=StorageConfig(driver="inmemory")), registry=registry)
    with TestClient(app) as client:
        response = client.post("/v2/repo/blobs/uploads/")
        assert response.status_code == 202
        assert response.headers["oci-chunk-min-length"] == str(5 * 1024 * 1024)


def test_parallel_sessions_are_independent(client: TestClient) -> None:
    first, second = start(client), start(client)
    assert first != second
    client.patch(first, content=b"first")
    client.patch(second, content=b"second!")
    assert client.put(first, params={"digest": digest_of(b"first")}).status_code == 201
    assert client.put(second, params={"digest": digest_of(b"second!")}).status_code == 201
