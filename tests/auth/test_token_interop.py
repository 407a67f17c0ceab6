"""Tokens from a separate signer (PyJWT, the test CA): every way distribution 2.8 and 3.x
let a token name its key is accepted - and only with a key the registry trusts."""

from __future__ import annotations

import datetime
import hashlib
import json
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from pyregistry.auth.jwk import b64url, distribution_ec_thumbprint, rfc7638_thumbprint
from tests.auth.conftest import ClientFactory, make_config, token_auth
from tests.auth.pki import (
    Pki,
    Signer,
    claims,
    make_cert,
    mint,
    new_key,
    pem,
    repo_access,
    write_jwks,
)

PATH = "/v2/library/alpine/manifests/3.20"
PULL = [repo_access("library/alpine", "pull")]


@pytest.fixture(scope="module")
def self_signed(pki: Pki) -> dict[str, Signer]:
    return {kind: pki.self_signed(kind) for kind in ("rsa", "ec")}


@pytest.fixture
def client(pki: Pki, self_signed: dict[str, Signer], tmp_path: Path, client_for: ClientFactory):
    """Trusts the CA root and the two self-signed signer certificates (distribution's
    usual setup: the token service's own certificate as the bundle)."""
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(pki.bundle() + b"".join(pem(s.chain[0]) for s in self_signed.values()))
    return client_for(make_config(token_auth(bundle)))


def status(client, token: str) -> int:
    return client.get(PATH, headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_x5c_chain_through_an_intermediate(client, pki: Pki, kind: str) -> None:
    assert status(client, mint(pki.signers[kind], claims(PULL), header="x5c")) == 200


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_x5c_leaf_alone_is_not_enough_without_the_intermediate(client, pki: Pki, kind: str) -> None:
    signer = pki.signers[kind]
    token = jwt.encode(
        claims(PULL), signer.key, algorithm=signer.alg, headers={"x5c": signer.x5c()[:1]}
    )
    assert status(client, token) == 401


@pytest.mark.parametrize("kind", ["rsa", "ec"])
@pytest.mark.parametrize("header", ["x5c", "kid", "kid-libtrust", "jwk"])
def test_self_signed_signer_every_key_hint(
    client, self_signed: dict[str, Signer], kind: str, header: str
) -> None:
    assert status(client, mint(self_signed[kind], claims(PULL), header=header)) == 200


def test_distribution3_ec_kid_variant(client, self_signed: dict[str, Signer]) -> None:
    """distribution 3's EC "thumbprint" (of the curve generator) still finds the key."""
    signer = self_signed["ec"]
    kid = distribution_ec_thumbprint(signer.key.public_key())
    assert kid != signer.thumbprint
    token = jwt.encode(claims(PULL), signer.key, algorithm="ES256", headers={"kid": kid})
    assert status(client, token) == 200


def test_kid_of_ca_leaf_not_in_bundle_is_unknown(client, pki: Pki) -> None:
    """kid looks only at bundle certificates: a leaf known only through its chain is not."""
    assert status(client, mint(pki.signers["ec"], claims(PULL), header="kid")) == 401


def test_jwk_header_with_its_own_chain(client, pki: Pki) -> None:
    signer = pki.signers["rsa"]
    jwk = dict(signer.jwk(), x5c=signer.x5c())
    token = jwt.encode(claims(PULL), signer.key, algorithm="RS256", headers={"jwk": jwk})
    assert status(client, token) == 200


def test_jwk_header_chain_for_another_key(client, pki: Pki) -> None:
    signer, other = pki.signers["rsa"], pki.signers["ec"]
    jwk = dict(signer.jwk(), x5c=other.x5c())
    token = jwt.encode(claims(PULL), signer.key, algorithm="RS256", headers={"jwk": jwk})
    assert status(client, token) == 401


def test_expired_certificate_in_chain(client, pki: Pki) -> None:
    key = new_key("ec")
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=10)
    leaf = make_cert(
        key,
        "expired signer",
        issuer_key=pki.inter_key,
        issuer_cert=pki.intermediate,
        not_before=past - datetime.timedelta(days=10),
        not_after=past,
    )
    signer = Signer(key, [leaf, pki.intermediate], "ES256")
    assert status(client, mint(signer, claims(PULL))) == 401


def test_intermediate_that_is_no_ca(client, pki: Pki) -> None:
    """A leaf may not issue certificates: a chain through a non-CA is refused."""
    fake_inter_key = new_key("ec")
    fake_inter = make_cert(
        fake_inter_key, "not a CA", issuer_key=pki.inter_key, issuer_cert=pki.intermediate
    )
    key = new_key("rsa")
    leaf = make_cert(key, "under a non-CA", issuer_key=fake_inter_key, issuer_cert=fake_inter)
    signer = Signer(key, [leaf, fake_inter, pki.intermediate], "RS256")
    assert status(client, mint(signer, claims(PULL))) == 401


def test_jwks_keys_by_kid(tmp_path: Path, client_for: ClientFactory, pki: Pki) -> None:
    rsa_signer, ec_signer = pki.self_signed("rsa"), pki.self_signed("ec")
    jwks = write_jwks(tmp_path / "jwks.json", {"rsa-1": rsa_signer, "ec-1": ec_signer})
    config = make_config(
        {
            "token": {
                "realm": "r",
                "service": "test-registry",
                "issuer": "test-token-issuer",
                "jwks": str(jwks),
            }
        }
    )
    client = client_for(config)
    for kid, signer in (("rsa-1", rsa_signer), ("ec-1", ec_signer)):
        token = jwt.encode(claims(PULL), signer.key, algorithm=signer.alg, headers={"kid": kid})
        assert status(client, token) == 200
    wrong = jwt.encode(claims(PULL), ec_signer.key, algorithm="ES256", headers={"kid": "rsa-1"})
    assert status(client, wrong) == 401
    unknown = jwt.encode(claims(PULL), ec_signer.key, algorithm="ES256", headers={"kid": "nope"})
    assert status(client, unknown) == 401


def test_jwks_oct_key_allows_hmac(tmp_path: Path, client_for: ClientFactory) -> None:
    """HMAC works only with a secret the operator put in the JWKS as an ``oct`` key."""
    secret = hashlib.sha256(b"shared secret").digest()
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{"kty": "oct", "kid": "hmac-1", "k": b64url(secret)}]}))
    config = make_config(
        {
            "token": {
                "realm": "r",
                "service": "test-registry",
                "issuer": "test-token-issuer",
                "jwks": str(jwks),
            }
        }
    )
    client = client_for(config)
    good = jwt.encode(claims(PULL), secret, algorithm="HS256", headers={"kid": "hmac-1"})
    assert status(client, good) == 200
    bad = jwt.encode(
        claims(PULL),
        b"another secret, 32 bytes or more!",
        algorithm="HS256",
        headers={"kid": "hmac-1"},
    )
    assert status(client, bad) == 401


def test_thumbprint_matches_rfc7638_example() -> None:
    """RFC 7638 section 3.1's worked example."""
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc"
        "_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQ"
        "R0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bF"
        "TWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    )
    from pyregistry.auth.jwk import key_from_jwk

    key = key_from_jwk({"kty": "RSA", "n": n, "e": "AQAB"})
    assert rfc7638_thumbprint(key) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_ec_thumbprint_pads_coordinates() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    from pyregistry.auth.jwk import public_jwk

    jwk = public_jwk(key)
    assert len(jwk["x"]) == len(jwk["y"]) == 43  # 32 bytes, unpadded base64url
