"""A test PKI and an independent token signer.

Tokens here are minted with PyJWT (not with pyregistry's own signer), so accepting them
shows interoperability with other token services: a CA, an intermediate, leaf
certificates with RSA and EC P-256 keys, JWKS files, and every way of naming the key
(``x5c``, ``kid`` as RFC 7638 thumbprint or libtrust ID, ``jwk``).
"""

from __future__ import annotations

import base64
import datetime
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from pyregistry.auth.jwk import libtrust_key_id, public_jwk, rfc7638_thumbprint

ISSUER = "test-token-issuer"
SERVICE = "test-registry"


def new_key(kind: str) -> Any:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(kind)


def make_cert(
    subject_key: Any,
    common_name: str,
    *,
    issuer_key: Any | None = None,
    issuer_cert: x509.Certificate | None = None,
    ca: bool = False,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_cert.subject if issuer_cert is not None else name)
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - datetime.timedelta(hours=1))
        .not_valid_after(not_after or now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return builder.sign(issuer_key or subject_key, hashes.SHA256())


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def b64der(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def key_pem(key: Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@dataclass
class Signer:
    """One signing key with its certificate chain (leaf first, up to but not incl. root)."""

    key: Any
    chain: list[x509.Certificate]
    alg: str

    @property
    def thumbprint(self) -> str:
        return rfc7638_thumbprint(self.key.public_key())

    @property
    def libtrust_id(self) -> str:
        return libtrust_key_id(self.key.public_key())

    def jwk(self) -> dict[str, str]:
        return public_jwk(self.key.public_key())

    def x5c(self) -> list[str]:
        return [b64der(c) for c in self.chain]


@dataclass
class Pki:
    """A root CA, an intermediate CA, and leaf signers under it."""

    root_key: Any
    root: x509.Certificate
    inter_key: Any
    intermediate: x509.Certificate
    signers: dict[str, Signer] = field(default_factory=dict)

    @classmethod
    def create(cls) -> Pki:
        root_key = new_key("ec")
        root = make_cert(root_key, "Test Root CA", ca=True)
        inter_key = new_key("ec")
        intermediate = make_cert(
            inter_key, "Test Intermediate CA", issuer_key=root_key, issuer_cert=root, ca=True
        )
        pki = cls(root_key, root, inter_key, intermediate)
        for kind, alg in (("rsa", "RS256"), ("ec", "ES256")):
            key = new_key(kind)
            leaf = make_cert(
                key, f"token signer {kind}", issuer_key=inter_key, issuer_cert=intermediate
            )
            pki.signers[kind] = Signer(key, [leaf, intermediate], alg)
        return pki

    def bundle(self) -> bytes:
        return pem(self.root)

    def self_signed(self, kind: str) -> Signer:
        """A signer whose own certificate is the trust anchor (distribution's usual setup)."""
        key = new_key(kind)
        return Signer(key, [make_cert(key, f"self-signed {kind}", ca=True)], _ALGS[kind])


_ALGS = {"rsa": "RS256", "ec": "ES256"}


def claims(
    access: list[dict[str, Any]] | None = None,
    *,
    sub: str = "alice",
    iss: str = ISSUER,
    aud: Any = SERVICE,
    exp_in: float = 300,
    nbf_in: float = 0,
    **extra: Any,
) -> dict[str, Any]:
    now = int(time.time())
    result: dict[str, Any] = {
        "iss": iss,
        "sub": sub,
        "aud": aud,
        "exp": int(now + exp_in),
        "nbf": int(now + nbf_in),
        "iat": now,
        "jti": secrets.token_hex(8),
        "access": access or [],
    }
    result.update(extra)
    return result


def repo_access(name: str, *actions: str) -> dict[str, Any]:
    return {"type": "repository", "name": name, "actions": list(actions)}


def mint(
    signer: Signer, payload: dict[str, Any], *, header: str = "x5c", alg: str | None = None
) -> str:
    """A token signed by ``signer`` with PyJWT; ``header`` picks how the key is named:
    ``x5c``, ``kid`` (RFC 7638), ``kid-libtrust``, ``jwk`` or ``none`` (no key hint)."""
    headers: dict[str, Any] = {}
    if header == "x5c":
        headers["x5c"] = signer.x5c()
    elif header == "kid":
        headers["kid"] = signer.thumbprint
    elif header == "kid-libtrust":
        headers["kid"] = signer.libtrust_id
    elif header == "jwk":
        headers["jwk"] = signer.jwk()
    return jwt.encode(payload, signer.key, algorithm=alg or signer.alg, headers=headers)


def write_jwks(path: Path, entries: dict[str, Signer]) -> Path:
    keys = [dict(s.jwk(), kid=kid) for kid, s in entries.items()]
    path.write_text(json.dumps({"keys": keys}))
    return path


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(payload: dict[str, Any], header: dict[str, Any]) -> str:
    """``header.payload.`` with an empty signature (for ``alg: none``)."""
    head = b64url(json.dumps(header).encode())
    body = b64url(json.dumps(payload).encode())
    return f"{head}.{body}."
