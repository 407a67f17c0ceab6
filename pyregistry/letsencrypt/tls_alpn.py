"""The TLS-ALPN-01 challenge (RFC 8737): its type for the ``acme`` library, which
dropped it in version 5, and the self-signed certificate that answers it."""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

from acme import challenges
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ObjectIdentifier
from josepy.jwk import JWK

from pyregistry.self_signed import self_signed_builder

TYPE = "tls-alpn-01"
#: id-pe-acmeIdentifier: the extension carrying the key authorization's SHA-256.
ACME_IDENTIFIER = ObjectIdentifier("1.3.6.1.5.5.7.1.31")


class TLSALPN01Response(challenges.KeyAuthorizationChallengeResponse):
    typ = TYPE


class TLSALPN01(challenges.KeyAuthorizationChallenge):
    response_cls = TLSALPN01Response
    typ = TYPE

    def validation(self, account_key: JWK, **kwargs: Any) -> str:
        return self.key_authorization(account_key)


if TYPE not in challenges.Challenge.TYPES:  # acme before 5 has its own: keep it
    challenges.ChallengeResponse.register(TLSALPN01Response)
    challenges.Challenge.register(TLSALPN01)


def is_tls_alpn(challenge: challenges.Challenge) -> bool:
    return getattr(challenge, "typ", None) == TYPE


def challenge_certificate(
    host: str, key_authorization: str, key: ec.EllipticCurvePrivateKey
) -> bytes:
    """The PEM certificate a validation of ``host`` must see: for the host alone, with
    the critical acmeIdentifier extension (an OCTET STRING of the SHA-256 of the key
    authorization)."""
    digest = hashlib.sha256(key_authorization.encode()).digest()
    certificate = (
        self_signed_builder(key, "pyregistry ACME challenge", datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(
            x509.UnrecognizedExtension(ACME_IDENTIFIER, b"\x04\x20" + digest), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)
