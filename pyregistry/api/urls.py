"""Building the URLs the API hands out (``Location``, ``Link``), as distribution does.

Absolute by default, rooted at ``http.host`` when configured, else at what the request
says (``X-Forwarded-Proto``/``-Host``/``-Port``, ``Forwarded``, ``Host``); path-only when
``http.relativeurls`` is set. Every path carries ``http.prefix``.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

from starlette.requests import Request

from pyregistry.config.model import HTTPConfig


def normalize_prefix(prefix: str | None) -> str:
    """``"/"``, ``""`` -> ``""``; ``"registry/"`` -> ``"/registry"``."""
    prefix = (prefix or "").strip().strip("/")
    return f"/{prefix}" if prefix else ""


def _first(value: str) -> str:
    return value.split(",", 1)[0].strip()


def _forwarded(header: str) -> dict[str, str]:
    """The first element of an RFC 7239 ``Forwarded`` header, as a dict."""
    result: dict[str, str] = {}
    for pair in _first(header).split(";"):
        key, sep, value = pair.partition("=")
        if sep:
            result[key.strip().lower()] = value.strip().strip('"')
    return result


class UrlBuilder:
    """Turns API paths into the URLs clients are given."""

    def __init__(self, http: HTTPConfig) -> None:
        self.prefix = normalize_prefix(http.prefix)
        self.relative = http.relativeurls
        self.root: str | None = None
        if http.host:
            parts = urlsplit(http.host if "//" in http.host else f"//{http.host}")
            scheme = parts.scheme or "http"
            self.root = f"{scheme}://{parts.netloc}"

    def path(self, suffix: str) -> str:
        """``/v2/<suffix>`` under the configured prefix; ``suffix`` must be URL-safe."""
        return f"{self.prefix}/v2/{suffix}"

    def origin(self, request: Request) -> str:
        """``scheme://host[:port]`` clients reach this registry at."""
        if self.root:
            return self.root
        headers = request.headers
        forwarded = _forwarded(headers.get("forwarded", ""))
        scheme = (
            _first(headers.get("x-forwarded-proto", ""))
            or forwarded.get("proto")
            or request.scope.get("scheme")  # what ``request.url`` says, without building it
            or "http"
        )
        host = _first(headers.get("x-forwarded-host", "")) or forwarded.get("host", "")
        if not host:
            host = headers.get("host", "")
        if not host:
            server = request.scope.get("server")
            host = f"{server[0]}:{server[1]}" if server else "localhost"
        port = _first(headers.get("x-forwarded-port", ""))
        if port.isascii() and port.isdigit() and not _has_port(host):
            host = f"{host}:{port}"
        return f"{scheme}://{host}"

    def absolute(self, request: Request, path: str) -> str:
        if self.relative:
            return path
        return self.origin(request) + path

    def blob(self, request: Request, name: str, digest: str) -> str:
        return self.absolute(request, self.path(f"{_q(name)}/blobs/{_q(digest)}"))

    def manifest(self, request: Request, name: str, reference: str) -> str:
        return self.absolute(request, self.path(f"{_q(name)}/manifests/{_q(reference)}"))

    def upload(self, request: Request, name: str, upload_id: str) -> str:
        return self.absolute(request, self.path(f"{_q(name)}/blobs/uploads/{_q(upload_id)}"))

    def next_link(self, suffix: str, n: int, last: str) -> str:
        """An RFC 5988 ``Link`` value for the next page (always a path, like distribution)."""
        query = urlencode({"last": last, "n": str(n)})
        return f'<{self.path(suffix)}?{query}>; rel="next"'


def _q(value: str) -> str:
    return quote(value, safe="/:@")


def _has_port(host: str) -> bool:
    if host.startswith("["):
        return "]:" in host
    return ":" in host
