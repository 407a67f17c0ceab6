"""end-2 and end-10: blob GET/HEAD (ranges, ETag, redirects) and DELETE."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from starlette.testclient import TestClient

from pyregistry.api.ranges import MAX_RANGES
from pyregistry.app import create_app
from pyregistry.config.model import Config, StorageConfig
from pyregistry.storage import Registry
from storage_drivers.inmemory import InMemoryDriver
from tests.api.helpers import byteranges, digest_of, error_codes, push_blob

DATA = bytes(range(256)) * 4  # 1024 bytes


@pytest.fixture
def blob(client: TestClient) -> str:
    return push_blob(client, "library/data", DATA)


def test_get_blob_streams_content_with_headers(client: TestClient, blob: str) -> None:
    response = client.get(f"/v2/library/data/blobs/{blob}")
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["docker-content-digest"] == blob
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["etag"] == f'"{blob}"'
    assert response.headers["accept-ranges"] == "bytes"


def test_head_blob_has_length_and_digest_but_no_body(client: TestClient, blob: str) -> None:
    response = client.head(f"/v2/library/data/blobs/{blob}")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["docker-content-digest"] == blob
    assert response.headers["content-type"] == "application/octet-stream"


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=1000-", 1000, 1023),
        ("bytes=-24", 1000, 1023),
        ("bytes=1020-5000", 1020, 1023),
        ("bytes=-5000", 0, 1023),
        ("bytes=5-5", 5, 5),
    ],
)
def test_range_requests_answer_206(
    client: TestClient, blob: str, header: str, start: int, end: int
) -> None:
    response = client.get(f"/v2/library/data/blobs/{blob}", headers={"Range": header})
    assert response.status_code == 206
    assert response.content == DATA[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert response.headers["content-length"] == str(end - start + 1)


def test_head_with_range_reports_partial_length(client: TestClient, blob: str) -> None:
    response = client.head(f"/v2/library/data/blobs/{blob}", headers={"Range": "bytes=0-99"})
    assert response.status_code == 206
    assert response.headers["content-length"] == "100"
    assert response.content == b""


@pytest.mark.parametrize(
    "header",
    [
        "bytes=1024-",
        "bytes=2000-3000",
        "bytes=10-5",
        "bytes=-0",
        "bytes=1024-,2000-",
        "bytes=0-1,5-3",
        "items=0-1",
        "bytes=abc",
        "bytes=-",
    ],
)
def test_unsatisfiable_or_malformed_ranges_are_416(
    client: TestClient, blob: str, header: str
) -> None:
    response = client.get(f"/v2/library/data/blobs/{blob}", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(DATA)}"
    assert error_codes(response)


def test_several_ranges_answer_multipart_in_the_order_asked(client: TestClient, blob: str) -> None:
    """As distribution (Go's ServeContent): one part per range, in the order of the
    header, overlaps kept; containers/image matches parts to its ranges by position."""
    header = "bytes=1000-1009, 0-1,,-4,2-5"
    response = client.get(f"/v2/library/data/blobs/{blob}", headers={"Range": header})
    assert response.status_code == 206
    assert "content-range" not in response.headers
    assert response.headers["docker-content-digest"] == blob
    assert byteranges(response) == [
        ("bytes 1000-1009/1024", DATA[1000:1010]),
        ("bytes 0-1/1024", DATA[0:2]),
        ("bytes 1020-1023/1024", DATA[1020:]),
        ("bytes 2-5/1024", DATA[2:6]),
    ]
    head = client.head(f"/v2/library/data/blobs/{blob}", headers={"Range": header})
    assert head.status_code == 206
    assert head.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert head.headers["content-length"] == str(len(response.content))
    assert head.content == b""


def test_ranges_past_the_end_are_dropped(client: TestClient, blob: str) -> None:
    response = client.get(f"/v2/library/data/blobs/{blob}", headers={"Range": "bytes=0-1,4000-"})
    assert response.status_code == 206
    assert response.headers["content-range"] == "bytes 0-1/1024"
    assert response.content == DATA[:2]


@pytest.mark.parametrize("header", ["bytes=0-1023,0-1023", "bytes=0-600,100-900"])
def test_ranges_asking_for_more_than_the_blob_get_it_whole(
    client: TestClient, blob: str, header: str
) -> None:
    response = client.get(f"/v2/library/data/blobs/{blob}", headers={"Range": header})
    assert response.status_code == 200
    assert response.content == DATA


def test_too_many_ranges_get_the_whole_blob(client: TestClient, blob: str) -> None:
    header = "bytes=" + ",".join(f"{i}-{i}" for i in range(MAX_RANGES + 1))
    big = push_blob(client, "library/data", bytes(MAX_RANGES + 1))
    response = client.get(f"/v2/library/data/blobs/{big}", headers={"Range": header})
    assert response.status_code == 200
    assert response.content == bytes(MAX_RANGES + 1)
    header = "bytes=" + ",".join(f"{i}-{i}" for i in range(0, 1000, 10))
    response = client.get(f"/v2/library/data/blobs/{blob}", headers={"Range": header})
    assert [data for _, data in byteranges(response)] == [
        DATA[i : i + 1] for i in range(0, 1000, 10)
    ]


def test_if_range_mismatch_serves_whole_blob(client: TestClient, blob: str) -> None:
    response = client.get(
        f"/v2/library/data/blobs/{blob}",
        headers={"Range": "bytes=0-9", "If-Range": '"sha256:' + "0" * 64 + '"'},
    )
    assert response.status_code == 200
    assert response.content == DATA


def test_if_none_match_gives_304(client: TestClient, blob: str) -> None:
    response = client.get(f"/v2/library/data/blobs/{blob}", headers={"If-None-Match": f'"{blob}"'})
    assert response.status_code == 304
    assert response.content == b""


@pytest.mark.parametrize("if_match", ["*", "", '"{blob}"', '"sha256:00", "{blob}"'])
def test_if_match_naming_the_blob_serves_it(client: TestClient, blob: str, if_match: str) -> None:
    headers = {"If-Match": if_match.format(blob=blob), "Range": "bytes=0-9"}
    response = client.get(f"/v2/library/data/blobs/{blob}", headers=headers)
    assert response.status_code == 206
    assert response.content == DATA[:10]


@pytest.mark.parametrize("if_match", ['"sha256:00"', 'W/"{blob}"', "{blob}x"])
def test_if_match_naming_another_gives_412(client: TestClient, blob: str, if_match: str) -> None:
    """As Go's ServeContent (distribution): a weak tag never matches, before any range."""
    headers = {"If-Match": if_match.format(blob=blob), "Range": "bytes=0-9"}
    response = client.get(f"/v2/library/data/blobs/{blob}", headers=headers)
    assert response.status_code == 412
    assert response.json()["errors"][0]["code"] == "UNSUPPORTED"
    assert response.headers["etag"] == f'"{blob}"'
    head = client.head(f"/v2/library/data/blobs/{blob}", headers=headers)
    assert head.status_code == 412
    assert head.content == b""


def test_empty_blob(client: TestClient) -> None:
    digest = push_blob(client, "library/data", b"")
    response = client.get(f"/v2/library/data/blobs/{digest}")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "0"
    ranged = client.get(f"/v2/library/data/blobs/{digest}", headers={"Range": "bytes=0-"})
    assert ranged.status_code == 416


def test_unknown_blob_is_404_blob_unknown(client: TestClient, blob: str) -> None:
    other = digest_of(b"never pushed")
    for method in ("GET", "HEAD"):
        response = client.request(method, f"/v2/library/data/blobs/{other}")
        assert response.status_code == 404
    assert error_codes(client.get(f"/v2/library/data/blobs/{other}")) == ["BLOB_UNKNOWN"]
    # Blobs are per repository: another repository (existing or not) does not see it.
    assert client.head(f"/v2/library/other/blobs/{blob}").status_code == 404


@pytest.mark.parametrize(
    "digest", ["sha256:abc", "sha256:" + "G" * 64, "md5:" + "a" * 32, "nocolon", "sha256:"]
)
def test_malformed_digest_is_400(client: TestClient, digest: str) -> None:
    for method in ("GET", "HEAD", "DELETE"):
        response = client.request(method, f"/v2/library/data/blobs/{digest}")
        assert response.status_code == 400, (method, digest)
    assert error_codes(client.get(f"/v2/library/data/blobs/{digest}")) == ["DIGEST_INVALID"]


def test_sha512_blob_round_trip(client: TestClient) -> None:
    digest = push_blob(client, "library/data", b"sha512 content", algorithm="sha512")
    assert digest.startswith("sha512:")
    response = client.get(f"/v2/library/data/blobs/{digest}")
    assert response.status_code == 200
    assert response.content == b"sha512 content"
    assert response.headers["docker-content-digest"] == digest


def test_delete_blob_is_202_then_404(client: TestClient, blob: str) -> None:
    response = client.delete(f"/v2/library/data/blobs/{blob}")
    assert response.status_code == 202
    assert client.head(f"/v2/library/data/blobs/{blob}").status_code == 404
    again = client.delete(f"/v2/library/data/blobs/{blob}")
    assert again.status_code == 404
    assert error_codes(again) == ["BLOB_UNKNOWN"]


class RedirectingDriver(InMemoryDriver):
    """An in-memory driver that, like S3, offers direct URLs for content."""

    async def redirect_url(self, path: str, method: str = "GET") -> str | None:
        return f"https://blobs.example.invalid{path}?signed=1"

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> RedirectingDriver:
        return cls()


def test_get_redirects_with_307_when_the_driver_offers_a_url() -> None:
    registry = Registry(RedirectingDriver(), delete_enabled=True, redirect=True)
    app = create_app(Config(storage=StorageConfig(driver="inmemory")), registry=registry)
    with TestClient(app, follow_redirects=False) as client:
        digest = push_blob(client, "repo", b"redirect me")
        response = client.get(f"/v2/repo/blobs/{digest}")
        assert response.status_code == 307
        assert response.headers["location"].startswith("https://blobs.example.invalid/")
        assert response.headers["docker-content-digest"] == digest
        head = client.head(f"/v2/repo/blobs/{digest}")
        assert head.status_code == 200
        assert head.headers["content-length"] == str(len(b"redirect me"))


def test_redirect_disabled_serves_content() -> None:
    registry = Registry(RedirectingDriver(), delete_enabled=True, redirect=False)
    app = create_app(Config(storage=StorageConfig(driver="inmemory")), registry=registry)
    with TestClient(app, follow_redirects=False) as client:
        digest = push_blob(client, "repo", b"served here")
        response = client.get(f"/v2/repo/blobs/{digest}")
        assert response.status_code == 200
        assert response.content == b"served here"
