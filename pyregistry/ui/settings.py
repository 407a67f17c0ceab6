"""The ``ui`` section resolved once at start-up: the mount path, the session key, the
cookie's flags, and the public host the pull commands name.

A bad prefix is a :class:`~pyregistry.config.ConfigError` here, not a UI that silently
shadows the API. The session key falls back to distribution's ``http.secret``, which
exists for exactly this ("a random piece of data used to sign state"), then to a key
derived from the built-in token service's signing key (shared by every worker and
instance already); without any, a random key per process, with a warning.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from pyregistry.api.urls import normalize_prefix
from pyregistry.auth.options import parse_auth
from pyregistry.config.errors import ConfigError
from pyregistry.config.model import Config

log = logging.getLogger("pyregistry.ui")

COOKIE_NAME = "pyregistry_ui"


@dataclass(frozen=True)
class UiSettings:
    #: Where the UI answers, without a trailing slash ("" for ``/``).
    prefix: str
    secret: str
    session_seconds: int
    secure_cookie: bool
    #: ``host[:port]`` for ``docker pull``; None: the address the browser used.
    public_host: str | None


def _prefix(config: Config) -> str:
    """``ui.prefix`` without its trailing slash; never under the API's ``/v2`` (which the
    registry answers before any other route, so a UI there could not be reached)."""
    raw = config.ui.prefix or "/ui"
    where = {"key": "ui.prefix", "source": config.source}
    if not raw.startswith("/") or any(part in (".", "..") for part in raw.split("/")):
        raise ConfigError("expected an absolute path such as /ui", **where)
    prefix = raw.rstrip("/")
    api = normalize_prefix(config.http.prefix) + "/v2"
    if prefix == api or prefix.startswith(api + "/"):
        raise ConfigError(f"{raw} is inside the registry API's path {api}", **where)
    return prefix


def public_host(config: Config) -> str | None:
    """``http.host`` as ``host[:port]`` (a scheme and path dropped): what clients pull from."""
    host = (config.http.host or "").strip()
    if not host:
        return None
    parts = urlsplit(host if "//" in host else "//" + host)
    return parts.netloc or None


def _secret(config: Config) -> str:
    secret = config.ui.secret or config.http.secret
    if secret:
        return secret
    derived = _from_signing_key(config)
    if derived is not None:
        return derived
    log.warning(
        "no ui.secret or http.secret: UI sessions are signed with a random key of this "
        "process, so they end on restart and do not carry over between workers or instances"
    )
    return secrets.token_urlsafe(32)


def _from_signing_key(config: Config) -> str | None:
    """A key derived from the built-in token service's signing key, which every worker and
    instance of this registry shares (and ``create_app`` has made by now); None without."""
    options = parse_auth(config.auth, config.source)
    issue = options.token.issue if options.token is not None else None
    if issue is None:
        return None
    try:
        with open(issue.key, "rb") as handle:
            material = handle.read()
    except OSError:
        return None
    return hmac.new(material, b"pyregistry ui session", hashlib.sha256).hexdigest()


def _secure(config: Config) -> bool:
    if config.ui.securecookie is not None:
        return config.ui.securecookie
    return bool(config.http.tls.certificate) or (config.http.host or "").startswith("https://")


def ui_settings(config: Config) -> UiSettings:
    return UiSettings(
        prefix=_prefix(config),
        secret=_secret(config),
        session_seconds=max(60, int(config.ui.sessiontimeout_seconds)),
        secure_cookie=_secure(config),
        public_host=public_host(config),
    )
