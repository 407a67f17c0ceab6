"""``auth.token``: what is accepted, and every way a token is refused - always 401 with
distribution's challenge, never a 500."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any, cast

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from tests.auth.conftest import REALM, ClientFactory, make_config, token_auth
from tests.auth.pki import (
    SERVICE,
    Pki,
    b64url,
    claims,
    mint,
    repo_access,
    unsigned,
)

MANIFEST = "/v2/team/app/manifests/latest"


def challenge(scope: str | None, error: str | None = None) -> str:
    value = f'Bearer realm="{REALM}",service="{SERVICE}"'
    if scope:
        value += f',scope="{scope}"'
    if error:
        value += f',error="{error}"'
    return value


def assert_refused(response, scope: str | None, error: str | None) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == challenge(scope, error)
    assert response.headers["docker-distribution-api-version"] == "registry/2.0"
    body = response.json()
    assert body["errors"][0]["code"] == "UNAUTHORIZED"


def test_valid_token_is_accepted_and_names_the_actor(token_client, pki: Pki) -> None:
    token = mint(pki.signers["rsa"], claims([repo_access("team/app", "pull")], sub="carol"))
    response = token_client.get(MANIFEST, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.json()["actor"] == "carol"
    assert response.json()["method"] == "token"


def test_no_token_gets_challenge_with_scope_and_detail(token_client) -> None:
    response = token_client.put(MANIFEST)
    assert_refused(response, "repository:team/app:pull,push", None)
    assert response.json()["errors"][0]["detail"] == [
        {"Type": "repository", "Class": "", "Name": "team/app", "Action": "pull"},
        {"Type": "repository", "Class": "", "Name": "team/app", "Action": "push"},
    ]


def test_head_refusal_has_no_body(token_client) -> None:
    response = token_client.head(MANIFEST)
    assert response.status_code == 401
    assert response.content == b""
    assert response.headers["www-authenticate"] == challenge("repository:team/app:pull")


def test_base_requires_a_token_but_no_scope(token_client, pki: Pki) -> None:
    assert_refused(token_client.get("/v2/"), None, None)
    token = mint(pki.signers["ec"], claims([]))
    assert token_client.get("/v2/", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_catalog_needs_registry_catalog_star(token_client, pki: Pki) -> None:
    signer = pki.signers["ec"]
    weak = mint(signer, claims([repo_access("team/app", "*")]))
    response = token_client.get("/v2/_catalog", headers={"Authorization": f"Bearer {weak}"})
    assert_refused(response, "registry:catalog:*", "insufficient_scope")
    strong = mint(signer, claims([{"type": "registry", "name": "catalog", "actions": ["*"]}]))
    ok = token_client.get("/v2/_catalog", headers={"Authorization": f"Bearer {strong}"})
    assert ok.status_code == 200


def test_wildcard_action_grants_everything_on_that_repository(token_client, pki: Pki) -> None:
    token = mint(pki.signers["rsa"], claims([repo_access("team/app", "*")]))
    auth = {"Authorization": f"Bearer {token}"}
    assert token_client.delete(MANIFEST, headers=auth).status_code == 200
    assert token_client.put(MANIFEST, headers=auth).status_code == 200


def test_required_access_by_method(token_client, pki: Pki) -> None:
    signer = pki.signers["ec"]
    pull = {"Authorization": f"Bearer {mint(signer, claims([repo_access('a/b', 'pull')]))}"}
    push = {"Authorization": f"Bearer {mint(signer, claims([repo_access('a/b', 'pull', 'push')]))}"}
    assert token_client.get("/v2/a/b/tags/list", headers=pull).status_code == 200
    assert token_client.head("/v2/a/b/blobs/sha256:" + "0" * 64, headers=pull).status_code == 200
    assert token_client.get("/v2/a/b/referrers/sha256:" + "0" * 64, headers=pull).status_code == 200
    for method in ("POST", "PATCH", "PUT"):
        path = "/v2/a/b/blobs/uploads/" + ("" if method == "POST" else "some-id")
        refused = token_client.request(method, path, headers=pull)
        assert_refused(refused, "repository:a/b:pull,push", "insufficient_scope")
        assert token_client.request(method, path, headers=push).status_code == 200
    refused = token_client.delete("/v2/a/b/blobs/sha256:" + "0" * 64, headers=push)
    assert_refused(refused, "repository:a/b:delete", "insufficient_scope")


def test_mount_asks_for_pull_on_the_source(token_client, pki: Pki) -> None:
    """The challenge names the source so clients fetch a token for it; a token without
    it still may upload (the API turns the mount into a plain upload session)."""
    signer = pki.signers["ec"]
    digest = "sha256:" + "1" * 64
    path = f"/v2/team/app/blobs/uploads/?mount={digest}&from=other/repo"
    anonymous = token_client.post(path)
    assert_refused(anonymous, "repository:team/app:pull,push repository:other/repo:pull", None)
    only_pull = mint(signer, claims([repo_access("team/app", "pull")]))
    response = token_client.post(path, headers={"Authorization": f"Bearer {only_pull}"})
    assert_refused(
        response, "repository:team/app:pull,push repository:other/repo:pull", "insufficient_scope"
    )
    only_target = mint(signer, claims([repo_access("team/app", "pull", "push")]))
    response = token_client.post(path, headers={"Authorization": f"Bearer {only_target}"})
    assert response.status_code == 200
    both = mint(
        signer,
        claims([repo_access("team/app", "pull", "push"), repo_access("other/repo", "pull")]),
    )
    assert token_client.post(path, headers={"Authorization": f"Bearer {both}"}).status_code == 200


def test_scope_name_with_port(token_client, pki: Pki) -> None:
    name = "localhost:5000/a/b"
    token = mint(pki.signers["ec"], claims([repo_access(name, "pull")]))
    ok = token_client.get(f"/v2/{name}/tags/list", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200


def test_can_answers_later_checks(token_client, pki: Pki) -> None:
    token = mint(pki.signers["ec"], claims([repo_access("team/app", "pull")]))
    auth = {"Authorization": f"Bearer {token}"}
    yes = token_client.get(MANIFEST, params={"can": "repository|team/app|pull"}, headers=auth)
    no = token_client.get(MANIFEST, params={"can": "repository|team/other|pull"}, headers=auth)
    assert yes.json()["can"] is True
    assert no.json()["can"] is False
    assert yes.json()["global_pull"] is False


# --- refusals ---------------------------------------------------------------------------


def _pull(name: str = "team/app") -> list[dict]:
    return [repo_access(name, "pull")]


@pytest.mark.parametrize(
    "case",
    [
        "expired",
        "not-yet-valid",
        "wrong-issuer",
        "wrong-audience",
        "audience-list-without-service",
        "missing-exp",
    ],
)
def test_bad_claims_are_invalid_token(token_client, pki: Pki, case: str) -> None:
    signer = pki.signers["rsa"]
    payload = {
        "expired": claims(_pull(), exp_in=-120),
        "not-yet-valid": claims(_pull(), nbf_in=300),
        "wrong-issuer": claims(_pull(), iss="someone-else"),
        "wrong-audience": claims(_pull(), aud="another-registry"),
        "audience-list-without-service": claims(_pull(), aud=["a", "b"]),
        "missing-exp": {k: v for k, v in claims(_pull()).items() if k != "exp"},
    }[case]
    response = token_client.get(
        MANIFEST, headers={"Authorization": f"Bearer {mint(signer, payload)}"}
    )
    assert_refused(response, "repository:team/app:pull", "invalid_token")


def test_leeway_of_sixty_seconds(token_client, pki: Pki) -> None:
    signer = pki.signers["ec"]
    for payload in (claims(_pull(), exp_in=-30), claims(_pull(), nbf_in=30)):
        auth = {"Authorization": f"Bearer {mint(signer, payload)}"}
        assert token_client.get(MANIFEST, headers=auth).status_code == 200


def test_audience_list_containing_service(token_client, pki: Pki) -> None:
    token = mint(pki.signers["ec"], claims(_pull(), aud=["other", SERVICE]))
    assert (
        token_client.get(MANIFEST, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )


def test_bad_signature(token_client, pki: Pki) -> None:
    token = mint(pki.signers["rsa"], claims(_pull()))
    head, body, sig = token.split(".")
    forged = f"{head}.{body}.{sig[:-6]}AAAAAA"
    response = token_client.get(MANIFEST, headers={"Authorization": f"Bearer {forged}"})
    assert_refused(response, "repository:team/app:pull", "invalid_token")


def test_tampered_claims(token_client, pki: Pki) -> None:
    token = mint(pki.signers["ec"], claims(_pull()))
    head, _, sig = token.split(".")
    richer = claims([repo_access("team/app", "*")])
    tampered = f"{head}.{b64url(json.dumps(richer).encode())}.{sig}"
    response = token_client.delete(MANIFEST, headers={"Authorization": f"Bearer {tampered}"})
    assert_refused(response, "repository:team/app:delete", "invalid_token")


def test_unknown_key(token_client, pki: Pki) -> None:
    stranger = Pki.create().signers["ec"]  # a whole other CA
    for header in ("x5c", "kid", "jwk"):
        token = mint(stranger, claims(_pull()), header=header)
        response = token_client.get(MANIFEST, headers={"Authorization": f"Bearer {token}"})
        assert_refused(response, "repository:team/app:pull", "invalid_token")


def test_self_signed_x5c_not_in_bundle(token_client, pki: Pki) -> None:
    token = mint(pki.self_signed("rsa"), claims(_pull()))
    response = token_client.get(MANIFEST, headers={"Authorization": f"Bearer {token}"})
    assert_refused(response, "repository:team/app:pull", "invalid_token")


def test_x5c_signed_by_another_key_than_the_leaf(token_client, pki: Pki) -> None:
    """A valid chain for one key does not vouch for a signature made with another."""
    stranger = Pki.create().signers["ec"]
    token = jwt.encode(
        claims(_pull()), stranger.key, algorithm="ES256", headers={"x5c": pki.signers["ec"].x5c()}
    )
    response = token_client.get(MANIFEST, headers={"Authorization": f"Bearer {token}"})
    assert_refused(response, "repository:team/app:pull", "invalid_token")


def test_alg_none(token_client, pki: Pki) -> None:
    signer = pki.signers["rsa"]
    for header in ({"alg": "none", "typ": "JWT"}, {"alg": "none", "x5c": signer.x5c()}):
        token = unsigned(claims(_pull()), header)
        response = token_client.get(MANIFEST, headers={"Authorization": f"Bearer {token}"})
        assert_refused(response, "repository:team/app:pull", "invalid_token")


def _hs256(header: dict[str, Any], payload: Any, secret: bytes) -> str:
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(sig)}"


def test_hs256_signed_with_the_public_key(token_client, pki: Pki) -> None:
    """The classic key-confusion attack: HMAC keyed with the (public) certificate key."""
    signer = pki.signers["rsa"]
    public_pem = signer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    cert_der = signer.chain[0].public_bytes(serialization.Encoding.DER)
    headers: list[dict[str, Any]] = [
        {"alg": "HS256", "typ": "JWT", "x5c": signer.x5c()},
        {"alg": "HS256", "kid": signer.thumbprint},
        {"alg": "HS256", "kid": signer.libtrust_id},
    ]
    for secret in (public_pem, cert_der):
        for header in headers:
            token = _hs256(header, claims(_pull()), secret)
            response = token_client.get(MANIFEST, headers={"Authorization": f"Bearer {token}"})
            assert_refused(response, "repository:team/app:pull", "invalid_token")


def test_algorithm_outside_signingalgorithms(
    bundle: Path, client_for: ClientFactory, pki: Pki
) -> None:
    client = client_for(make_config(token_auth(bundle, signingalgorithms=["ES256"])))
    rsa_token = mint(pki.signers["rsa"], claims(_pull()))
    assert_refused(
        client.get(MANIFEST, headers={"Authorization": f"Bearer {rsa_token}"}),
        "repository:team/app:pull",
        "invalid_token",
    )
    ec_token = mint(pki.signers["ec"], claims(_pull()))
    assert client.get(MANIFEST, headers={"Authorization": f"Bearer {ec_token}"}).status_code == 200


def test_token_for_repository_a_used_on_b(token_client, pki: Pki) -> None:
    token = mint(pki.signers["ec"], claims([repo_access("team/a", "pull", "push", "delete")]))
    response = token_client.get(
        "/v2/team/b/manifests/latest", headers={"Authorization": f"Bearer {token}"}
    )
    assert_refused(response, "repository:team/b:pull", "insufficient_scope")


def test_pull_only_token_used_to_push(token_client, pki: Pki) -> None:
    token = mint(pki.signers["rsa"], claims(_pull()))
    response = token_client.put(MANIFEST, headers={"Authorization": f"Bearer {token}"})
    assert_refused(response, "repository:team/app:pull,push", "insufficient_scope")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer not-a-token",
        "Bearer a.b.c",
        "Bearer ....",
        "Bearer e30.e30.e30",
        "Bearer " + "A" * 5000,
        "Bearer \u00e9\u00e9.\u00e9.x",
        "Bearer " + b64url(b'{"alg":"RS256","x5c":["!!"]}') + ".e30.AAAA",
        "Bearer " + b64url(b'{"alg":"RS256","x5c":"notalist"}') + ".e30.AAAA",
        "Bearer " + b64url(b'{"alg":"RS256","jwk":{"kty":"RSA","n":1}}') + ".e30.AAAA",
        "Bearer " + b64url(b'{"alg":"ES256","kid":7}') + ".e30.AAAA",
        "Bearer " + b64url(b'["alg"]') + ".e30.AAAA",
        "Negotiate abc",
        "garbage",
    ],
)
def test_garbage_authorization_is_401_never_500(token_client, header: str) -> None:
    raw = header.encode("utf-8")
    response = token_client.get(MANIFEST, headers={"Authorization": raw})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith(f'Bearer realm="{REALM}"')


def test_garbage_claims_after_valid_signature(token_client, pki: Pki) -> None:
    signer = pki.signers["ec"]
    for payload in (
        claims([{"type": "repository", "name": "team/app", "actions": "pull"}]),
        claims(cast(Any, ["team/app"])),
        claims(_pull(), exp="soon"),
        claims(_pull(), aud=7),
        claims(_pull(), sub=cast(Any, ["x"])),
    ):
        token = mint(signer, payload)
        response = token_client.get(MANIFEST, headers={"Authorization": f"Bearer {token}"})
        assert_refused(response, "repository:team/app:pull", "invalid_token")


def test_basic_header_against_a_token_realm(token_client) -> None:
    basic = base64.b64encode(b"alice:secret").decode()
    response = token_client.get(MANIFEST, headers={"Authorization": f"Basic {basic}"})
    assert_refused(response, "repository:team/app:pull", None)


def test_autoredirect_realm(bundle: Path, client_for: ClientFactory) -> None:
    config = make_config(token_auth(bundle, autoredirect=True, autoredirectpath="/t"))
    client = client_for(config)
    response = client.get("/v2/", headers={"Host": "reg.example:5000"})
    assert response.headers["www-authenticate"] == (
        f'Bearer realm="https://reg.example:5000/t",service="{SERVICE}"'
    )
    forwarded = client.get("/v2/", headers={"X-Forwarded-Proto": "http"})
    assert forwarded.headers["www-authenticate"].startswith('Bearer realm="http://testserver/t"')


def test_prefix_is_honoured(bundle: Path, client_for: ClientFactory) -> None:
    client = client_for(make_config(token_auth(bundle), prefix="/registry/"))
    assert client.get("/registry/v2/team/app/tags/list").status_code == 401
    passed = client.get("/v2/team/app/tags/list")  # not the API under this prefix: passed on
    assert passed.json() == {"passed_through": True}


def test_non_api_paths_pass_through(token_client) -> None:
    assert token_client.get("/v2/just-a-name").json() == {"passed_through": True}
    assert token_client.get("/healthz").json() == {"passed_through": True}
