"""The built-in token service: Docker's GET protocol and the OAuth2 POST form, tokens that
grant only what the rules allow, refresh tokens, anonymous tokens."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from pyregistry.auth.htpasswd import remove_user, set_user
from pyregistry.auth.jwk import rfc7638_thumbprint
from tests.auth.conftest import (
    ISSUE_ISSUER,
    ISSUE_SERVICE,
    USERS,
    ClientFactory,
    IssuerFiles,
    issuer_config,
)
from tests.auth.dance import parse_challenge

TOKEN_URL = "/auth/token"


@pytest.fixture
def client(issuer_files: IssuerFiles, client_for: ClientFactory):
    return client_for(issuer_config(issuer_files))


def creds(user: str) -> tuple[str, str]:
    return user, USERS[user]


def decode(token: str, issuer_files: IssuerFiles) -> dict[str, Any]:
    """Verify with PyJWT and the generated certificate, as an outside party would."""
    key = x509.load_pem_x509_certificate(issuer_files.certificate.read_bytes()).public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return jwt.decode(token, key, algorithms=["ES256"], audience=ISSUE_SERVICE, issuer=ISSUE_ISSUER)


def get_token(client, user: str | None, *scopes: str, **params: str) -> dict[str, Any]:
    query: list[tuple[str, str]] = [("service", ISSUE_SERVICE)]
    query += [("scope", s) for s in scopes]
    query += list(params.items())
    response = client.get(TOKEN_URL, params=query, auth=creds(user) if user else None)
    assert response.status_code == 200, response.text
    return response.json()


def access_of(client, issuer_files, user: str | None, *scopes: str) -> list[dict[str, Any]]:
    return decode(get_token(client, user, *scopes)["token"], issuer_files)["access"]


def test_get_answer_fields(client, issuer_files: IssuerFiles) -> None:
    body = get_token(client, "alice", "repository:team/app:pull,push")
    assert body["token"] == body["access_token"]
    assert body["expires_in"] == 300
    assert time.time() - 120 < time.mktime(time.strptime(body["issued_at"], "%Y-%m-%dT%H:%M:%SZ"))
    assert "refresh_token" not in body
    claims = decode(body["token"], issuer_files)
    assert claims["sub"] == "alice"
    assert claims["aud"] == ISSUE_SERVICE
    assert claims["exp"] - claims["iat"] == 300
    header = jwt.get_unverified_header(body["token"])
    assert header["alg"] == "ES256" and len(header["x5c"]) == 1
    key = x509.load_pem_x509_certificate(issuer_files.certificate.read_bytes()).public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert header["kid"] == rfc7638_thumbprint(key)


@pytest.mark.parametrize(
    ("user", "scope", "granted"),
    [
        ("alice", "repository:team/app:pull,push,delete", ["pull", "push"]),
        ("bob", "repository:team/app:pull,push", ["pull"]),
        ("carol", "repository:team/app:delete,pull", ["delete", "pull"]),
        ("eve", "repository:team/app:pull", None),
        (None, "repository:team/app:pull", None),
        (None, "repository:public/app:pull,push", ["pull"]),
        ("eve", "repository:public/app:pull,push", ["pull"]),
        ("alice", "repository:public/app:pull,push,delete,*", ["pull", "push", "delete", "*"]),
        ("root", "repository:anything/at/all:pull,push,delete", ["pull", "push", "delete"]),
        ("root", "registry:catalog:*", ["*"]),
        ("alice", "registry:catalog:*", None),
        ("alice", "repository:nosuchproject/app:pull", None),
        ("bob", "repository(plugin):team/app:pull", ["pull"]),
    ],
)
def test_grants_are_requested_scope_intersected_with_rules(
    client, issuer_files: IssuerFiles, user: str | None, scope: str, granted: list[str] | None
) -> None:
    access = access_of(client, issuer_files, user, scope)
    if granted is None:
        assert access == []
    else:
        rtype = scope.split(":", 1)[0].split("(")[0]
        name = scope.split(":", 1)[1].rsplit(":", 1)[0]
        assert access == [{"type": rtype, "name": name, "actions": granted}]


def test_several_scopes_and_nothing_unrequested(client, issuer_files: IssuerFiles) -> None:
    access = access_of(
        client, issuer_files, "carol", "repository:team/a:pull", "repository:team/b:push"
    )
    assert access == [
        {"type": "repository", "name": "team/a", "actions": ["pull"]},
        {"type": "repository", "name": "team/b", "actions": ["push"]},
    ]


def test_login_without_scope(client, issuer_files: IssuerFiles) -> None:
    body = get_token(client, "bob", account="bob", client_id="docker", offline_token="true")
    assert decode(body["token"], issuer_files)["access"] == []
    assert body["refresh_token"]


def test_bad_credentials_are_401(client) -> None:
    for auth in (("alice", "nope"), ("mallory", "x")):
        response = client.get(TOKEN_URL, params={"service": ISSUE_SERVICE}, auth=auth)
        assert response.status_code == 401
        assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"
        assert parse_challenge(response.headers["www-authenticate"])[0] == "basic"
    garbage = client.get(TOKEN_URL, headers={"Authorization": "Basic %%%"})
    assert garbage.status_code == 401


def test_bad_requests_are_400(client) -> None:
    wrong_service = client.get(TOKEN_URL, params={"service": "elsewhere"})
    assert wrong_service.status_code == 400
    bad_scope = client.get(TOKEN_URL, params={"scope": "repository:UPPER:pull"})
    assert bad_scope.status_code == 400
    assert client.put(TOKEN_URL).status_code == 405


def test_scope_with_port_in_name(client, issuer_files: IssuerFiles) -> None:
    access = access_of(client, issuer_files, "root", "repository:localhost:5000/team/app:pull")
    assert access == [
        {"type": "repository", "name": "localhost:5000/team/app", "actions": ["pull"]}
    ]


def _post(client, **form: str):
    return client.post(TOKEN_URL, data=form)


def test_post_password_grant_and_refresh(client, issuer_files: IssuerFiles) -> None:
    first = _post(
        client,
        grant_type="password",
        username="alice",
        password=USERS["alice"],
        service=ISSUE_SERVICE,
        client_id="test",
        access_type="offline",
        scope="repository:team/app:pull,push repository:team/app:delete",
    )
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["scope"] == "repository:team/app:pull,push"
    assert body["expires_in"] == 300 and body["issued_at"]
    refresh = body["refresh_token"]
    assert decode(body["access_token"], issuer_files)["sub"] == "alice"

    again = _post(
        client,
        grant_type="refresh_token",
        refresh_token=refresh,
        service=ISSUE_SERVICE,
        client_id="test",
        scope="repository:public/x:delete",
    )
    assert again.status_code == 200, again.text
    assert again.json()["refresh_token"] == refresh
    assert decode(again.json()["access_token"], issuer_files)["access"] == [
        {"type": "repository", "name": "public/x", "actions": ["delete"]}
    ]


def test_get_refresh_token_works_with_post(client) -> None:
    refresh = get_token(client, "bob", offline_token="true")["refresh_token"]
    response = _post(client, grant_type="refresh_token", refresh_token=refresh, client_id="t")
    assert response.status_code == 200
    assert response.json()["scope"] == ""


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password", "username": "alice", "password": "x"}, "invalid_grant"),
        ({"grant_type": "password"}, "invalid_grant"),
        ({"grant_type": "refresh_token", "refresh_token": "garbage"}, "invalid_grant"),
        ({"grant_type": "authorization_code", "code": "x"}, "unsupported_grant_type"),
        ({"grant_type": "password", "scope": "bad scope"}, "invalid_scope"),
    ],
)
def test_post_errors(client, form: dict[str, str], error: str) -> None:
    response = _post(client, **form)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_access_token_is_no_refresh_token(client) -> None:
    """An access token presented as refresh token is refused (and vice versa, below)."""
    access = get_token(client, "alice")["token"]
    response = _post(client, grant_type="refresh_token", refresh_token=access)
    assert response.status_code == 400


def test_refresh_token_is_no_access_token(client) -> None:
    refresh = get_token(client, "root", offline_token="true")["refresh_token"]
    response = client.get("/v2/", headers={"Authorization": f"Bearer {refresh}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_post_needs_a_form(client) -> None:
    response = client.post(TOKEN_URL, content=json.dumps({"grant_type": "password"}))
    assert response.status_code == 400


def test_realm_defaults_to_this_servers_token_path(client) -> None:
    response = client.get("/v2/team/app/tags/list")
    scheme, params = parse_challenge(response.headers["www-authenticate"])
    assert scheme == "bearer"
    assert params == {
        "realm": "http://testserver/auth/token",
        "service": ISSUE_SERVICE,
        "scope": "repository:team/app:pull",
    }


def test_issued_tokens_are_accepted_by_the_registry(client) -> None:
    token = get_token(client, "alice", "repository:team/app:pull")["token"]
    ok = client.get("/v2/team/app/tags/list", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.json()["actor"] == "alice"


def test_libtrust_kid_option(issuer_files: IssuerFiles, client_for: ClientFactory) -> None:
    client = client_for(issuer_config(issuer_files, issue={"kid": "libtrust"}))
    token = get_token(client, "alice")["token"]
    kid = jwt.get_unverified_header(token)["kid"]
    assert len(kid.split(":")) == 12 and all(len(p) == 4 for p in kid.split(":"))


def test_password_change_or_removal_revokes_refresh_tokens(
    client, issuer_files: IssuerFiles
) -> None:
    users = str(issuer_files.users)
    set_user(users, "frank", "first")
    query = {"service": ISSUE_SERVICE, "offline_token": "true"}
    refresh = client.get(TOKEN_URL, params=query, auth=("frank", "first")).json()["refresh_token"]
    assert _post(client, grant_type="refresh_token", refresh_token=refresh).status_code == 200
    set_user(users, "frank", "second")
    assert _post(client, grant_type="refresh_token", refresh_token=refresh).status_code == 400
    refresh = client.get(TOKEN_URL, params=query, auth=("frank", "second")).json()["refresh_token"]
    assert _post(client, grant_type="refresh_token", refresh_token=refresh).status_code == 200
    remove_user(users, "frank")
    assert _post(client, grant_type="refresh_token", refresh_token=refresh).status_code == 400
