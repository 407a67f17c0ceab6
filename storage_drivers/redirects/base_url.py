"""``redirect``: blobs fetched from ``baseurl`` plus their driver path (distribution 3.x),
for storage whose files a web server or a CDN serves."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from storage_drivers.base import StorageDriver


class BaseUrlRedirect:
    """``scheme://host[/base]`` + the driver path."""

    def __init__(self, scheme: str, host: str, base_path: str) -> None:
        self.scheme = scheme
        self.host = host
        self.base_path = base_path

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> BaseUrlRedirect:
        base = options.get("baseurl")
        if base is None:
            raise ValueError("no baseurl provided")
        if not isinstance(base, str):
            raise ValueError("baseurl must be a string")
        parts = urlsplit(base)
        if not parts.scheme:
            raise ValueError(f"no scheme in baseurl {base!r}")
        if not parts.netloc:
            raise ValueError(f"no host in baseurl {base!r}")
        return cls(parts.scheme, parts.netloc, parts.path)

    def redirect_url(self, driver: StorageDriver, path: str, url: str | None) -> str | None:
        full = posixpath.join(self.base_path or "/", path.lstrip("/"))
        return urlunsplit((self.scheme, self.host, full, "", ""))
