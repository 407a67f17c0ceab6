"""Blobs by digest (end-2, end-10): GET/HEAD with ranges and redirects, DELETE."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import Response, StreamingResponse

from pyregistry.api.headers import CONTENT_DIGEST, OCTET_STREAM, make_response
from pyregistry.api.ranges import parse_range
from pyregistry.api.state import ApiCall
from pyregistry.storage import Digest

#: Blob bodies up to this size are read whole and sent in one response.
SMALL_BODY_BYTES = 64 * 1024


def etag_matches(if_none_match: str | None, digest: str) -> bool:
    """``If-None-Match`` names this digest (quoted or not, possibly in a list)."""
    if not if_none_match:
        return False
    candidates = [c.strip().removeprefix("W/").strip('"') for c in if_none_match.split(",")]
    return digest in candidates or "*" in candidates


async def open_stream(opened: Any) -> AsyncIterator[bytes]:
    """Resolve the storage's ``open`` (an awaitable or an async iterator) to an iterator."""
    if inspect.isawaitable(opened):
        opened = await opened
    stream: AsyncIterator[bytes] = opened
    return stream


async def _closing(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Yield ``chunks`` and always close the storage reader, even on client disconnect."""
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


async def get_blob(call: ApiCall) -> Response:
    digest = Digest.parse(call.route.reference or "")
    blobs = call.repository.blobs
    desc = await blobs.stat(digest)
    dgst = str(desc.digest)
    etag = f'"{dgst}"'
    request = call.request

    if request.method == "GET":
        url = await blobs.redirect_url(desc.digest)
        if url:
            return make_response(307, [("Location", url), (CONTENT_DIGEST, dgst)])

    common = [
        (CONTENT_DIGEST, dgst),
        ("ETag", etag),
        ("Accept-Ranges", "bytes"),
        ("Cache-Control", "max-age=31536000"),
    ]
    if etag_matches(request.headers.get("if-none-match"), dgst):
        return make_response(304, common)

    status, start, length = 200, 0, desc.size
    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if range_header and (if_range is None or if_range.strip().strip('"') == dgst):
        start, end = parse_range(range_header, desc.size)
        status, length = 206, end - start + 1
        common.append(("Content-Range", f"bytes {start}-{end}/{desc.size}"))

    headers = [("Content-Type", OCTET_STREAM), *common]
    if call.head:
        return make_response(status, headers, content_length=length)

    chunks = await open_stream(blobs.open(desc.digest, start, length))
    if length <= SMALL_BODY_BYTES:
        # A config or a small layer: one plain response, without the streaming machinery
        # (a task per response watching for the client leaving) that costs more than it.
        body = b"".join([chunk async for chunk in _closing(chunks)])
        return make_response(status, headers, body)
    response = StreamingResponse(_closing(chunks), status_code=status)
    response.raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers] + [
        (b"content-length", str(length).encode())
    ]
    return response


async def delete_blob(call: ApiCall) -> Response:
    digest = Digest.parse(call.route.reference or "")
    await call.repository.blobs.delete(digest)
    return make_response(202, [])
