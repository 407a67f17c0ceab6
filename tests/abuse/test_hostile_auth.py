"""Issue 11, item 3: with token auth on, a hostile repository name is refused (400
NAME_INVALID, JSON) before any challenge echoes it; every header stays legal."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pyregistry.app import create_app
from tests.abuse.hostile import (
    RAW_BAD,
    TOKEN_PASSWORD,
    TOKEN_USER,
    no_logged_errors,
    path_quote,
    raw_exchange,
    token_config,
    variants,
)
from tests.api.helpers import error_codes
from tests.support.server import run_server


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("token-auth")
    with run_server(create_app(token_config(directory))) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with no_logged_errors(), httpx.Client(base_url=base_url, timeout=30) as http:
        yield http


def legal_headers(response: httpx.Response) -> None:
    """Every header value is visible ASCII or space (no control or non-ASCII character)."""
    for name, value in response.headers.raw:
        assert all(32 <= byte < 127 or byte == 9 for byte in value), (name, value)


def test_raw_hostile_names_answer_400_json(base_url: str) -> None:
    """The issue's requests, sent byte for byte: no dropped connection, no 500."""
    with no_logged_errors():
        for bad in RAW_BAD:
            for path in (f"/v2/projb/a{bad}/manifests/latest", f"/v2/secret{bad}/tags/list"):
                answer, _ = raw_exchange(
                    base_url,
                    f"GET {path} HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n".encode(),
                )
                head, _, body = answer.partition(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 400 "), (path, answer[:300])
                assert json.loads(body)["errors"][0]["code"] == "NAME_INVALID", body


def test_decoded_hostile_names(client: httpx.Client) -> None:
    for bad in variants("team/app"):
        for method, suffix in (
            ("GET", "manifests/latest"),
            ("HEAD", "manifests/latest"),
            ("PUT", "manifests/latest"),
            ("DELETE", "blobs/sha256:" + "a" * 64),
            ("POST", "blobs/uploads/"),
            ("GET", "tags/list"),
        ):
            resp = client.request(method, f"/v2/{path_quote(bad)}/{suffix}")
            assert resp.status_code == 400, (method, bad, resp.text)
            legal_headers(resp)
            if method != "HEAD":
                assert error_codes(resp) == ["NAME_INVALID"]


def test_valid_names_still_get_a_challenge(client: httpx.Client) -> None:
    resp = client.get("/v2/team/app/manifests/latest")
    assert resp.status_code == 401
    challenge = resp.headers["www-authenticate"]
    assert 'scope="repository:team/app:pull"' in challenge
    legal_headers(resp)


def test_mount_from_a_hostile_source_has_a_safe_challenge(client: httpx.Client) -> None:
    digest = "sha256:" + "b" * 64
    for bad in variants("team/source"):
        resp = client.post("/v2/team/app/blobs/uploads/", params={"mount": digest, "from": bad})
        assert resp.status_code == 401, resp.text
        legal_headers(resp)
        assert "team/source" not in resp.headers["www-authenticate"]


def _token(client: httpx.Client, scope: str) -> str:
    resp = client.get(
        "/auth/token",
        params={"service": "pyregistry", "scope": scope},
        auth=(TOKEN_USER, TOKEN_PASSWORD),
    )
    assert resp.status_code == 200, resp.text
    token: str = resp.json()["token"]
    return token


def test_with_a_token_hostile_values_keep_their_errors(client: httpx.Client) -> None:
    token = _token(client, "repository:team/app:pull,push,delete")
    auth = {"Authorization": f"Bearer {token}"}
    for bad in variants("latest"):
        resp = client.delete(f"/v2/team/app/manifests/{path_quote(bad)}", headers=auth)
        assert resp.status_code == 400 and error_codes(resp) == ["TAG_INVALID"], resp.text
    started = client.post("/v2/team/app/blobs/uploads/", headers=auth)
    assert started.status_code == 202
    legal_headers(started)
    location = started.headers["location"]
    for bad in variants(started.headers["docker-upload-uuid"]):
        resp = client.get(f"/v2/team/app/blobs/uploads/{path_quote(bad)}", headers=auth)
        assert resp.status_code == 404, resp.text
    assert client.get(location, headers=auth).status_code == 204


def test_token_service_refuses_hostile_scopes(client: httpx.Client) -> None:
    for bad in variants("team/app"):
        resp = client.get(
            "/auth/token", params={"service": "pyregistry", "scope": f"repository:{bad}:pull"}
        )
        assert resp.status_code == 400, resp.text
        legal_headers(resp)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_deeply_nested_token_is_a_challenge_not_a_500(client: httpx.Client) -> None:
    """A JOSE header or claims nested thousands deep: invalid_token, never a traceback."""
    deep = b"[" * 5000 + b"]" * 5000
    header = _b64(b'{"alg":"ES256","x":' + deep + b"}")
    for token in (f"{_b64(deep)}.{_b64(b'{}')}.sig", f"{header}.{_b64(deep)}.c2ln"):
        resp = client.get("/v2/team/app/tags/list", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401, resp.text
        assert 'error="invalid_token"' in resp.headers["www-authenticate"]
    assert client.get("/v2/").status_code == 401  # still serving


def test_token_files_are_where_the_config_says(tmp_path: Path) -> None:
    """The helper's config really turns token auth on (a guard for the tests above)."""
    with run_server(create_app(token_config(tmp_path))) as url:
        assert httpx.get(url + "/v2/").status_code == 401
    assert (tmp_path / "token.key").exists()
