"""Whole small objects read, and objects HEADed, without botocore's request machinery
(``storage_drivers/s3/direct.py``), against SeaweedFS (signatures checked) and moto:
botocore sends none of those requests, the answers and errors are the driver's usual
ones, and botocore takes over where the direct path cannot go."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import socketserver
import ssl
import threading
import urllib.parse
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from storage_drivers.errors import InvalidOffset, PathNotFound, StorageDriverError
from storage_drivers.s3 import S3Driver
from storage_drivers.s3.answers import delete_result
from storage_drivers.s3.direct import DirectRequests
from storage_drivers.s3.options import parse_options
from storage_drivers.s3.signed_http import SignedHttp
from tests.cli.test_serve import make_certificate
from tests.s3.test_s3_calls import count_calls
from tests.support.s3 import S3Server

Factory = Callable[..., Awaitable[S3Driver]]


def botocore_requests(driver: S3Driver) -> list[str]:
    """Methods of the requests botocore itself sends from now on."""
    sent: list[str] = []

    def record(request: Any, **_: Any) -> None:
        sent.append(request.method)

    driver._backend._make_client().meta.events.register("before-send.s3", record)
    return sent


@pytest.mark.parametrize("server", ["seaweedfs", "moto"])
async def test_links_and_heads_skip_botocore(
    server: str, s3_driver_factory: Factory, s3_moto_driver_factory: Factory
) -> None:
    driver = await (s3_driver_factory if server == "seaweedfs" else s3_moto_driver_factory)()
    await driver.put_content("/repo/_manifests/tags/v1/current/link", b"sha256:" + b"a" * 64)
    assert driver._backend.direct_requests() is not None
    sent = botocore_requests(driver)
    calls = count_calls(driver)
    content = await driver.get_content("/repo/_manifests/tags/v1/current/link")
    info = await driver.stat_file("/repo/_manifests/tags/v1/current/link")
    assert content == b"sha256:" + b"a" * 64
    assert info.size == len(content) and not info.is_dir and info.mod_time.tzinfo is not None
    with pytest.raises(PathNotFound):
        await driver.get_content("/repo/missing")
    with pytest.raises(PathNotFound):
        await driver.stat_file("/repo/missing")
    assert calls == ["GetObject", "HeadObject", "GetObject", "HeadObject"]  # still observed
    assert sent == []


async def test_the_etag_is_the_one_a_conditional_write_checks(
    s3_driver_factory: Factory,
) -> None:
    driver = await s3_driver_factory()
    if not await driver.conditional_writes():
        pytest.fail("SeaweedFS took conditional writes in earlier runs; it no longer does")
    version = await driver.put_content_if("/lease", b"one", None)
    content, read_version = await driver.get_content_version("/lease")
    assert (content, read_version) == (b"one", version)
    await driver.put_content_if("/lease", b"two", read_version)
    assert (await driver.get_content("/lease")) == b"two"


async def test_a_refused_signature_is_asked_again_through_botocore(
    s3_driver_factory: Factory,
) -> None:
    driver = await s3_driver_factory()
    await driver.put_content("/x", b"1")
    wrong = await s3_driver_factory(
        rootdirectory=driver.options.rootdirectory, secretkey="not-the-secret"
    )
    assert wrong._backend.direct_requests() is not None
    sent = botocore_requests(wrong)
    with pytest.raises(StorageDriverError, match="refused get_object"):
        await wrong.get_content("/x")
    with pytest.raises(StorageDriverError, match="refused head_object"):
        await wrong.stat_file("/x")
    assert sent == ["GET", "HEAD"]  # botocore's answer is the one that counts


async def test_botocore_answers_when_the_direct_path_fails(s3_driver_factory: Factory) -> None:
    driver = await s3_driver_factory()
    await driver.put_content("/x", b"kept")
    backend = driver._backend
    assert backend.direct_requests() is not None
    # the same reads toward a port nothing listens on: every request fails to connect
    backend._direct = DirectRequests(
        SignedHttp("http://127.0.0.1:9/bucket/", "us-east-1", _Session(), driver.options)
    )
    sent = botocore_requests(driver)
    assert await driver.get_content("/x") == b"kept"
    assert (await driver.stat_file("/x")).size == 4
    assert b"".join([c async for c in await driver.reader("/x", 1)]) == b"ept"
    assert sent == ["GET", "HEAD", "GET"]


class _Session:
    def get_credentials(self) -> Any:
        from botocore.credentials import Credentials

        return Credentials("key", "secret")

    def get_config_variable(self, name: str) -> None:
        return None


async def test_drivers_it_cannot_serve_use_botocore(
    s3_driver_factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    sigv2 = await s3_driver_factory(v4auth=False)
    assert sigv2._backend.direct_requests() is None
    await sigv2.put_content("/x", b"v2")
    assert await sigv2.get_content("/x") == b"v2"

    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # never reached: only looked at
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    proxied = await s3_driver_factory()
    assert proxied._backend.direct_requests() is None
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    bypassed = await s3_driver_factory()
    assert bypassed._backend.direct_requests() is not None

    express = await s3_driver_factory(bucket="registry--use1-az4--x-s3")
    assert express._backend.direct_requests() is None  # session-signed: botocore's


class _TlsRelay(socketserver.ThreadingTCPServer):
    """TLS on 127.0.0.1 in front of the S3 server's plain port (a certificate for
    127.0.0.1 no CA signed)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, target: tuple[str, int], certificate: tuple[Path, Path]) -> None:
        super().__init__(("127.0.0.1", 0), _Relayed)
        self.target = target
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(*certificate)


class _Relayed(socketserver.BaseRequestHandler):
    server: _TlsRelay

    def handle(self) -> None:
        try:
            client = self.server.context.wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that refused the certificate
        with client, socket.create_connection(self.server.target) as upstream:

            def pump(source: socket.socket, sink: socket.socket) -> None:
                with contextlib.suppress(OSError):
                    while data := source.recv(65536):
                        sink.sendall(data)
                with contextlib.suppress(OSError):
                    sink.shutdown(socket.SHUT_WR)

            back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
            back.start()
            pump(client, upstream)
            back.join(30)


@pytest.fixture
def tls_endpoint(seaweedfs_server: S3Server, tmp_path: Path) -> Iterator[str]:
    parts = urllib.parse.urlsplit(seaweedfs_server.endpoint)
    relay = _TlsRelay((parts.hostname or "", parts.port or 80), make_certificate(tmp_path))
    serving = threading.Thread(target=relay.serve_forever, daemon=True)
    serving.start()
    try:
        yield f"https://127.0.0.1:{relay.server_address[1]}"
    finally:
        relay.shutdown()
        relay.server_close()


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
async def test_over_tls_the_reads_are_direct_too(
    s3_driver_factory: Factory, tls_endpoint: str
) -> None:
    driver = await s3_driver_factory(regionendpoint=tls_endpoint, secure=True, skipverify=True)
    await driver.put_content("/x", b"over tls")
    direct = driver._backend.direct_requests()
    assert direct is not None and direct._http._https
    sent = botocore_requests(driver)
    assert await driver.get_content("/x") == b"over tls"
    assert (await driver.stat_file("/x")).size == 8
    assert sent == []
    # a certificate nobody vouches for is refused, as botocore refuses it: an error, no hang
    strict = await s3_driver_factory(regionendpoint=tls_endpoint, secure=True)
    with pytest.raises(StorageDriverError):
        await strict.get_content("/x")


async def test_closing_the_driver_closes_the_direct_connections(
    s3_driver_factory: Factory,
) -> None:
    driver = await s3_driver_factory()
    await driver.put_content("/x", b"1")
    direct = driver._backend.direct_requests()
    assert direct is not None
    assert await driver.get_content("/x") == b"1"
    connections = list(direct._http._open)
    assert connections and all(c.sock is not None for c in connections)
    await driver.close()
    assert all(c.sock is None for c in connections)
    assert driver._backend._direct is None


@pytest.mark.parametrize("variable", ["AWS_CA_BUNDLE", "SSL_CERT_FILE"])
async def test_a_private_ca_named_in_the_environment_is_trusted(
    variable: str,
    s3_driver_factory: Factory,
    tls_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for other in ("AWS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(other, raising=False)
    monkeypatch.setenv(variable, str(tmp_path / "cert.pem"))  # the relay's own certificate
    driver = await s3_driver_factory(regionendpoint=tls_endpoint, secure=True)
    await driver.put_content("/x", b"private ca")  # botocore
    sent = botocore_requests(driver)
    assert await driver.get_content("/x") == b"private ca"  # direct
    assert sent == []


def test_what_the_certificate_is_checked_against(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("AWS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(variable, raising=False)
    options = parse_options({"bucket": "b", "region": "us-east-1"})
    assert parse_options({"bucket": "b", "region": "r", "skipverify": "true"}).verify() is False
    system = ssl.get_default_verify_paths().cafile
    assert system is not None, "the system trust store (Debian's ca-certificates) is missing"
    assert options.verify() == system
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    assert options.verify() == str(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", "/etc/ssl/private.pem")
    assert options.verify() == "/etc/ssl/private.pem"
    monkeypatch.setenv("AWS_CA_BUNDLE", "/etc/ssl/aws.pem")
    assert options.verify() == "/etc/ssl/aws.pem"
    for variable in ("AWS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(variable)
    none = ssl.DefaultVerifyPaths(None, None, "", "", "", "")  # type: ignore[arg-type]
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: none)
    assert options.verify() is True  # botocore's own bundle (certifi)


async def test_starting_a_driver_looks_nothing_up(s3_driver_factory: Factory) -> None:
    """Presigning (which resolves credentials: an instance role's are fetched over the
    network) waits for the first read, on the driver's pool, not the registry's start."""
    driver = await s3_driver_factory()
    assert not driver._backend._direct_known
    with pytest.raises(PathNotFound):
        await driver.get_content("/nothing")
    assert driver._backend._direct_known and driver._backend._direct is not None


@pytest.mark.parametrize("server", ["seaweedfs", "moto"])
async def test_small_puts_and_listings_skip_botocore(
    server: str, s3_driver_factory: Factory, s3_moto_driver_factory: Factory
) -> None:
    driver = await (s3_driver_factory if server == "seaweedfs" else s3_moto_driver_factory)()
    driver._list_max = 2  # pages of two: continuation tokens are followed
    assert driver._backend.direct_requests() is not None
    sent = botocore_requests(driver)
    for name in ("a", "b", "c", "d/e", "d/f"):
        await driver.put_content(f"/dir/{name}", name.encode())
    assert await driver.list("/dir") == ["/dir/a", "/dir/b", "/dir/c", "/dir/d"]
    walked = sorted(info.path for info in [i async for i in driver.walk("/dir")] if not info.is_dir)
    assert walked == ["/dir/a", "/dir/b", "/dir/c", "/dir/d/e", "/dir/d/f"]
    info = await driver.stat("/dir/d")
    assert info.is_dir
    info = await driver.stat("/dir/a")
    assert info.size == 1 and not info.is_dir and info.mod_time.tzinfo is not None
    with pytest.raises(PathNotFound):
        await driver.list("/nothing")
    await driver.delete("/dir")  # a listing, then DeleteObjects
    with pytest.raises(PathNotFound):
        await driver.list("/dir")
    assert sent == []


async def test_a_small_blobs_commit_skips_botocore(s3_driver_factory: Factory) -> None:
    """A writer that shipped no part commits its buffer (a bytearray) in one PUT: the
    direct way too (through botocore it cost a small image's push a third of its CPU)."""
    driver = await s3_driver_factory()
    assert driver._backend.direct_requests() is not None
    for commit in ("commit", "commit_to"):
        writer = await driver.writer(f"/uploads/{commit}/data")
        await writer.write(b"a small layer " * 300)
        sent = botocore_requests(driver)
        calls = count_calls(driver)
        if commit == "commit":
            await writer.commit()
        else:
            await driver.commit_to(writer, f"/uploads/{commit}/data", "/blobs/small/data")
        assert "PutObject" in calls
        assert sent == []
    assert await driver.get_content("/uploads/commit/data") == b"a small layer " * 300
    assert await driver.get_content("/blobs/small/data") == b"a small layer " * 300


def test_a_delete_answer_with_errors_is_read_as_botocore_reads_it() -> None:
    answer = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<Deleted><Key>a/b</Key></Deleted>"
        b"<Error><Key>a/c</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
        b"</DeleteResult>"
    )
    assert delete_result(answer) == {
        "Deleted": [{"Key": "a/b"}],
        "Errors": [{"Key": "a/c", "Code": "AccessDenied", "Message": "Access Denied"}],
    }
    assert delete_result(b"<Error><Code>InternalError</Code></Error>") is None
    assert delete_result(b"not xml") is None


async def test_streamed_reads_skip_botocore_and_reuse_their_connection(
    s3_driver_factory: Factory,
) -> None:
    driver = await s3_driver_factory()
    data = os.urandom(3 * 1024 * 1024 + 17)
    await driver.put_content("/big", data)
    direct = driver._backend.direct_requests()
    assert direct is not None
    sent = botocore_requests(driver)
    whole = b"".join([chunk async for chunk in await driver.reader("/big")])
    assert whole == data
    idle = list(direct._http._idle)
    assert len(idle) == 1  # read to its end: kept for the next stream
    assert b"".join([c async for c in await driver.reader("/big", 5, 1000)]) == data[5:1005]
    assert direct._http._idle == idle  # the same connection again
    partly = await driver.reader("/big")  # takes the idle connection
    await partly.__anext__()
    await partly.aclose()  # type: ignore[attr-defined]
    for _ in range(100):  # the read ahead ends on the pool, then the body is closed
        if idle[0].sock is None:
            break
        await asyncio.sleep(0.05)
    assert direct._http._idle == [] and idle[0].sock is None  # its rest unread: closed
    assert b"".join([c async for c in await driver.reader("/big", len(data))]) == b""
    with pytest.raises(InvalidOffset):
        await driver.reader("/big", len(data) + 1)
    with pytest.raises(PathNotFound):
        await driver.reader("/none")
    assert sent == []


class _ShortAnswer(socketserver.BaseRequestHandler):
    """Announces 100 bytes of body, sends 10, hangs up."""

    def handle(self) -> None:
        self.request.recv(65536)
        self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)


def test_a_stream_cut_short_is_an_error_not_a_short_blob() -> None:
    with socketserver.TCPServer(("127.0.0.1", 0), _ShortAnswer) as server:
        threading.Thread(target=server.handle_request, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}/bucket/"
        options = parse_options({"bucket": "bucket", "region": "us-east-1"})
        direct = DirectRequests(SignedHttp(base, "us-east-1", _Session(), options))
        answer = direct.stream("key", None, "/key", "bucket")
        assert answer is not None and answer["ContentLength"] == 100
        body = answer["Body"]
        assert body.read(1024 * 1024) == b"x" * 10
        with pytest.raises(StorageDriverError, match="90 bytes early"):
            body.read(1024 * 1024)
        body.close()
        direct.close()
