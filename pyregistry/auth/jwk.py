"""Public keys as JSON Web Keys and the key identifiers distribution matches ``kid`` on.

* RFC 7638 thumbprint: what distribution 3.x indexes its trusted certificates by;
* distribution 3.x's own EC variant, which (by a bug in its ``GetRFC7638Thumbprint``)
  hashes the curve's generator point instead of the key, so token servers that copy it
  send that value;
* the libtrust key ID (``ABCD:EFGH:...``): what distribution 2.8 and the token servers
  written for it put in ``kid``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

PublicKey = (
    rsa.RSAPublicKey
    | ec.EllipticCurvePublicKey
    | ed25519.Ed25519PublicKey
    | ed448.Ed448PublicKey
    | bytes  # an "oct" (HMAC) key from a JWKS file
)

_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
    "P-521": ec.SECP521R1,
}
_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
_CURVE_SIZES = {"P-256": 32, "P-384": 48, "P-521": 66}


class JWKError(ValueError):
    """A JSON Web Key that cannot be used."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64url_decode(text: str) -> bytes:
    """Strict: only the base64url alphabet, no padding (a lenient decoder would skip
    stray characters and accept many spellings of one token)."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


def _int_bytes(value: int, size: int | None = None) -> bytes:
    length = size if size is not None else max(1, (value.bit_length() + 7) // 8)
    return value.to_bytes(length, "big")


def _b64int(jwk: dict[str, Any], member: str) -> int:
    try:
        return int.from_bytes(b64url_decode(jwk[member]), "big")
    except (KeyError, ValueError, TypeError) as exc:
        raise JWKError(f"JWK member {member!r} missing or not base64url") from exc


def curve_name(key: ec.EllipticCurvePublicKey) -> str:
    """``P-256``/``P-384``/``P-521``; JWKError for other curves."""
    try:
        return _CURVE_NAMES[key.curve.name]
    except KeyError as exc:
        raise JWKError(f"unsupported curve {key.curve.name}") from exc


def public_jwk(key: PublicKey) -> dict[str, str]:
    """The RFC 7517 members that identify ``key`` (no ``kid``, no ``use``)."""
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        return {
            "e": b64url(_int_bytes(numbers.e)),
            "kty": "RSA",
            "n": b64url(_int_bytes(numbers.n)),
        }
    if isinstance(key, ec.EllipticCurvePublicKey):
        crv = curve_name(key)
        point = key.public_numbers()
        size = _CURVE_SIZES[crv]
        return {
            "crv": crv,
            "kty": "EC",
            "x": b64url(_int_bytes(point.x, size)),
            "y": b64url(_int_bytes(point.y, size)),
        }
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        crv = "Ed25519" if isinstance(key, ed25519.Ed25519PublicKey) else "Ed448"
        return {"crv": crv, "kty": "OKP", "x": b64url(raw)}
    if isinstance(key, bytes):
        return {"k": b64url(key), "kty": "oct"}
    raise JWKError(f"unsupported key type {type(key).__name__}")


def key_from_jwk(jwk: Any) -> PublicKey:
    """The public (or, for ``oct``, secret) key a JWK describes; JWKError if unusable."""
    if not isinstance(jwk, dict):
        raise JWKError("a JWK must be a JSON object")
    kty = jwk.get("kty")
    try:
        if kty == "RSA":
            return rsa.RSAPublicNumbers(_b64int(jwk, "e"), _b64int(jwk, "n")).public_key()
        if kty == "EC":
            curve = _CURVES.get(str(jwk.get("crv")))
            if curve is None:
                raise JWKError(f"unsupported EC curve {jwk.get('crv')!r}")
            numbers = ec.EllipticCurvePublicNumbers(_b64int(jwk, "x"), _b64int(jwk, "y"), curve())
            return numbers.public_key()
        if kty == "OKP":
            raw = b64url_decode(str(jwk.get("x", "")))
            if jwk.get("crv") == "Ed25519":
                return ed25519.Ed25519PublicKey.from_public_bytes(raw)
            if jwk.get("crv") == "Ed448":
                return ed448.Ed448PublicKey.from_public_bytes(raw)
            raise JWKError(f"unsupported OKP curve {jwk.get('crv')!r}")
        if kty == "oct":
            secret = b64url_decode(str(jwk.get("k", "")))
            if not secret:
                raise JWKError("empty oct key")
            return secret
    except JWKError:
        raise
    except (ValueError, TypeError) as exc:
        raise JWKError(f"invalid {kty} JWK: {exc}") from exc
    raise JWKError(f"unsupported key type {kty!r}")


def rfc7638_thumbprint(key: PublicKey) -> str:
    """SHA-256 JWK thumbprint (RFC 7638), base64url without padding."""
    members = public_jwk(key)
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode()).digest())


def distribution_ec_thumbprint(key: ec.EllipticCurvePublicKey) -> str:
    """distribution 3.x's EC "thumbprint": the curve's generator point, not the key's."""
    crv = curve_name(key)
    # The private key 1 has the generator itself as its public point.
    generator = ec.derive_private_key(1, _CURVES[crv]()).public_key().public_numbers()
    gx, gy = generator.x, generator.y
    x, y = b64url(_int_bytes(gx)), b64url(_int_bytes(gy))
    payload = f'{{"crv":"{crv}","kty":"EC","x":"{x}","y":"{y}"}}'
    return b64url(hashlib.sha256(payload.encode()).digest())


def libtrust_key_id(key: PublicKey) -> str:
    """libtrust's key ID: base32 of the first 240 bits of SHA-256(DER SubjectPublicKeyInfo),
    in groups of four joined by ``:``."""
    if isinstance(key, bytes):
        return ""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    text = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(text[i : i + 4] for i in range(0, len(text), 4))


def key_ids(key: PublicKey) -> list[str]:
    """Every ``kid`` a token signed by ``key`` may carry and still be recognised."""
    ids = [rfc7638_thumbprint(key)]
    lid = libtrust_key_id(key)
    if lid:
        ids.append(lid)
    if isinstance(key, ec.EllipticCurvePublicKey):
        ids.append(distribution_ec_thumbprint(key))
    return ids
