"""``http.tls.letsencrypt``: ``pyregistry serve`` obtains its certificate from a real ACME
server (pebble) by TLS-ALPN-01 on its own port, serves it by server name, keeps it in
autocert's directory layout, and renews one that is about to expire."""

from __future__ import annotations

import socket
import ssl
import time
import types
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from pyregistry.config.errors import ConfigError
from pyregistry.config.model import TLSConfig
from pyregistry.letsencrypt import LetsEncryptSettings, configured, startup
from tests.letsencrypt.certificates import HOST, expiring_certificate
from tests.support.pebble import Pebble, running_pebble
from tests.support.registry_process import RegistryProcess, free_port, write_config

#: How long an order may take (pebble validates at once; the client polls every second).
ISSUE_TIMEOUT = 60.0


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def pebble(tmp_path: Path, port: int) -> Iterator[Pebble]:
    with running_pebble(tmp_path / "pebble", tls_port=port) as running:
        yield running


def letsencrypt_config(tmp_path: Path, port: int, directory_url: str) -> Path:
    section = {
        "cachefile": str(tmp_path / "acme-cache"),
        "email": "admin@example.test",
        "hosts": [HOST],
        "directoryurl": directory_url,
    }
    return write_config(tmp_path, port, storage="inmemory", http={"tls": {"letsencrypt": section}})


def served_certificate(port: int, host: str | None) -> x509.Certificate:
    """The certificate the registry presents for ``host`` (no SNI when None), unverified."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def issued_by(certificate: x509.Certificate, pebble: Pebble) -> bool:
    intermediate = x509.load_pem_x509_certificate(pebble.issuer_intermediates().encode())
    return certificate.issuer == intermediate.subject


def wait_for_issued(port: int, pebble: Pebble, proc: RegistryProcess) -> x509.Certificate:
    """The certificate served for :data:`HOST` once it is pebble's."""
    deadline = time.monotonic() + ISSUE_TIMEOUT
    while True:
        try:
            certificate = served_certificate(port, HOST)
            if issued_by(certificate, pebble):
                return certificate
        except (OSError, ssl.SSLError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(
                f"no certificate from pebble within {ISSUE_TIMEOUT}s\n"
                f"registry:\n{proc.stderr[-3000:]}\npebble:\n{pebble.log_tail()}"
            )
        time.sleep(0.2)


def get_v2(port: int, roots: str) -> httpx.Response:
    """GET /v2/ by :data:`HOST`, trusting ``roots`` (PEM) only, the name checked too."""
    trusting = ssl.create_default_context(cadata=roots)
    with httpx.Client(verify=trusting) as client:
        return client.get(
            f"https://127.0.0.1:{port}/v2/",
            headers={"Host": HOST},
            extensions={"sni_hostname": HOST},
        )


def handshake_refused(port: int, host: str | None) -> bool:
    try:
        served_certificate(port, host)
    except (OSError, ssl.SSLError):
        return True
    return False


def test_certificate_obtained_served_and_kept(tmp_path: Path, port: int, pebble: Pebble) -> None:
    """Two workers (a validation may reach either): the certificate is obtained, served to
    clients by name, and kept; restarted with the CA gone, the registry serves it again."""
    config = letsencrypt_config(tmp_path, port, pebble.directory_url)
    env = {"SSL_CERT_FILE": str(pebble.listener_ca), "PYREGISTRY_WORKERS": "2"}
    with RegistryProcess(["serve", str(config)], port=port, env=env) as proc:
        issued = wait_for_issued(port, pebble, proc)
        response = get_v2(port, pebble.issuer_roots())
        assert response.status_code == 200
        assert response.headers["docker-distribution-api-version"] == "registry/2.0"
        assert handshake_refused(port, "other.example.test")
        assert handshake_refused(port, None)
        assert proc.stop() == 0
    cache = tmp_path / "acme-cache"
    assert sorted(p.name for p in cache.iterdir() if not p.name.startswith(".")) == [
        "acme_account+key",
        HOST,
    ]
    stored = (cache / HOST).read_text()
    assert stored.startswith("-----BEGIN EC PRIVATE KEY-----")  # autocert's layout
    assert stored.count("-----BEGIN CERTIFICATE-----") == 2  # the leaf and pebble's intermediate
    assert "BEGIN EC PRIVATE KEY" in (cache / "acme_account+key").read_text()

    gone = letsencrypt_config(tmp_path, port, f"https://127.0.0.1:{free_port()}/dir")
    with RegistryProcess(["serve", str(gone)], port=port, env=env) as proc:
        assert served_certificate(port, HOST).serial_number == issued.serial_number
        assert get_v2(port, pebble.issuer_roots()).status_code == 200
        assert "cannot obtain" not in proc.stderr

    # the certificate lost, the account kept: the CA knows the key, the account is reused
    account = (cache / "acme_account+key").read_bytes()
    (cache / HOST).unlink()
    config = letsencrypt_config(tmp_path, port, pebble.directory_url)
    with RegistryProcess(["serve", str(config)], port=port, env=env) as proc:
        again = wait_for_issued(port, pebble, proc)
        assert again.serial_number != issued.serial_number
    assert (cache / "acme_account+key").read_bytes() == account


def test_certificate_near_its_end_is_renewed(tmp_path: Path, port: int, pebble: Pebble) -> None:
    old = expiring_certificate(tmp_path / "acme-cache" / HOST, days=10)
    config = letsencrypt_config(tmp_path, port, pebble.directory_url)
    env = {"SSL_CERT_FILE": str(pebble.listener_ca)}
    with RegistryProcess(["serve", str(config)], port=port, env=env) as proc:
        renewed = wait_for_issued(port, pebble, proc)
        assert renewed.serial_number != old.serial_number
        assert renewed.not_valid_after_utc > old.not_valid_after_utc
        assert get_v2(port, pebble.issuer_roots()).status_code == 200


def test_certificate_far_from_its_end_is_served_as_it_is(tmp_path: Path, port: int) -> None:
    """A certificate distribution left (60 days to go) is served; no order is made."""
    kept = expiring_certificate(tmp_path / "acme-cache" / HOST, days=60)
    config = letsencrypt_config(tmp_path, port, f"https://127.0.0.1:{free_port()}/dir")
    with RegistryProcess(["serve", str(config)], port=port) as proc:
        assert served_certificate(port, HOST).serial_number == kept.serial_number
        response = get_v2(port, kept.public_bytes(serialization.Encoding.PEM).decode())
        assert response.status_code == 200
        assert proc.stop() == 0
    assert not (tmp_path / "acme-cache" / "acme_account+key").exists()


def test_unreachable_ca_is_logged_and_handshakes_fail(tmp_path: Path, port: int) -> None:
    config = letsencrypt_config(tmp_path, port, f"https://127.0.0.1:{free_port()}/dir")
    with RegistryProcess(["serve", str(config)], port=port) as proc:
        deadline = time.monotonic() + 20
        while "cannot obtain a certificate for registry.example.test" not in proc.stderr:
            assert time.monotonic() < deadline, proc.stderr
            time.sleep(0.1)
        assert handshake_refused(port, HOST)
        assert proc.proc is not None and proc.proc.poll() is None
        assert proc.stop() == 0


def test_unusable_directory_is_logged_and_retried(tmp_path: Path, port: int) -> None:
    """A ``cachefile`` that cannot be made (a file where its parent should be): the error
    is logged, the registry keeps running, the thread tries again later."""
    (tmp_path / "blocked").write_text("not a directory")
    config = letsencrypt_config(tmp_path, port, f"https://127.0.0.1:{free_port()}/dir")
    text = config.read_text().replace(str(tmp_path / "acme-cache"), str(tmp_path / "blocked/c"))
    config.write_text(text)
    with RegistryProcess(["serve", str(config)], port=port) as proc:
        deadline = time.monotonic() + 20
        while "cannot obtain a certificate for registry.example.test" not in proc.stderr:
            assert time.monotonic() < deadline, proc.stderr
            time.sleep(0.1)
        assert "Not a directory" in proc.stderr
        assert "Traceback" not in proc.stderr
        assert proc.stop() == 0


def test_settings() -> None:
    settings = LetsEncryptSettings.from_tls(
        TLSConfig(letsencrypt={"cachefile": "/c", "hosts": ["Registry.Example.TEST."]})
    )
    assert settings is not None
    assert settings.hosts == ("registry.example.test",)
    assert settings.directory_url == "https://acme-v02.api.letsencrypt.org/directory"
    assert LetsEncryptSettings.from_tls(TLSConfig(letsencrypt={"hosts": [HOST]})) is None
    with pytest.raises(ConfigError, match="cannot specify both certificate and Let's Encrypt"):
        LetsEncryptSettings.from_tls(
            TLSConfig(certificate="/c.pem", key="/k.pem", letsencrypt={"cachefile": "/c"})
        )
    with pytest.raises(ConfigError, match="hosts"):
        LetsEncryptSettings.from_tls(TLSConfig(letsencrypt={"cachefile": "/c"}))


def test_serve_refuses_letsencrypt_without_hosts(tmp_path: Path, port: int) -> None:
    tls = {"letsencrypt": {"cachefile": str(tmp_path / "c")}}
    config = write_config(tmp_path, port, storage="inmemory", http={"tls": tls})
    proc = RegistryProcess(["serve", str(config)], port=port)
    with pytest.raises(RuntimeError, match="http.tls.letsencrypt.hosts"):
        proc.start(timeout=10)


def test_serve_without_the_acme_library_says_what_to_install(tmp_path: Path, port: int) -> None:
    shadow = tmp_path / "shadow" / "acme"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named acme')\n")
    config = letsencrypt_config(tmp_path, port, "https://127.0.0.1:1/dir")
    repo = Path(__file__).resolve().parents[2]
    env = {"PYTHONPATH": f"{shadow.parent}:{repo}"}
    proc = RegistryProcess(["serve", str(config)], port=port, env=env)
    with pytest.raises(RuntimeError, match=r"pip install 'pyregistry\[letsencrypt\]'"):
        proc.start(timeout=10)


def test_python_without_the_message_callback_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    tls = TLSConfig(letsencrypt={"cachefile": "/c", "hosts": [HOST]})
    assert configured(tls) is not None
    monkeypatch.setattr(startup, "ssl", types.SimpleNamespace(SSLContext=object))
    with pytest.raises(ConfigError, match="_msg_callback"):
        configured(tls)
