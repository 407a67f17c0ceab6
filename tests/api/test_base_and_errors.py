"""end-1, the headers every response carries, and error responses for bad routes/methods."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.testclient import TestClient

from pyregistry.api.context import RequestContext
from pyregistry.app import create_app
from pyregistry.config.model import Config, HTTPConfig, StorageConfig
from tests.api.helpers import error_codes

API_VERSION = "docker-distribution-api-version"


def test_base_answers_200_with_empty_json(client: TestClient) -> None:
    response = client.get("/v2/")
    assert response.status_code == 200
    assert response.json() == {}
    assert response.headers[API_VERSION] == "registry/2.0"
    assert response.headers["content-type"].startswith("application/json")


def test_base_without_trailing_slash_and_head(client: TestClient) -> None:
    assert client.get("/v2").status_code == 200
    head = client.head("/v2/")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == "2"


def test_unknown_route_is_json_404_with_version_header(client: TestClient) -> None:
    for path in ("/", "/v1/", "/v2/foo", "/v2/foo/bar/baz", "/v2x/", "/v2/foo/blobs"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert error_codes(response) == ["UNSUPPORTED"], path
        assert response.headers[API_VERSION] == "registry/2.0"


def test_wrong_method_is_405_unsupported(client: TestClient) -> None:
    cases = [
        ("POST", "/v2/"),
        ("DELETE", "/v2/_catalog"),
        ("PUT", "/v2/foo/tags/list"),
        ("POST", "/v2/foo/manifests/latest"),
        ("PATCH", "/v2/foo/blobs/sha256:" + "a" * 64),
        ("GET", "/v2/foo/blobs/uploads/"),
        ("POST", "/v2/foo/referrers/sha256:" + "a" * 64),
    ]
    for method, path in cases:
        response = client.request(method, path)
        assert response.status_code == 405, (method, path)
        assert error_codes(response) == ["UNSUPPORTED"]
        assert "allow" in response.headers


def test_error_body_has_code_message_detail(client: TestClient) -> None:
    response = client.get("/v2/Bad_Name/tags/list")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "NAME_INVALID"
    assert error["message"]
    assert "detail" in error


def test_head_error_has_no_body_but_length(client: TestClient) -> None:
    response = client.head("/v2/repo/blobs/sha256:" + "b" * 64)
    assert response.status_code == 404
    assert response.content == b""
    assert int(response.headers["content-length"]) > 0


def test_configured_headers_on_every_response() -> None:
    config = Config(
        storage=StorageConfig(driver="inmemory"),
        http=HTTPConfig(headers={"X-Content-Type-Options": ["nosniff"], "X-Multi": ["a", "b"]}),
    )
    with TestClient(create_app(config)) as client:
        for path in ("/v2/", "/v2/nope/tags/list", "/elsewhere"):
            response = client.get(path)
            assert response.headers["x-content-type-options"] == "nosniff", path
            assert response.headers.get_list("x-multi") == ["a", "b"], path
            assert response.headers[API_VERSION] == "registry/2.0"


def test_unexpected_exception_becomes_json_500(server_errors: list[logging.LogRecord]) -> None:
    async def broken_hook(request: Request, context: RequestContext) -> None:
        raise RuntimeError("boom")

    app = create_app(Config(storage=StorageConfig(driver="inmemory")), access_hooks=[broken_hook])
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/v2/")
    assert response.status_code == 500
    assert error_codes(response) == ["UNKNOWN"]
    assert "boom" not in response.text  # no internals leak to the client
    assert response.headers[API_VERSION] == "registry/2.0"
    assert any(r.exc_info for r in server_errors)  # the traceback went to the log
    server_errors.clear()


def test_app_state_exposes_registry_and_config(client: TestClient) -> None:
    app = client.app
    assert app.state.config.storage.driver == "inmemory"  # type: ignore[attr-defined]
    assert app.state.registry.delete_enabled is True  # type: ignore[attr-defined]


def test_prefix_moves_the_api() -> None:
    config = Config(storage=StorageConfig(driver="inmemory"), http=HTTPConfig(prefix="/registry/"))
    with TestClient(create_app(config)) as client:
        assert client.get("/registry/v2/").status_code == 200
        assert client.get("/v2/").status_code == 404
        start = client.post("/registry/v2/some/repo/blobs/uploads/")
        assert start.status_code == 202
        assert start.headers["location"].startswith("http://testserver/registry/v2/some/repo/")
