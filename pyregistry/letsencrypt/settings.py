"""``http.tls.letsencrypt`` read and checked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyregistry.config.errors import ConfigError
from pyregistry.config.model import TLSConfig

#: Let's Encrypt's production directory, distribution's default ``directoryurl``.
DEFAULT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory"
KEY = "http.tls.letsencrypt"


@dataclass(frozen=True)
class LetsEncryptSettings:
    """Where certificates are kept, for which hosts, from which CA, for whom."""

    cache_dir: Path
    hosts: tuple[str, ...]
    directory_url: str = DEFAULT_DIRECTORY
    email: str | None = None

    @classmethod
    def from_tls(cls, tls: TLSConfig) -> LetsEncryptSettings | None:
        """The settings when ``cachefile`` is set (else None: Let's Encrypt is off)."""
        section = tls.letsencrypt
        cachefile = section.get("cachefile")
        if not cachefile:
            return None
        if tls.certificate:
            raise ConfigError("cannot specify both certificate and Let's Encrypt", key=KEY)
        hosts = tuple(str(host).strip().lower().rstrip(".") for host in section.get("hosts") or ())
        if not hosts or not all(hosts):
            raise ConfigError(
                "hosts must name the host names to obtain certificates for", key=f"{KEY}.hosts"
            )
        return cls(
            cache_dir=Path(cachefile),
            hosts=hosts,
            directory_url=section.get("directoryurl") or DEFAULT_DIRECTORY,
            email=section.get("email") or None,
        )
