"""A real ACME server for tests: Let's Encrypt's ``pebble`` (Debian package ``pebble``,
2.4.0), on 127.0.0.1, for the registry to obtain certificates from by TLS-ALPN-01.

``pebble-challtestsrv`` runs beside it as a mock DNS server only: every name resolves to
127.0.0.1 (no AAAA answers), so pebble's validation authority connects to
``127.0.0.1:tls_port`` for any name ordered. Pebble's directory is HTTPS only: its
listener gets a certificate from a throwaway CA (:attr:`Pebble.listener_ca`), which an
ACME client must trust; the CA that *issues* certificates is another one, regenerated at
every start (:meth:`Pebble.issuer_roots`). A missing binary fails the test, never skips.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.client.tls import ServerCert, make_server_cert
from tests.support.command import free_port, stop_process

INSTALL_HINT = "run `apt-get install -y pebble` (provides pebble and pebble-challtestsrv)"
#: How long pebble may take to answer its directory before the test fails.
READY_TIMEOUT = 10.0
#: Pebble's knobs (its README): validate at once, never reject a good nonce (clients
#: need not retry ``badNonce``), never reuse a valid authorization (every order is
#: validated, so a test sees the challenge it expects).
PEBBLE_ENV = {"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0", "PEBBLE_AUTHZREUSE": "0"}


class PortTaken(RuntimeError):
    """pebble or its DNS server exited at start-up: a port was taken after it was chosen
    (another test worker's server took it)."""


#: Starts on fresh ports when one was taken meanwhile.
START_ATTEMPTS = 3


@dataclass(frozen=True)
class Pebble:
    """A running pebble: where its directory is, and what its certificates chain to."""

    directory_url: str
    #: The PEM CA that signed pebble's HTTPS listener (directory and management).
    listener_ca: Path
    management_url: str
    log_path: Path

    def _management_get(self, path: str) -> str:
        context = ssl.create_default_context(cafile=str(self.listener_ca))
        response = httpx.get(f"{self.management_url}{path}", verify=context, timeout=10.0)
        response.raise_for_status()
        return response.text

    def issuer_roots(self) -> str:
        """PEM of the root pebble issues end-entity certificates under (new at every start)."""
        return self._management_get("/roots/0")

    def issuer_intermediates(self) -> str:
        """PEM of the intermediate that signs the end-entity certificates."""
        return self._management_get("/intermediates/0")

    def log_tail(self, size: int = 4000) -> str:
        """The end of pebble's log, for a failure message."""
        return _tail(self.log_path, size)


def _tail(path: Path, size: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return "(no log)"


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: {INSTALL_HINT}", pytrace=False)
    return found


def _free_dns_port() -> int:
    """A port free on 127.0.0.1 for both TCP and UDP (the mock DNS server binds both)."""
    for _ in range(50):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no loopback port free for both TCP and UDP")


def _start(
    argv: list[str], log: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``argv`` with its output going to ``log`` (no pipe to fill up)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )


def _exited(name: str, log: str) -> RuntimeError:
    """The error of a server that exited at start-up (:class:`PortTaken` when it could
    not bind a port)."""
    taken = "address already in use" in log.lower()
    return (PortTaken if taken else RuntimeError)(f"{name} exited at start-up:\n{log}")


def _wait_tcp(process: subprocess.Popen[bytes], port: int, log: Path, name: str) -> None:
    """Until ``port`` accepts connections; fails with the log if ``process`` exits first."""
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        if process.poll() is not None:
            raise _exited(name, _tail(log))
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not listen on {port}:\n{_tail(log)}")
        time.sleep(0.05)


def _wait_directory(process: subprocess.Popen[bytes], pebble: Pebble) -> None:
    """Until the directory answers over HTTPS (verified with the listener CA)."""
    context = ssl.create_default_context(cafile=str(pebble.listener_ca))
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        if process.poll() is not None:
            raise _exited("pebble", pebble.log_tail())
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(pebble.directory_url, verify=context, timeout=1.0).is_success:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"pebble's directory did not answer:\n{pebble.log_tail()}")
        time.sleep(0.05)


def _challtestsrv_command(binary: str, dns_port: int, management_port: int) -> list[str]:
    """DNS only (empty addresses disable the other listeners; 2.4.0 has no ``-doh``)."""
    return [
        binary,
        "-dns01",
        f"127.0.0.1:{dns_port}",
        "-http01",
        "",
        "-https01",
        "",
        "-tlsalpn01",
        "",
        "-management",
        f"127.0.0.1:{management_port}",
        "-defaultIPv4",
        "127.0.0.1",
        "-defaultIPv6",
        "",
    ]


def _write_config(work: Path, cert: Path, key: Path, tls_port: int) -> tuple[Path, int, int]:
    """Pebble's config file; returns it with the ACME and management ports."""
    listen, management = free_port(), free_port()
    config = {
        "pebble": {
            "listenAddress": f"127.0.0.1:{listen}",
            "managementListenAddress": f"127.0.0.1:{management}",
            "certificate": str(cert),
            "privateKey": str(key),
            # where the VA would connect for http-01: nobody listens, none is offered
            "httpPort": free_port(),
            "tlsPort": tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
        }
    }
    path = work / "pebble-config.json"
    path.write_text(json.dumps(config, indent=2))
    return path, listen, management


@contextlib.contextmanager
def running_pebble(work: Path, tls_port: int) -> Iterator[Pebble]:
    """Pebble validating TLS-ALPN-01 on ``127.0.0.1:tls_port``, with its mock DNS server;
    certificates, config and logs under ``work``. Both stop when the block ends."""
    pebble_binary, challtestsrv_binary = _binary("pebble"), _binary("pebble-challtestsrv")
    work.mkdir(parents=True, exist_ok=True)
    listener = make_server_cert(work)  # pebble is reached at 127.0.0.1
    for attempt in range(1, START_ATTEMPTS + 1):
        processes: list[subprocess.Popen[bytes]] = []
        try:
            pebble = _start_pebble(
                work, tls_port, listener, (pebble_binary, challtestsrv_binary), processes
            )
        except PortTaken:
            for process in reversed(processes):
                stop_process(process)
            if attempt == START_ATTEMPTS:
                raise
            continue
        try:
            yield pebble
        finally:
            for process in reversed(processes):
                stop_process(process)
        return


def _start_pebble(
    work: Path,
    tls_port: int,
    listener: ServerCert,
    binaries: tuple[str, str],
    processes: list[subprocess.Popen[bytes]],
) -> Pebble:
    """Start the DNS server and pebble on fresh ports (appended to ``processes`` as they
    start); :class:`PortTaken` when one of them could not bind its port."""
    pebble_binary, challtestsrv_binary = binaries
    dns_port, dns_management = _free_dns_port(), free_port()
    config, listen, management = _write_config(work, listener.certificate, listener.key, tls_port)
    dns_log = work / "challtestsrv.log"
    pebble = Pebble(
        directory_url=f"https://127.0.0.1:{listen}/dir",
        listener_ca=listener.ca_file,
        management_url=f"https://127.0.0.1:{management}",
        log_path=work / "pebble.log",
    )
    dns = _start(_challtestsrv_command(challtestsrv_binary, dns_port, dns_management), dns_log)
    processes.append(dns)
    _wait_tcp(dns, dns_port, dns_log, "pebble-challtestsrv")
    argv = [pebble_binary, "-config", str(config), "-dnsserver", f"127.0.0.1:{dns_port}"]
    server = _start([*argv, "-strict=false"], pebble.log_path, PEBBLE_ENV)
    processes.append(server)
    _wait_directory(server, pebble)
    return pebble
