"""The certificate of each TLS handshake, picked by server name from the ``cachefile``
directory: the host's certificate for clients, the challenge's for the CA's TLS-ALPN-01
validation (a ClientHello offering ``acme-tls/1``).

Every worker process has its own selector and reads the directory: a certificate the
renewal thread (in another process) saved is served within :data:`RECHECK_SECONDS` (a
host with none yet is looked up at every handshake). A handshake for a host that is not
configured, or before its first certificate is in, fails with a TLS alert: the client
tries again later, as with distribution while autocert is still ordering.
"""

from __future__ import annotations

import logging
import os
import ssl
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyregistry.config.model import TLSConfig
from pyregistry.letsencrypt.client_hello import ACME_TLS_PROTOCOL, offers_acme_tls
from pyregistry.letsencrypt.settings import LetsEncryptSettings
from pyregistry.letsencrypt.store import CertificateStore
from pyregistry.sockets import server_context_factory

log = logging.getLogger("pyregistry.letsencrypt")

#: How often a host's certificate file is looked at for a newer one, at most.
RECHECK_SECONDS = 1.0
#: Builds a server context (TLS settings of ``http.tls`` applied) from a file holding a
#: private key and its certificate chain; None: a context with no certificate.
ContextFactory = Callable[[Path | None], ssl.SSLContext]


class _Loaded:
    """A host's context and the file signature it was loaded from."""

    def __init__(self, context: ssl.SSLContext | None, signature: tuple[int, int] | None):
        self.context = context
        self.signature = signature
        self.checked = time.monotonic()


class CertificateSelector:
    """Picks each handshake's certificate (see the module's docstring)."""

    def __init__(self, settings: LetsEncryptSettings, make_context: ContextFactory) -> None:
        self._hosts = frozenset(settings.hosts)
        self._store = CertificateStore(settings.cache_dir)
        self._make_context = make_context
        self._loaded: dict[str, _Loaded] = {}
        self._challenges: dict[str, tuple[tuple[int, int], ssl.SSLContext]] = {}
        #: Connections whose ClientHello offered ``acme-tls/1``.
        self._validations: weakref.WeakSet[Any] = weakref.WeakSet()

    def server_context(self) -> ssl.SSLContext:
        """The context the listener wraps connections with; each handshake moves to the
        host's own context in its server name callback."""
        context = self._make_context(None)
        context.sni_callback = self._on_server_name
        # Private, but the only way ``ssl`` shows a ClientHello's ALPN offer before the
        # certificate is chosen (CPython 3.8 and later have it).
        context._msg_callback = self._on_message  # type: ignore[attr-defined]
        return context

    def _on_message(
        self, conn: Any, direction: str, version: Any, content_type: Any, msg_type: Any, data: Any
    ) -> None:
        if direction == "read" and content_type == 22 and msg_type == 1 and offers_acme_tls(data):
            self._validations.add(conn)

    def _on_server_name(
        self, conn: Any, server_name: str | None, _context: ssl.SSLContext
    ) -> int | None:
        host = (server_name or "").lower().rstrip(".")
        if host not in self._hosts:
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        try:
            if conn in self._validations:
                context = self._challenge_context(host)
            else:
                context = self._host_context(host)
        except (OSError, ssl.SSLError, ValueError) as exc:
            log.warning("no certificate for %s: %s", host, exc)
            return ssl.ALERT_DESCRIPTION_INTERNAL_ERROR
        if context is None:
            return ssl.ALERT_DESCRIPTION_INTERNAL_ERROR
        conn.context = context
        return None

    def _host_context(self, host: str) -> ssl.SSLContext | None:
        loaded = self._loaded.get(host)
        now = time.monotonic()
        if loaded and loaded.context and now - loaded.checked < RECHECK_SECONDS:
            return loaded.context
        path = self._store.certificate_path(host)
        signature = _signature(path)
        if loaded is None or signature != loaded.signature:
            context = None if signature is None else self._loadable(host, path)
            loaded = self._loaded[host] = _Loaded(context, signature)
        loaded.checked = now
        return loaded.context

    def _loadable(self, host: str, path: Path) -> ssl.SSLContext | None:
        """The context of the host's file, None (logged once per version of the file)
        when it cannot be loaded; the renewal orders a new one."""
        try:
            return self._make_context(path)
        except (OSError, ssl.SSLError, ValueError) as exc:
            log.warning("cannot load the certificate of %s from %s: %s", host, path, exc)
            return None

    def _challenge_context(self, host: str) -> ssl.SSLContext | None:
        """The certificate of the host's challenge in progress, speaking ``acme-tls/1``
        only; made once per challenge file (a flood of such handshakes costs a ``stat``
        each, not a new context)."""
        path = self._store.challenge_path(host)
        signature = _signature(path)
        if signature is None:
            return None
        made = self._challenges.get(host)
        if made is not None and made[0] == signature:
            return made[1]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(path)
        context.set_alpn_protocols([ACME_TLS_PROTOCOL.decode()])
        self._challenges[host] = (signature, context)
        return context


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def server_context(tls: TLSConfig) -> ssl.SSLContext | None:
    """A worker's listening context for ``http.tls`` with ``letsencrypt`` (None without)."""
    settings = LetsEncryptSettings.from_tls(tls)
    if settings is None:
        return None
    return CertificateSelector(settings, server_context_factory(tls)).server_context()
