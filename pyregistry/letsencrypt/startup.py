"""What ``pyregistry serve`` does for ``http.tls.letsencrypt``: check the settings (and
that the optional ``acme`` library is there) before anything listens, then start the
renewal thread once the listening socket is bound."""

from __future__ import annotations

import socket
import ssl
from typing import TYPE_CHECKING

from pyregistry.config.errors import ConfigError
from pyregistry.config.model import TLSConfig
from pyregistry.letsencrypt.settings import KEY, LetsEncryptSettings

if TYPE_CHECKING:
    from pyregistry.letsencrypt.renewal import Renewal


def configured(tls: TLSConfig) -> LetsEncryptSettings | None:
    """The settings (None when Let's Encrypt is off); ConfigError for settings that
    cannot work, the ``acme`` library missing included."""
    settings = LetsEncryptSettings.from_tls(tls)
    if settings is None:
        return None
    try:
        import acme  # noqa: F401 - only whether it is installed
    except ImportError as exc:
        raise ConfigError(
            f"Let's Encrypt needs the acme library ({exc}); "
            "install it with: pip install 'pyregistry[letsencrypt]'",
            key=KEY,
        ) from None
    if not hasattr(ssl.SSLContext, "_msg_callback"):
        raise ConfigError(
            "Let's Encrypt needs ssl.SSLContext._msg_callback (CPython 3.8 and later) to tell "
            "the CA's TLS-ALPN-01 validation from a client; this Python has none",
            key=KEY,
        )
    return settings


def start_renewal(settings: LetsEncryptSettings, sock: socket.socket) -> Renewal:
    """The thread keeping the certificates valid; it orders once ``sock`` listens (the
    workers listen on it when they are ready to answer the CA's validation)."""
    from pyregistry.letsencrypt.renewal import Renewal

    def listening() -> bool:
        return sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1

    renewal = Renewal(settings, listening)
    renewal.start()
    return renewal
