"""``rewrite``: the redirect URL so far with its scheme or host replaced, or a prefix cut
from its path (distribution 3.x): presigned URLs pointed at a proxy in front of the store,
say. Without a URL so far (a driver that redirects nowhere) there is nothing to rewrite."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from storage_drivers.base import StorageDriver


def _text(options: Mapping[str, Any], key: str) -> str:
    value = options.get(key, "")
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


class Rewrite:
    def __init__(self, scheme: str, host: str, trim_path_prefix: str) -> None:
        self.scheme = scheme
        self.host = host
        self.trim_path_prefix = trim_path_prefix

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Rewrite:
        return cls(
            _text(options, "scheme"), _text(options, "host"), _text(options, "trimpathprefix")
        )

    def redirect_url(self, driver: StorageDriver, path: str, url: str | None) -> str | None:
        if url is None:
            return None
        scheme, host, url_path, query, fragment = urlsplit(url)
        if self.trim_path_prefix:
            url_path = url_path.removeprefix(self.trim_path_prefix)
        return urlunsplit((self.scheme or scheme, self.host or host, url_path, query, fragment))
