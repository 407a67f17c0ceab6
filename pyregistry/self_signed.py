"""Certificates a key signs for itself: the token signer's (``auth.token`` issuing its
own tokens) and the TLS-ALPN-01 challenge's (``http.tls.letsencrypt``)."""

from __future__ import annotations

import datetime
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

#: Clocks a little behind ours still accept a certificate made just now.
BACKDATE = datetime.timedelta(minutes=5)


def self_signed_builder(
    key: Any, common_name: str, lifetime: datetime.timedelta
) -> x509.CertificateBuilder:
    """A ``CertificateBuilder`` for ``key``'s own certificate named ``common_name``, valid
    from a few minutes ago for ``lifetime``; the caller adds extensions and signs."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + lifetime)
    )
