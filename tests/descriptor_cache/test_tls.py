"""``redis.tls``: the blob descriptor cache on a ``redis-server`` that speaks TLS only and
asks every client for a certificate (mutual TLS): ``clientcas`` verifies the server,
``certificate``/``key`` are the registry's own."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.api.helpers import push_blob_at
from tests.client.tls import ServerCert, make_server_cert
from tests.support.redis import INSTALL_HINT, RedisServer
from tests.support.registry_process import RegistryProcess, free_port, write_config


class TlsRedis(RedisServer):
    """A node whose plain port is for the harness's start-up ping; clients use ``tls_port``."""

    def __init__(self, binary: str, workdir: Path, cert: ServerCert) -> None:
        self.cert = cert
        self.tls_port = free_port()
        arguments = ["--tls-port", str(self.tls_port), "--tls-auth-clients", "yes"]
        arguments += ["--tls-cert-file", str(cert.certificate), "--tls-key-file", str(cert.key)]
        arguments += ["--tls-ca-cert-file", str(cert.ca_file)]
        super().__init__(binary, workdir, tuple(arguments))

    def tls_client(self) -> redis.Redis:
        return redis.Redis(
            host=self.host,
            port=self.tls_port,
            ssl=True,
            ssl_ca_certs=str(self.cert.ca_file),
            ssl_certfile=str(self.cert.certificate),
            ssl_keyfile=str(self.cert.key),
            decode_responses=True,
        )


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[TlsRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    server = TlsRedis(binary, tmp_path, make_server_cert(tmp_path))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _serve(tmp_path: Path, server: TlsRedis, ca_file: Path) -> tuple[Path, int]:
    """A config whose cache reaches ``server`` over TLS, trusting ``ca_file``, presenting
    the server's own certificate as the client's."""
    port = free_port()
    tls = {
        "enabled": True,
        "clientcas": [str(ca_file)],
        "certificate": str(server.cert.certificate),
        "key": str(server.cert.key),
    }
    storage = {
        "filesystem": {"rootdirectory": str(tmp_path / "root")},
        "cache": {"blobdescriptor": "redis"},
    }
    redis_section = {"addr": f"{server.host}:{server.tls_port}", "tls": tls}
    return write_config(tmp_path, port, storage=storage, redis=redis_section), port


def test_cache_over_mutual_tls(tmp_path: Path, tls_redis: TlsRedis) -> None:
    config, port = _serve(tmp_path, tls_redis, tls_redis.cert.ca_file)
    with RegistryProcess(["serve", str(config)], port=port) as served:
        digest = push_blob_at(f"http://127.0.0.1:{port}", "team/app", b"cached over tls")
        with tls_redis.tls_client() as client:
            assert client.hget(f"blobs::{digest}", "size") == "15"
        assert not served.server_errors()


def test_a_server_the_ca_did_not_sign_gets_no_cache_writes(
    tmp_path: Path, tls_redis: TlsRedis
) -> None:
    """Verification is on: with another CA the handshake fails, the cache is skipped and
    the push still succeeds from storage."""
    (tmp_path / "other").mkdir()
    other = make_server_cert(tmp_path / "other")
    config, port = _serve(tmp_path, tls_redis, other.ca_file)
    with RegistryProcess(["serve", str(config)], port=port) as served:
        digest = push_blob_at(f"http://127.0.0.1:{port}", "team/app", b"stored, not cached")
        with tls_redis.tls_client() as client:
            assert client.hget(f"blobs::{digest}", "size") is None
        assert not served.server_errors()
