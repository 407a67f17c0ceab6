"""Which certificate a handshake gets while a challenge is in progress: the CA's
validation (ALPN ``acme-tls/1``) the challenge's, every other client the host's (a
renewal never shows clients the challenge's certificate). Real handshakes over loopback."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from pyregistry.config.model import TLSConfig
from pyregistry.letsencrypt import CertificateSelector, LetsEncryptSettings
from pyregistry.letsencrypt.store import CertificateStore
from pyregistry.letsencrypt.tls_alpn import ACME_IDENTIFIER, challenge_certificate
from pyregistry.sockets import server_context_factory
from tests.letsencrypt.certificates import HOST, expiring_certificate


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, CertificateStore]]:
    """A TLS server on loopback whose handshakes the selector directs; every connection
    is handshaken in a thread of its own, then closed."""
    settings = LetsEncryptSettings(cache_dir=tmp_path / "cache", hosts=(HOST,))
    selector = CertificateSelector(settings, server_context_factory(TLSConfig()))
    context = selector.server_context()
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def handshake(conn: socket.socket) -> None:
        try:
            with context.wrap_socket(conn, server_side=True):
                pass
        except (OSError, ssl.SSLError):
            conn.close()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(5)
            threading.Thread(target=handshake, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], CertificateStore(settings.cache_dir)
    stop.set()
    thread.join()
    listener.close()


def shake(
    port: int, alpn: list[str] | None, host: str | None = HOST
) -> tuple[x509.Certificate, str | None]:
    """The certificate served and the protocol agreed for a client offering ``alpn``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if alpn is not None:
        context.set_alpn_protocols(alpn)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
        assert der is not None
        return x509.load_der_x509_certificate(der), tls.selected_alpn_protocol()


def is_challenge(certificate: x509.Certificate) -> bool:
    return any(e.oid == ACME_IDENTIFIER for e in certificate.extensions)


def test_challenge_shown_to_the_validation_only(server: tuple[int, CertificateStore]) -> None:
    port, store = server
    host_certificate = expiring_certificate(store.certificate_path(HOST), days=20)
    key = ec.generate_private_key(ec.SECP256R1())
    store.save_challenge(HOST, key, challenge_certificate(HOST, "token.thumbprint", key))

    for _ in range(2):  # the second from the selector's cache
        validation, protocol = shake(port, ["acme-tls/1"])
        assert is_challenge(validation) and protocol == "acme-tls/1"
    for offer in (None, ["http/1.1"], ["h2", "http/1.1"]):
        client, protocol = shake(port, offer)
        assert client.serial_number == host_certificate.serial_number, offer
        assert not is_challenge(client) and protocol is None

    store.drop_challenge(HOST)  # the challenge over: a validation is refused
    with pytest.raises((OSError, ssl.SSLError)):
        shake(port, ["acme-tls/1"])
    assert shake(port, None)[0].serial_number == host_certificate.serial_number


def test_names_outside_hosts_are_refused(server: tuple[int, CertificateStore]) -> None:
    port, store = server
    expiring_certificate(store.certificate_path(HOST), days=20)
    for name in ("other.example.test", None):
        with pytest.raises((OSError, ssl.SSLError)):
            shake(port, None, name)
    assert shake(port, None, HOST.upper())[0] is not None  # names compare without case


def test_unreadable_certificate_refused_and_logged_once(
    server: tuple[int, CertificateStore], caplog: pytest.LogCaptureFixture
) -> None:
    port, store = server
    path = store.certificate_path(HOST)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    for _ in range(3):
        with pytest.raises((OSError, ssl.SSLError)):
            shake(port, None)
    warnings = [r for r in caplog.records if "cannot load the certificate" in r.getMessage()]
    assert len(warnings) == 1
    renewed = expiring_certificate(path, days=20)  # a new file: loaded at the next handshake
    assert shake(port, None)[0].serial_number == renewed.serial_number
