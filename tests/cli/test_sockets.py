"""Listening addresses (``http.addr``/``http.net``) and TLS options."""

from __future__ import annotations

import asyncio
import socket
import ssl
from pathlib import Path

import httpx
import pytest

from pyregistry.config import ConfigError, TLSConfig
from pyregistry.sockets import Listener, bind, harden, parse_addr, tls_options
from tests.support.registry_process import RegistryProcess, free_port


@pytest.mark.parametrize(
    ("addr", "net", "expected"),
    [
        (":5000", "tcp", Listener("tcp", "", 5000)),
        ("127.0.0.1:5000", "tcp", Listener("tcp", "127.0.0.1", 5000)),
        ("[::1]:5000", "tcp", Listener("tcp", "::1", 5000)),
        ("localhost:5001", "tcp", Listener("tcp", "localhost", 5001)),
        ("0.0.0.0:80", "tcp4", Listener("tcp4", "0.0.0.0", 80)),
        ("/run/registry.sock", "unix", Listener("unix", path="/run/registry.sock")),
    ],
)
def test_parse_addr(addr: str, net: str, expected: Listener) -> None:
    assert parse_addr(addr, net) == expected


@pytest.mark.parametrize("addr", ["5000", "host:", "host:port", "::1:5000", "1.2.3.4:70000"])
def test_bad_addresses(addr: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_addr(addr)
    assert info.value.key == "http.addr"


def test_bind_loopback_and_any() -> None:
    sock = bind(parse_addr("127.0.0.1:0"))
    try:
        assert sock.getsockname()[0] == "127.0.0.1"
    finally:
        sock.close()
    any_sock = bind(parse_addr(":0"))
    try:
        any_sock.listen()
        port = any_sock.getsockname()[1]
        # ":port" listens on IPv4 too, even when the socket is a dual-stack IPv6 one
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
    finally:
        any_sock.close()


@pytest.mark.parametrize("addr", ["127.0.0.1:0", ":0"])
async def test_accepted_connections_have_nodelay(addr: str) -> None:
    """Without TCP_NODELAY, a response written as headers then body waits ~40 ms for the
    client's delayed ACK on every kept-alive request."""
    seen: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(handle, sock=bind(parse_addr(addr)))
    async with server:
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.01)
        writer.close()
    assert seen and seen[0] != 0


def test_bind_refuses_a_port_in_use() -> None:
    first = bind(parse_addr("127.0.0.1:0"))
    first.listen()
    try:
        with pytest.raises(OSError, match="in use"):
            bind(parse_addr(f"127.0.0.1:{first.getsockname()[1]}")).close()
    finally:
        first.close()


def test_tls_options(tmp_path: Path) -> None:
    assert tls_options(TLSConfig()) == {}
    cert, key, ca1, ca2 = (tmp_path / n for n in ("c.pem", "k.pem", "ca1.pem", "ca2.pem"))
    for path in (cert, key, ca1, ca2):
        path.write_text(f"-----{path.name}-----\n")
    options = tls_options(TLSConfig(certificate=str(cert), key=str(key)))
    assert options == {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    options = tls_options(
        TLSConfig(certificate=str(cert), key=str(key), clientcas=[str(ca1), str(ca2)])
    )
    assert options["ssl_cert_reqs"] == ssl.CERT_REQUIRED
    bundle = Path(options["ssl_ca_certs"]).read_text()
    assert "ca1.pem" in bundle and "ca2.pem" in bundle
    optional = tls_options(
        TLSConfig(
            certificate=str(cert),
            key=str(key),
            clientcas=[str(ca1)],
            clientauth="verify-client-cert-if-given",
        )
    )
    assert optional["ssl_cert_reqs"] == ssl.CERT_OPTIONAL and optional["ssl_ca_certs"] == str(ca1)


def test_tls_errors(tmp_path: Path) -> None:
    cert = tmp_path / "c.pem"
    cert.write_text("x")
    with pytest.raises(ConfigError, match="key is required"):
        tls_options(TLSConfig(certificate=str(cert)))
    # Let's Encrypt: the context is made in each worker; the shared settings are checked
    assert tls_options(TLSConfig(letsencrypt={"cachefile": "/x", "hosts": ["r.example"]})) == {}
    with pytest.raises(ConfigError, match="unsupported cipher suites: TLS_BOGUS"):
        tls_options(TLSConfig(letsencrypt={"cachefile": "/x"}, ciphersuites=["TLS_BOGUS"]))
    with pytest.raises(ConfigError, match="unsupported cipher suites: TLS_BOGUS"):
        tls_options(TLSConfig(certificate=str(cert), key=str(cert), ciphersuites=["TLS_BOGUS"]))


def test_harden_sets_minimum_version_and_ciphers() -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    harden(context, TLSConfig(ciphersuites=["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]))
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    names = {c["name"] for c in context.get_ciphers() if c["protocol"] == "TLSv1.2"}
    assert names == {"ECDHE-RSA-AES128-GCM-SHA256"}
    harden(context, TLSConfig(minimumtls="tls1.3"))
    assert context.minimum_version == ssl.TLSVersion.TLSv1_3  # type: ignore[comparison-overlap]


def test_serve_on_a_unix_socket(tmp_path: Path) -> None:
    path = tmp_path / "registry.sock"
    debug_port = free_port()
    config = tmp_path / "config.yml"
    config.write_text(
        f"""version: 0.1
storage: inmemory
http:
  net: unix
  addr: {path}
  debug:
    addr: 127.0.0.1:{debug_port}
"""
    )
    with RegistryProcess(["serve", str(config)], port=debug_port) as proc:
        transport = httpx.HTTPTransport(uds=str(path))
        with httpx.Client(transport=transport) as client:
            assert client.get("http://registry/v2/").status_code == 200
        assert proc.stop() == 0
    assert not path.exists()  # the socket file is removed on exit
