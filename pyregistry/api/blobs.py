"""Blobs by digest (end-2, end-10): GET/HEAD with ranges and redirects, DELETE."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.responses import Response, StreamingResponse

from pyregistry.api.headers import CONTENT_DIGEST, OCTET_STREAM, make_response
from pyregistry.api.ranges import parse_range
from pyregistry.api.state import ApiCall
from pyregistry.storage import BlobDescriptor, BlobRead, Digest

#: Blob bodies up to this size are read whole and sent in one response.
SMALL_BODY_BYTES = 64 * 1024


def etag_matches(if_none_match: str | None, digest: str) -> bool:
    """``If-None-Match`` names this digest (quoted or not, possibly in a list)."""
    if not if_none_match:
        return False
    candidates = [c.strip().removeprefix("W/").strip('"') for c in if_none_match.split(",")]
    return digest in candidates or "*" in candidates


async def _closing(
    chunks: AsyncIterator[bytes | memoryview],
) -> AsyncIterator[bytes | memoryview]:
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
    request = call.request
    read: BlobRead | None = None
    if call.head or etag_matches(request.headers.get("if-none-match"), str(digest)):
        desc = await blobs.stat(digest)  # no bytes wanted: not a pull
    else:  # the descriptor and the bytes from one call (a mirror's cold blob: one GET)
        read = await blobs.open_read(digest)
        desc = read.descriptor
    try:
        return await _answer(call, desc, read)
    finally:
        if read is not None:
            await read.aclose()  # nothing if its bytes were streamed


async def _answer(call: ApiCall, desc: BlobDescriptor, read: BlobRead | None) -> Response:
    """The response for ``desc``; its bytes from ``read`` (None: a HEAD or a 304)."""
    blobs = call.repository.blobs
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
    if read is None:
        return make_response(status, headers, content_length=length)

    chunks = await read.sending(start, length)  # sent on untouched: may be mapped
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
