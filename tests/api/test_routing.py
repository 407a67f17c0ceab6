"""Route parsing from the right (names with slashes) and Location building."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.testclient import TestClient

from pyregistry.api.access import Access
from pyregistry.api.context import (
    BASE,
    BLOB,
    CATALOG,
    MANIFEST,
    REFERRERS,
    TAGS,
    UPLOAD,
    UPLOAD_START,
)
from pyregistry.api.routes import RouteMatch, parse_api_path, required_access
from pyregistry.api.urls import UrlBuilder, normalize_prefix
from pyregistry.app import create_app
from pyregistry.config.model import Config, HTTPConfig, StorageConfig
from tests.api.helpers import push_blob, push_image

D = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("rest", "expected"),
    [
        ("", RouteMatch(BASE)),
        ("/", RouteMatch(BASE)),
        ("/_catalog", RouteMatch(CATALOG)),
        ("/a/tags/list", RouteMatch(TAGS, "a")),
        ("/a/b/c/tags/list", RouteMatch(TAGS, "a/b/c")),
        (f"/a/b/blobs/{D}", RouteMatch(BLOB, "a/b", D)),
        ("/a/b/blobs/uploads/", RouteMatch(UPLOAD_START, "a/b")),
        ("/a/b/blobs/uploads", RouteMatch(UPLOAD_START, "a/b")),
        ("/a/b/blobs/uploads/abc-123", RouteMatch(UPLOAD, "a/b", "abc-123")),
        ("/a/manifests/latest", RouteMatch(MANIFEST, "a", "latest")),
        (f"/a/referrers/{D}", RouteMatch(REFERRERS, "a", D)),
        # Names made of the endpoints' own words still parse from the right.
        (f"/manifests/blobs/blobs/{D}", RouteMatch(BLOB, "manifests/blobs", D)),
        ("/blobs/uploads/tags/list", RouteMatch(TAGS, "blobs/uploads")),
        ("/tags/list/manifests/v1", RouteMatch(MANIFEST, "tags/list", "v1")),
        ("/x/blobs/uploads/manifests/tag", RouteMatch(MANIFEST, "x/blobs/uploads", "tag")),
        ("/a/blobs/uploads/blobs/uploads/", RouteMatch(UPLOAD_START, "a/blobs/uploads")),
    ],
)
def test_parse_api_path(rest: str, expected: RouteMatch) -> None:
    assert parse_api_path(rest) == expected


@pytest.mark.parametrize("rest", ["x", "/a", "/a/b", "/a/blobs/", "/a/manifests/", "/a/tags"])
def test_unparseable_paths(rest: str) -> None:
    assert parse_api_path(rest) is None


def actions(endpoint: str, method: str) -> tuple[str, ...]:
    return required_access(RouteMatch(endpoint, "a/b", "r"), method).actions


def test_actions() -> None:
    assert actions(CATALOG, "GET") == ("*",)
    assert actions(BLOB, "HEAD") == ("pull",)
    assert actions(MANIFEST, "DELETE") == ("delete",)
    # As distribution (registry/handlers/app.go): the method alone decides, so cancelling
    # an upload needs delete, which is what auth enforces.
    assert actions(UPLOAD, "DELETE") == ("delete",)
    assert actions(UPLOAD, "PATCH") == ("pull", "push")
    assert actions(BASE, "GET") == ()


def test_required_access_names_resources() -> None:
    catalog = required_access(RouteMatch(CATALOG), "GET")
    assert catalog.required == (Access("registry", "catalog", "*"),)
    mount = required_access(RouteMatch(UPLOAD_START, "a/b"), "POST", mount_from="c/d")
    assert mount.required == (
        Access("repository", "a/b", "pull"),
        Access("repository", "a/b", "push"),
    )
    assert mount.mount_source == Access("repository", "c/d", "pull")
    assert mount.wanted == (*mount.required, mount.mount_source)
    assert required_access(RouteMatch(BLOB, "a/b"), "GET", mount_from="c/d").mount_source is None


def test_deeply_nested_repository_round_trip(client: TestClient) -> None:
    name = "a/b/c/d/e/blobs/manifests/tags"
    digest, manifest = push_image(client, name, "v1")
    assert client.get(f"/v2/{name}/manifests/v1").content == manifest
    assert client.get(f"/v2/{name}/tags/list").json() == {"name": name, "tags": ["v1"]}
    assert name in client.get("/v2/_catalog").json()["repositories"]


def test_name_too_long_is_400(client: TestClient) -> None:
    response = client.get("/v2/" + "a" * 256 + "/tags/list")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "NAME_INVALID"


@pytest.mark.parametrize("prefix", ["/", "", "registry", "/registry/", "/a/b"])
def test_normalize_prefix(prefix: str) -> None:
    result = normalize_prefix(prefix)
    assert result == "" or (result.startswith("/") and not result.endswith("/"))


def _request(headers: dict[str, str], scheme: str = "http") -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": scheme,
        "path": "/v2/",
        "query_string": b"",
        "headers": raw,
        "server": ("127.0.0.1", 5000),
    }
    return Request(scope)


def test_urls_from_request_headers() -> None:
    urls = UrlBuilder(HTTPConfig())
    assert (
        urls.blob(_request({"host": "reg:5000"}), "a/b", D) == f"http://reg:5000/v2/a/b/blobs/{D}"
    )
    forwarded = _request(
        {"host": "internal:5000", "x-forwarded-proto": "https", "x-forwarded-host": "reg.example"}
    )
    assert urls.upload(forwarded, "a", "id") == "https://reg.example/v2/a/blobs/uploads/id"
    port = _request(
        {"host": "reg.example", "x-forwarded-port": "8443", "x-forwarded-proto": "https"}
    )
    assert urls.manifest(port, "a", "v1") == "https://reg.example:8443/v2/a/manifests/v1"
    rfc7239 = _request({"host": "internal", "forwarded": 'proto=https;host="pub.example"'})
    assert urls.manifest(rfc7239, "a", "v1") == "https://pub.example/v2/a/manifests/v1"
    chained = _request({"x-forwarded-host": "first.example, second.example", "host": "x"})
    assert urls.origin(chained) == "http://first.example"


def test_urls_from_config_host_prefix_and_relative() -> None:
    request = _request({"host": "ignored:1"})
    configured = UrlBuilder(HTTPConfig(host="https://registry.example:8443", prefix="/reg/"))
    assert configured.blob(request, "a", D) == f"https://registry.example:8443/reg/v2/a/blobs/{D}"
    relative = UrlBuilder(HTTPConfig(relativeurls=True, prefix="/reg"))
    assert relative.upload(request, "a/b", "u") == "/reg/v2/a/b/blobs/uploads/u"
    assert (
        relative.next_link("_catalog", 2, "a/b") == '</reg/v2/_catalog?last=a%2Fb&n=2>; rel="next"'
    )


def test_relative_urls_in_responses() -> None:
    config = Config(storage=StorageConfig(driver="inmemory"), http=HTTPConfig(relativeurls=True))
    with TestClient(create_app(config)) as client:
        start = client.post("/v2/r/blobs/uploads/")
        assert start.headers["location"].startswith("/v2/r/blobs/uploads/")
        digest = push_blob(client, "r", b"data")
        put = client.put(start.headers["location"], params={"digest": digest}, content=b"data")
        assert put.headers["location"] == f"/v2/r/blobs/{digest}"


def test_forwarded_headers_shape_locations(client: TestClient) -> None:
    response = client.post(
        "/v2/r/blobs/uploads/",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "public.example"},
    )
    assert response.headers["location"].startswith("https://public.example/v2/r/blobs/uploads/")
