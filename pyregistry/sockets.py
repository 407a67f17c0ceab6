"""Where and how the servers listen: ``http.addr``/``http.net`` to bound sockets, and
``http.tls`` to uvicorn's TLS options.

Sockets are bound here, before uvicorn starts, so an address in use is a clear error, the
real port is known, ``:5000`` listens on IPv4 and IPv6 like Go does, and several worker
processes can share one socket.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyregistry.config.errors import ConfigError
from pyregistry.config.model import TLSConfig

#: distribution's ``clientauth`` modes; Python cannot ask for a certificate without
#: verifying it, so "request"/"require-any" verify too.
CLIENT_AUTH = {
    "request-client-cert": ssl.CERT_OPTIONAL,
    "verify-client-cert-if-given": ssl.CERT_OPTIONAL,
    "require-any-client-cert": ssl.CERT_REQUIRED,
    "require-and-verify-client-cert": ssl.CERT_REQUIRED,
}
TLS_VERSIONS = {
    "tls1.0": ssl.TLSVersion.TLSv1,
    "tls1.1": ssl.TLSVersion.TLSv1_1,
    "tls1.2": ssl.TLSVersion.TLSv1_2,
    "tls1.3": ssl.TLSVersion.TLSv1_3,
}
#: Go cipher suite names -> OpenSSL names (TLS 1.2 and older; 1.3 suites are fixed).
CIPHERS = {
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA": "DES-CBC3-SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256": "AES128-SHA256",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA": "ECDHE-RSA-DES-CBC3-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256": "ECDHE-ECDSA-AES128-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256": "ECDHE-RSA-AES128-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
}
_TLS13_SUITES = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}


@dataclass(frozen=True)
class Listener:
    """A parsed address: ``unix`` with ``path``, or TCP with ``host`` (empty: all) and ``port``."""

    net: str
    host: str = ""
    port: int = 0
    path: str = ""

    def describe(self, sock: socket.socket | None = None) -> str:
        if self.net == "unix":
            return f"unix:{self.path}"
        if sock is not None:
            host, port = sock.getsockname()[:2]
            return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        return f"{self.host}:{self.port}"


def parse_addr(addr: str, net: str = "tcp", key: str = "http.addr") -> Listener:
    """``:5000``, ``127.0.0.1:5000``, ``[::1]:5000``, ``localhost:5000``; with ``net: unix``
    the address is a socket path."""
    if net == "unix":
        if not addr:
            raise ConfigError("a unix socket path is required", key=key)
        return Listener("unix", path=addr)
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"invalid address {addr!r}: expected HOST:PORT", key=key)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ConfigError(f"invalid address {addr!r}: put IPv6 hosts in brackets", key=key)
    return Listener(net or "tcp", host=host, port=int(port))


def bind(listener: Listener) -> socket.socket:
    """A bound (not yet listening) socket for ``listener``; raises ``OSError``."""
    if listener.net == "unix":
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(os.stat(listener.path).st_mode):
                os.unlink(listener.path)  # a stale socket from an earlier run
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(listener.path)
        sock.set_inheritable(True)
        return sock
    if not listener.host and listener.net in ("tcp", "tcp6") and socket.has_ipv6:
        try:
            return _bind_inet(socket.AF_INET6, ("::", listener.port), dual=listener.net == "tcp")
        except OSError:
            if listener.net == "tcp6":
                raise
    family = {"tcp4": socket.AF_INET, "tcp6": socket.AF_INET6}.get(listener.net, 0)
    infos = socket.getaddrinfo(
        listener.host or "0.0.0.0", listener.port, family, socket.SOCK_STREAM, 0, socket.AI_PASSIVE
    )
    error: OSError | None = None
    for af, _type, _proto, _name, address in infos:
        try:
            return _bind_inet(af, address, dual=False)
        except OSError as exc:
            error = exc
    raise error or OSError(f"cannot resolve {listener.host!r}")


def _bind_inet(family: int, address: Any, *, dual: bool) -> socket.socket:
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted sockets only when the
    # listening socket says it is TCP; without it every response waits for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if dual else 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def tls_options(tls: TLSConfig) -> dict[str, Any]:
    """uvicorn ``Config`` keyword arguments for ``http.tls`` (empty when TLS is off).

    Several ``clientcas`` files are joined into one temporary bundle, since uvicorn takes
    one CA file; ``minimumtls`` and ``ciphersuites`` are applied by :func:`harden`.
    """
    if not tls.certificate:
        if tls.letsencrypt.get("cachefile"):  # the context is made per worker: server_context
            _check_tls_files(tls)
        return {}
    if not tls.key:
        raise ConfigError("a key is required with a certificate", key="http.tls.key")
    for key, path in (("http.tls.certificate", tls.certificate), ("http.tls.key", tls.key)):
        if not os.path.isfile(path):
            raise ConfigError(f"no such file: {path}", key=key)
    _check_tls_files(tls)
    options: dict[str, Any] = {"ssl_certfile": tls.certificate, "ssl_keyfile": tls.key}
    if tls.clientcas:
        options["ssl_ca_certs"] = _ca_bundle(tls.clientcas)
        options["ssl_cert_reqs"] = int(_client_auth(tls))
    return options


def _check_tls_files(tls: TLSConfig) -> None:
    """``clientcas`` files exist and ``ciphersuites`` are known."""
    for path in tls.clientcas:
        if not os.path.isfile(path):
            raise ConfigError(f"no such file: {path}", key="http.tls.clientcas")
    unknown = [c for c in tls.ciphersuites if c not in CIPHERS and c not in _TLS13_SUITES]
    if unknown:
        raise ConfigError(
            f"unsupported cipher suites: {', '.join(unknown)}", key="http.tls.ciphersuites"
        )


def _client_auth(tls: TLSConfig) -> ssl.VerifyMode:
    return CLIENT_AUTH[tls.clientauth or "require-and-verify-client-cert"]


def server_context_factory(tls: TLSConfig) -> Callable[[Path | None], ssl.SSLContext]:
    """Server contexts with ``http.tls``'s settings and the key and chain of a PEM file
    (None: no certificate), for certificates that come and go (Let's Encrypt)."""

    def make(certfile: Path | None) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if certfile is not None:
            context.load_cert_chain(certfile)
        for path in tls.clientcas:
            context.load_verify_locations(path)
        if tls.clientcas:
            context.verify_mode = _client_auth(tls)
        harden(context, tls)
        return context

    return make


def harden(context: ssl.SSLContext, tls: TLSConfig) -> None:
    """Apply ``minimumtls`` (default TLS 1.2, as distribution) and ``ciphersuites``."""
    context.minimum_version = TLS_VERSIONS.get(tls.minimumtls or "tls1.2", ssl.TLSVersion.TLSv1_2)
    names = [CIPHERS[c] for c in tls.ciphersuites if c in CIPHERS]
    if names:
        context.set_ciphers(":".join(names))


def _ca_bundle(paths: list[str]) -> str:
    if len(paths) == 1:
        return paths[0]
    handle, bundle = tempfile.mkstemp(prefix="pyregistry-clientcas-", suffix=".pem")
    with os.fdopen(handle, "w") as out:
        for path in paths:
            with open(path) as source:
                out.write(source.read().rstrip("\n") + "\n")
    return bundle
