"""Signing registry tokens: the key, its certificate chain, and the claim sets.

Tokens carry ``x5c`` (when a certificate is configured) and ``kid``, so distribution
2.8 and 3.x and pyregistry all find the key: by the chain against their
``rootcertbundle``, or by the key ID. ``aud`` is a plain string, which 2.8 requires.

Refresh tokens are signed by the same key with the audience ``pyregistry-refresh:<service>``,
so a registry never accepts one as an access token.
"""

from __future__ import annotations

import base64
import datetime
import logging
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pyregistry.auth.claims import InvalidClaims, check_claims
from pyregistry.auth.files import file_lock, write_atomically
from pyregistry.auth.jwk import PublicKey, libtrust_key_id, rfc7638_thumbprint
from pyregistry.auth.jws import CompactJWS, MalformedToken, algorithm_for, sign
from pyregistry.auth.trust import load_certificates
from pyregistry.self_signed import self_signed_builder

log = logging.getLogger("pyregistry.auth")

REFRESH_AUDIENCE_PREFIX = "pyregistry-refresh:"


@dataclass(frozen=True)
class IssuedToken:
    token: str
    issued_at: datetime.datetime
    expires_in: int


def generate_signing_material(key_path: str, cert_path: str | None) -> None:
    """A new EC P-256 key (and a self-signed certificate when ``cert_path`` is given),
    written with mode 0600/0644 - for a first start without prepared key files."""
    key = ec.generate_private_key(ec.SECP256R1())
    write_atomically(
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        0o600,
    )
    if cert_path:
        write_atomically(cert_path, self_signed_certificate(key), 0o644)


def self_signed_certificate(key: Any, common_name: str = "pyregistry token signer") -> bytes:
    cert = (
        self_signed_builder(key, common_name, datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, None if _is_edwards(key) else hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def _is_edwards(key: Any) -> bool:
    from cryptography.hazmat.primitives.asymmetric import ed448, ed25519

    return isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey)


def _ensure_signing_material(key_path: str, cert_path: str | None) -> None:
    """Create what is missing, once even when several workers start together."""
    if os.path.exists(key_path) and (not cert_path or os.path.exists(cert_path)):
        return
    with file_lock(key_path):
        if not os.path.exists(key_path):
            if cert_path and os.path.exists(cert_path):
                raise ValueError(f"{cert_path} exists but its key {key_path} does not")
            generate_signing_material(key_path, cert_path)
            log.warning("token signing key %s was missing: generated a new one", key_path)
        elif cert_path and not os.path.exists(cert_path):
            with open(key_path, "rb") as handle:
                existing = serialization.load_pem_private_key(handle.read(), None)
            write_atomically(cert_path, self_signed_certificate(existing), 0o644)
            log.warning("token certificate %s was missing: self-signed one for the key", cert_path)


class TokenSigner:
    """Issues access and refresh tokens for one service."""

    def __init__(
        self,
        *,
        key_path: str,
        cert_path: str | None,
        issuer: str,
        service: str,
        expiration_seconds: float,
        refresh_expiration_seconds: float | None = None,
        kid_format: str = "thumbprint",
    ) -> None:
        _ensure_signing_material(key_path, cert_path)
        with open(key_path, "rb") as handle:
            self.private_key = serialization.load_pem_private_key(handle.read(), None)
        self.alg = algorithm_for(self.private_key)
        self.public_key: PublicKey = self.private_key.public_key()  # type: ignore[assignment]
        self.certificates: list[x509.Certificate] = []
        if cert_path:
            with open(cert_path, "rb") as handle:
                self.certificates = load_certificates(handle.read())
            if not self.certificates:
                raise ValueError(f"{cert_path} holds no PEM certificate")
            if rfc7638_thumbprint(self.certificates[0].public_key()) != rfc7638_thumbprint(  # type: ignore[arg-type]
                self.public_key
            ):
                raise ValueError(f"the first certificate in {cert_path} is not for {key_path}")
        self.kid = (
            libtrust_key_id(self.public_key)
            if kid_format == "libtrust"
            else rfc7638_thumbprint(self.public_key)
        )
        self.issuer = issuer
        self.service = service
        self.expiration_seconds = int(expiration_seconds)
        self.refresh_expiration_seconds = refresh_expiration_seconds

    def _header(self) -> dict[str, Any]:
        header: dict[str, Any] = {"kid": self.kid}
        if self.certificates:
            header["x5c"] = [
                base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
                for c in self.certificates
            ]
        return header

    def issue(self, subject: str, access: list[dict[str, Any]]) -> IssuedToken:
        """An access token for ``subject`` granting exactly ``access``."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": now + self.expiration_seconds,
            "nbf": now,
            "iat": now,
            "jti": secrets.token_urlsafe(16),
            "access": access,
        }
        token = sign(self._header(), claims, self.private_key, self.alg)
        issued = datetime.datetime.fromtimestamp(now, datetime.UTC)
        return IssuedToken(token, issued, self.expiration_seconds)

    def refresh_token(self, subject: str, binding: str = "") -> str:
        """A refresh token for ``subject``; ``binding`` (e.g. derived from the password
        hash) is checked on use, so changing the password revokes the token."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "bnd": binding,
            "iss": self.issuer,
            "sub": subject,
            "aud": REFRESH_AUDIENCE_PREFIX + self.service,
            "iat": now,
            "nbf": now,
            "jti": secrets.token_urlsafe(24),
        }
        if self.refresh_expiration_seconds:
            claims["exp"] = now + int(self.refresh_expiration_seconds)
        else:
            claims["exp"] = now + 100 * 365 * 86400  # the spec: refresh tokens do not expire
        return sign({"kid": self.kid}, claims, self.private_key, self.alg)

    def refresh_subject(self, raw: str) -> tuple[str, str]:
        """``(subject, binding)`` of a refresh token this signer issued; ValueError
        otherwise."""
        try:
            jws = CompactJWS(raw, (self.alg,))
            if not jws.verify(self.public_key):
                raise ValueError("bad signature")
            claims = check_claims(
                jws.payload(), issuer=self.issuer, service=REFRESH_AUDIENCE_PREFIX + self.service
            )
        except (MalformedToken, InvalidClaims) as exc:
            raise ValueError(str(exc)) from exc
        if not claims.subject:
            raise ValueError("refresh token without subject")
        return claims.subject, str(claims.raw.get("bnd", ""))
