"""``pyregistry serve`` as a real process: defaults, TLS, JSON logs, graceful stop."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import json
import signal
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.registry_process import RegistryProcess, free_port, write_config


def test_serve_without_config_uses_registry_data_in_cwd(tmp_path: Path) -> None:
    port = free_port()
    env = {"REGISTRY_HTTP_ADDR": f"127.0.0.1:{port}"}
    with RegistryProcess(["serve"], port=port, cwd=tmp_path, env=env) as proc:
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/v2/").status_code == 200
        blob = b"hello registry"
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        start = httpx.post(f"{base}/v2/smoke/blobs/uploads/")
        assert start.status_code == 202
        done = httpx.put(
            httpx.URL(base).join(start.headers["location"]),
            params={"digest": digest},
            content=blob,
        )
        assert done.status_code == 201
        # deletes are enabled without a config file
        assert httpx.delete(f"{base}/v2/smoke/blobs/{digest}").status_code == 202
        assert proc.stop() == 0
    data = tmp_path / "registry-data"
    assert (data / "docker" / "registry" / "v2" / "repositories" / "smoke").is_dir()
    assert "listening on 127.0.0.1:" in proc.stderr


def make_certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pyregistry test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_tls(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    port = free_port()
    tls = {"certificate": str(cert), "key": str(key), "minimumtls": "tls1.3"}
    config = write_config(tmp_path, port, storage="inmemory", http={"tls": tls})
    with RegistryProcess(["serve", str(config)], port=port) as proc:
        trusting = ssl.create_default_context(cafile=str(cert))
        response = httpx.get(f"https://127.0.0.1:{port}/v2/", verify=trusting)
        assert response.status_code == 200
        assert response.headers["docker-distribution-api-version"] == "registry/2.0"
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"https://127.0.0.1:{port}/v2/", verify=ssl.create_default_context())
        older = ssl.create_default_context(cafile=str(cert))
        older.maximum_version = ssl.TLSVersion.TLSv1_2
        try:
            httpx.get(f"https://127.0.0.1:{port}/v2/", verify=older)
        except httpx.ConnectError:
            pass
        else:
            raise AssertionError("TLS 1.2 was accepted below minimumtls: tls1.3")
        assert proc.stop() == 0


def test_tls_client_certificates(tmp_path: Path) -> None:
    server_dir, client_dir = tmp_path / "server", tmp_path / "client"
    server_dir.mkdir()
    client_dir.mkdir()
    cert, key = make_certificate(server_dir)
    client_cert, client_key = make_certificate(client_dir)
    port = free_port()
    tls = {"certificate": str(cert), "key": str(key), "clientcas": [str(client_cert)]}
    config = write_config(tmp_path, port, storage="inmemory", http={"tls": tls})
    with RegistryProcess(["serve", str(config)], port=port):
        anonymous = ssl.create_default_context(cafile=str(cert))
        try:
            httpx.get(f"https://127.0.0.1:{port}/v2/", verify=anonymous)
        except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError):
            pass
        else:
            raise AssertionError("a client without a certificate was served")
        identified = ssl.create_default_context(cafile=str(cert))
        identified.load_cert_chain(str(client_cert), str(client_key))
        assert httpx.get(f"https://127.0.0.1:{port}/v2/", verify=identified).status_code == 200


def test_json_logs(tmp_path: Path) -> None:
    port = free_port()
    log = {
        "level": "info",
        "formatter": "json",
        "fields": {"service": "registry", "environment": "test"},
    }
    config = write_config(tmp_path, port, storage="inmemory", log=log)
    with RegistryProcess(["serve", str(config)], port=port) as proc:
        httpx.get(f"http://127.0.0.1:{port}/v2/", headers={"user-agent": "log-test/1"})
        httpx.get(f"http://127.0.0.1:{port}/v2/nope/manifests/latest")
        assert proc.stop() == 0
    app_lines = [json.loads(line) for line in proc.stderr.splitlines()]
    access_lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert app_lines and access_lines
    for line in app_lines + access_lines:
        assert {"time", "level", "msg"} <= set(line)
        assert (line["service"], line["environment"]) == ("registry", "test")
    messages = [line["msg"] for line in app_lines]
    assert any(m.startswith("listening on 127.0.0.1:") for m in messages)
    assert any("Application startup complete" in m for m in messages)  # uvicorn's, same format
    base, missing = access_lines
    assert (base["http.request.uri"], base["http.response.status"]) == ("/v2/", 200)
    assert base["http.request.useragent"] == "log-test/1"
    assert base["http.request.remoteaddr"].startswith("127.0.0.1:")
    assert missing["http.response.status"] == 404


def slow_body(first: bytes, rest: list[bytes], sent_first: threading.Event) -> Iterator[bytes]:
    yield first
    sent_first.set()
    for piece in rest:
        time.sleep(0.15)
        yield piece


def test_sigterm_drains_in_flight_upload_and_it_resumes_after_restart(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, port, http={"draintimeout": "30s"})
    base = f"http://127.0.0.1:{port}"
    pieces = [bytes([i]) * 65536 for i in range(12)]
    blob = b"".join(pieces)
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()

    first = RegistryProcess(["serve", str(config)], port=port).start()
    try:
        start = httpx.post(f"{base}/v2/drain/blobs/uploads/")
        assert start.status_code == 202
        location = httpx.URL(base).join(start.headers["location"])
        head = httpx.patch(
            location, content=pieces[0], headers={"content-type": "application/octet-stream"}
        )
        assert head.status_code == 202 and head.headers["range"] == "0-65535"
        location = httpx.URL(base).join(head.headers["location"])

        sent_first = threading.Event()
        result: dict[str, httpx.Response | BaseException] = {}

        def patch() -> None:
            try:
                result["response"] = httpx.patch(
                    location,
                    content=slow_body(pieces[1], pieces[2:8], sent_first),
                    headers={"content-type": "application/octet-stream"},
                    timeout=30,
                )
            except BaseException as exc:  # noqa: BLE001 - reported below
                result["response"] = exc

        worker = threading.Thread(target=patch)
        worker.start()
        assert sent_first.wait(10)
        time.sleep(0.2)  # the server is reading the body now
        first.send_signal(signal.SIGTERM)
        worker.join(30)
        response = result["response"]
        assert isinstance(response, httpx.Response), response
        assert response.status_code == 202
        assert response.headers["range"] == f"0-{8 * 65536 - 1}"
        assert first.wait(30) == 0
        assert "draining" in first.stderr
    finally:
        first.stop()

    with RegistryProcess(["serve", str(config)], port=port) as second:
        status = httpx.get(location)
        assert status.status_code == 204 and status.headers["range"] == f"0-{8 * 65536 - 1}"
        done = httpx.put(location, params={"digest": digest}, content=b"".join(pieces[8:]))
        assert done.status_code == 201, done.text
        fetched = httpx.get(f"{base}/v2/drain/blobs/{digest}")
        assert fetched.status_code == 200 and fetched.content == blob
        assert second.stop() == 0


def test_several_workers(tmp_path: Path) -> None:
    port, debug_port = free_port(), free_port()
    debug = {"addr": f"127.0.0.1:{debug_port}", "prometheus": {"enabled": True}}
    config = write_config(tmp_path, port, http={"debug": debug})
    with RegistryProcess(
        ["serve", "--workers", "2", str(config)], port=port, wait_ports=(debug_port,)
    ) as proc:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(6):
                assert client.get("/v2/", headers={"connection": "close"}).status_code == 200
        metrics = httpx.get(f"http://127.0.0.1:{debug_port}/metrics").text
        assert 'registry_http_requests_total{code="200",handler="base",method="GET"} 6.0' in metrics
        assert httpx.get(f"http://127.0.0.1:{debug_port}/debug/health").json() == {}
        assert proc.stop() == 0
    assert proc.stderr.count("Application startup complete") == 3  # 2 workers + debug
