"""Header names, response construction with repeated headers, and the headers every
response carries (``Docker-Distribution-API-Version`` and the config's ``http.headers``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_VERSION = "Docker-Distribution-API-Version"
API_VERSION_VALUE = "registry/2.0"
CONTENT_DIGEST = "Docker-Content-Digest"
UPLOAD_UUID = "Docker-Upload-UUID"
OCI_SUBJECT = "OCI-Subject"
OCI_TAG = "OCI-Tag"
OCI_FILTERS_APPLIED = "OCI-Filters-Applied"
OCI_CHUNK_MIN_LENGTH = "OCI-Chunk-Min-Length"

OCTET_STREAM = "application/octet-stream"
JSON = "application/json; charset=utf-8"

HeaderList = Iterable[tuple[str, str]]


def make_response(
    status: int,
    headers: HeaderList = (),
    body: bytes = b"",
    *,
    content_length: int | None = None,
) -> Response:
    """A response whose headers may repeat (e.g. one ``OCI-Tag`` per tag).

    ``content_length`` overrides the body's length: HEAD answers send the length of the
    body a GET would carry, with no body.
    """
    response = Response(body, status_code=status)
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    if status not in (204, 304) and status >= 200:
        length = len(body) if content_length is None else content_length
        raw = [h for h in raw if h[0] != b"content-length"]
        raw.append((b"content-length", str(length).encode("latin-1")))
    response.raw_headers = raw
    return response


#: Set in the scope by the outermost instance, so that an inner one (the app's own, when
#: the server wraps the health gate in another) lets the request through untouched.
_APPLIED = "pyregistry.response_headers"


class ResponseHeadersMiddleware:
    """Adds the API version header and the configured headers to every HTTP response.

    A header the handler already set wins over the configured default, as in distribution.
    Nested instances add them once: the outermost does it.
    """

    def __init__(self, app: ASGIApp, headers: Mapping[str, list[str]] | None = None) -> None:
        self.app = app
        extra: list[tuple[bytes, bytes]] = [
            (API_VERSION.lower().encode(), API_VERSION_VALUE.encode()),
        ]
        for name, values in (headers or {}).items():
            if isinstance(values, str):
                values = [values]
            for value in values:
                extra.append((name.lower().encode("latin-1"), str(value).encode("latin-1")))
        self.extra = extra

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _APPLIED in scope:
            await self.app(scope, receive, send)
            return
        scope[_APPLIED] = True

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in self.extra if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
