"""The ALPN offer of real ClientHellos (made by Python's ``ssl``, OpenSSL's client)."""

from __future__ import annotations

import contextlib
import ssl

from pyregistry.letsencrypt.client_hello import offered_protocols, offers_acme_tls


def client_hello(protocols: list[str] | None) -> bytes:
    """The first handshake message a client sends (its record header removed)."""
    context = ssl.create_default_context()
    if protocols is not None:
        context.set_alpn_protocols(protocols)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = context.wrap_bio(incoming, outgoing, server_hostname="registry.example.test")
    with contextlib.suppress(ssl.SSLWantReadError):  # it waits for the ServerHello
        client.do_handshake()
    record = outgoing.read()
    assert record[0] == 22  # a handshake record
    return record[5:]


def test_acme_validation_hello() -> None:
    hello = client_hello(["acme-tls/1"])
    assert offered_protocols(hello) == [b"acme-tls/1"]
    assert offers_acme_tls(hello)


def test_other_offers() -> None:
    assert offered_protocols(client_hello(["h2", "http/1.1"])) == [b"h2", b"http/1.1"]
    assert not offers_acme_tls(client_hello(["h2", "http/1.1"]))
    assert not offers_acme_tls(client_hello(None))


def test_malformed_messages() -> None:
    hello = client_hello(["acme-tls/1"])
    for cut in (0, 1, 4, 40, len(hello) - 3):
        assert not offers_acme_tls(hello[:cut])
    assert not offers_acme_tls(b"\x02" + hello[1:])  # a ServerHello's type
    assert not offers_acme_tls(b"\xff" * 64)
