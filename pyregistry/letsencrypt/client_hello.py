"""Whether a TLS ClientHello offers the ``acme-tls/1`` protocol (ALPN).

A TLS-ALPN-01 validation and a normal client both name the host (SNI); only the ALPN
offer tells them apart, and the certificate must be chosen before Python's ``ssl`` lets
anything but the server name be seen. The raw ClientHello is read instead (OpenSSL's
message callback hands it over before the server name callback runs).
"""

from __future__ import annotations

ACME_TLS_PROTOCOL = b"acme-tls/1"
_CLIENT_HELLO = 1
_ALPN_EXTENSION = 16


class _Reader:
    """Length-prefixed fields of a byte string; :class:`IndexError` past its end."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, count: int) -> bytes:
        if self.pos + count > len(self.data):
            raise IndexError("truncated")
        part = self.data[self.pos : self.pos + count]
        self.pos += count
        return part

    def number(self, width: int) -> int:
        return int.from_bytes(self.take(width), "big")

    def field(self, width: int) -> bytes:
        return self.take(self.number(width))


def offered_protocols(message: bytes) -> list[bytes]:
    """The ALPN protocols a ClientHello handshake message (with its 4-byte header)
    offers; empty for anything else or anything malformed."""
    try:
        reader = _Reader(message)
        if reader.number(1) != _CLIENT_HELLO:
            return []
        reader = _Reader(reader.field(3))
        reader.take(2 + 32)  # version, random
        reader.field(1)  # session id
        reader.field(2)  # cipher suites
        reader.field(1)  # compression methods
        if reader.pos == len(reader.data):
            return []  # no extensions
        extensions = _Reader(reader.field(2))
        while extensions.pos < len(extensions.data):
            kind = extensions.number(2)
            body = extensions.field(2)
            if kind == _ALPN_EXTENSION:
                names = _Reader(_Reader(body).field(2))
                found = []
                while names.pos < len(names.data):
                    found.append(names.field(1))
                return found
    except IndexError:
        pass
    return []


def offers_acme_tls(message: bytes) -> bool:
    return ACME_TLS_PROTOCOL in offered_protocols(message)
