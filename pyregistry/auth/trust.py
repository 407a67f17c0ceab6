"""Which keys may sign tokens: the ``rootcertbundle`` certificates, the ``jwks`` file, and
how a token's header (``x5c``, ``jwk``, ``kid``) leads to one of them.

The order is distribution's: an ``x5c`` chain (verified up to a bundle certificate) wins;
else a ``jwk`` header (trusted only if its key ID is a trusted key's, or its own ``x5c``
verifies); else ``kid`` looked up among the trusted keys.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import logging
from collections.abc import Sequence
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from pyregistry.auth.jwk import JWKError, PublicKey, key_from_jwk, key_ids

log = logging.getLogger("pyregistry.auth")

MAX_CHAIN_DEPTH = 8


class UntrustedKey(Exception):
    """The token's signing key could not be found or trusted."""


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every ``CERTIFICATE`` block of a PEM bundle (other blocks are skipped)."""
    if b"-----BEGIN CERTIFICATE-----" not in data:
        return []
    return list(x509.load_pem_x509_certificates(data))


def load_jwks(data: bytes) -> dict[str, PublicKey]:
    """``{"keys": [...]}`` -> keys by ``kid``; unusable keys are a ValueError."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise ValueError('expected an object with a "keys" list')
    result: dict[str, PublicKey] = {}
    for index, jwk in enumerate(keys):
        try:
            result[str(jwk.get("kid", "")) if isinstance(jwk, dict) else ""] = key_from_jwk(jwk)
        except JWKError as exc:
            raise ValueError(f"key #{index}: {exc}") from exc
    return result


def _valid_now(cert: x509.Certificate, now: datetime.datetime) -> bool:
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


class TrustStore:
    """The roots and keys one token access controller trusts."""

    def __init__(
        self,
        roots: Sequence[x509.Certificate] = (),
        jwks: dict[str, PublicKey] | None = None,
    ) -> None:
        self.roots: list[x509.Certificate] = []
        self._root_ders: set[bytes] = set()
        self._by_kid: dict[str, list[PublicKey]] = {}
        for cert in roots:
            self.add_root(cert)
        for kid, key in (jwks or {}).items():
            self._by_kid.setdefault(kid, []).append(key)

    def add_key(self, key: PublicKey) -> None:
        """Trust ``key`` under every ID it may be named by (e.g. the built-in issuer's)."""
        for kid in key_ids(key):
            self._by_kid.setdefault(kid, []).append(key)

    def add_root(self, cert: x509.Certificate) -> None:
        self.roots.append(cert)
        self._root_ders.add(_der(cert))
        self.add_key(cert.public_key())  # type: ignore[arg-type]

    def __bool__(self) -> bool:
        return bool(self.roots or self._by_kid)

    def keys_for_kid(self, kid: str) -> list[PublicKey]:
        return list(self._by_kid.get(kid, ()))

    def verify_chain(self, chain: Sequence[x509.Certificate]) -> PublicKey:
        """The leaf's key, once the chain leads to a bundle certificate (validity periods
        checked; intermediates must be CAs; any key usage accepted, as distribution)."""
        if not chain:
            raise UntrustedKey("empty certificate chain")
        now = datetime.datetime.now(datetime.UTC)
        leaf = chain[0]
        if not _valid_now(leaf, now):
            raise UntrustedKey("leaf certificate expired or not yet valid")
        intermediates = list(chain[1:])
        current = leaf
        for _ in range(MAX_CHAIN_DEPTH):
            if _der(current) in self._root_ders:
                return leaf.public_key()  # type: ignore[return-value]
            for root in self.roots:
                if _valid_now(root, now) and _issued_by(current, root):
                    return leaf.public_key()  # type: ignore[return-value]
            parent = next(
                (
                    c
                    for c in intermediates
                    if _is_ca(c) and _valid_now(c, now) and _issued_by(current, c)
                ),
                None,
            )
            if parent is None:
                break
            intermediates.remove(parent)
            current = parent
        raise UntrustedKey("certificate chain does not lead to a trusted root")

    def signing_keys(self, header: dict[str, Any]) -> list[PublicKey]:
        """The candidate keys for a token with this JOSE header; UntrustedKey if none."""
        if "x5c" in header:
            return [self.verify_chain(_parse_x5c(header["x5c"]))]
        if "jwk" in header:
            return self._jwk_keys(header["jwk"])
        kid = header.get("kid")
        if isinstance(kid, str) and kid:
            keys = self.keys_for_kid(kid)
            if not keys:
                raise UntrustedKey(f"token signed by untrusted key with ID {kid!r}")
            return keys
        raise UntrustedKey("token header names no signing key (x5c, jwk or kid)")

    def _jwk_keys(self, jwk: Any) -> list[PublicKey]:
        if not isinstance(jwk, dict):
            raise UntrustedKey("malformed jwk header")
        if "x5c" in jwk:
            leaf_key = self.verify_chain(_parse_x5c(jwk["x5c"]))
            try:
                if key_ids(key_from_jwk(jwk))[0] != key_ids(leaf_key)[0]:
                    raise UntrustedKey("jwk does not match its certificate chain")
            except JWKError as exc:
                raise UntrustedKey(f"unusable jwk header: {exc}") from exc
            return [leaf_key]
        # No chain: the key must be one we already trust (by its kid, or by its material).
        ids: list[str] = []
        if isinstance(jwk.get("kid"), str) and jwk["kid"]:
            ids.append(jwk["kid"])
        try:
            ids.extend(key_ids(key_from_jwk(jwk))[:2])
        except JWKError as exc:
            raise UntrustedKey(f"unusable jwk header: {exc}") from exc
        for kid in ids:
            keys = self.keys_for_kid(kid)
            if keys:
                return keys
        raise UntrustedKey("untrusted jwk with no certificate chain")


def _parse_x5c(value: Any) -> list[x509.Certificate]:
    if not isinstance(value, list) or not value:
        raise UntrustedKey("malformed x5c header")
    chain = []
    for item in value:
        if not isinstance(item, str):
            raise UntrustedKey("malformed x5c header")
        try:
            chain.append(x509.load_der_x509_certificate(base64.b64decode(item, validate=True)))
        except (ValueError, binascii.Error) as exc:
            raise UntrustedKey(f"unparseable x5c certificate: {exc}") from exc
    return chain
