"""Compact JWS signing and verification with a fixed algorithm list and strict key typing.

The algorithm must be one of the configured ``signingalgorithms`` (``none`` never is),
and it must fit the key: HMAC only with a secret from a JWKS ``oct`` key, never with a
public key, so "HS256 signed with the public key" cannot work.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt.algorithms import get_default_algorithms

from pyregistry import json_input
from pyregistry.auth.jwk import PublicKey, b64url, b64url_decode

#: distribution 3.x's full list, also its default when ``signingalgorithms`` is not set.
ALL_ALGORITHMS: tuple[str, ...] = (
    "EdDSA",
    "HS256",
    "HS384",
    "HS512",
    "RS256",
    "RS384",
    "RS512",
    "ES256",
    "ES384",
    "ES512",
    "PS256",
    "PS384",
    "PS512",
)
_EC_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}
_IMPLEMENTATIONS = get_default_algorithms()


class MalformedToken(ValueError):
    """Not a compact JWS, or an algorithm that is not accepted."""


def key_fits(alg: str, key: object) -> bool:
    """Whether ``key`` may verify (or create) an ``alg`` signature."""
    if alg.startswith("HS"):
        return isinstance(key, bytes)
    if alg.startswith(("RS", "PS")):
        return isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey)
    if alg in _EC_CURVES:
        return (
            isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey)
            and key.curve.name == _EC_CURVES[alg]
        )
    if alg == "EdDSA":
        return isinstance(
            key,
            ed25519.Ed25519PublicKey
            | ed25519.Ed25519PrivateKey
            | ed448.Ed448PublicKey
            | ed448.Ed448PrivateKey,
        )
    return False


class CompactJWS:
    """A parsed, not yet verified ``header.payload.signature``."""

    def __init__(self, raw: str, allowed: tuple[str, ...]) -> None:
        parts = raw.split(".")
        if len(parts) != 3:
            raise MalformedToken("a token has three dot-separated parts")
        try:
            header = json_input.loads(b64url_decode(parts[0]))
            self.payload_bytes = b64url_decode(parts[1])
            self.signature = b64url_decode(parts[2])
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedToken(f"undecodable token: {exc}") from exc
        if not isinstance(header, dict):
            raise MalformedToken("the JOSE header is not an object")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in allowed or alg not in ALL_ALGORITHMS:
            raise MalformedToken(f"signing algorithm {alg!r} is not accepted")
        if "crit" in header:
            raise MalformedToken("critical header parameters are not supported")
        self.header: dict[str, Any] = header
        self.alg = alg
        self.signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")

    def verify(self, key: PublicKey) -> bool:
        """Whether the signature is ``alg`` over the signing input with ``key``."""
        if not self.signature or not key_fits(self.alg, key):
            return False
        try:
            return bool(_IMPLEMENTATIONS[self.alg].verify(self.signing_input, key, self.signature))
        except Exception:  # noqa: BLE001 - a malformed signature for this key type is just "no"
            return False

    def payload(self) -> dict[str, Any]:
        try:
            claims = json_input.loads(self.payload_bytes)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedToken(f"claims are not JSON: {exc}") from exc
        if not isinstance(claims, dict):
            raise MalformedToken("claims are not a JSON object")
        return claims


def algorithm_for(key: object) -> str:
    """The algorithm a token issuer signs with for ``key`` (a private key)."""
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        for alg, curve in _EC_CURVES.items():
            if key.curve.name == curve:
                return alg
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return "EdDSA"
    raise ValueError(f"cannot sign tokens with a {type(key).__name__}")


def sign(header: dict[str, Any], claims: dict[str, Any], key: object, alg: str) -> str:
    """A compact JWS of ``claims`` signed with ``key`` (``alg`` goes in the header)."""
    if not key_fits(alg, key):
        raise ValueError(f"{alg} does not fit a {type(key).__name__}")
    full_header = {"typ": "JWT", "alg": alg, **header}
    head = b64url(json.dumps(full_header, separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{head}.{body}".encode("ascii")
    signature = _IMPLEMENTATIONS[alg].sign(signing_input, key)
    return f"{head}.{body}.{b64url(signature)}"
