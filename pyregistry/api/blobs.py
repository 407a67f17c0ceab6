"""Blobs by digest (end-2, end-10): GET/HEAD with ranges and redirects, DELETE."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

from starlette.responses import Response, StreamingResponse

from pyregistry import errcode
from pyregistry.api.headers import CONTENT_DIGEST, OCTET_STREAM, HeaderList, make_response
from pyregistry.api.ranges import parse_ranges
from pyregistry.api.state import ApiCall
from pyregistry.storage import BlobDescriptor, BlobRead, Digest

CRLF = "\r\n"
#: Blob bodies up to this size are read whole and sent in one response.
SMALL_BODY_BYTES = 64 * 1024


def etag_matches(if_none_match: str | None, digest: str) -> bool:
    """``If-None-Match`` names this digest (quoted or not, possibly in a list)."""
    if not if_none_match:
        return False
    candidates = [c.strip().removeprefix("W/").strip('"') for c in if_none_match.split(",")]
    return digest in candidates or "*" in candidates


def if_match_fails(if_match: str | None, digest: str) -> bool:
    """``If-Match`` is given (not empty) and names neither this digest (compared strongly:
    a weak ``W/`` tag never matches) nor ``*``."""
    if not if_match:
        return False
    candidates = [c.strip() for c in if_match.split(",")]
    return not any(c == "*" or c.strip('"') == digest for c in candidates)


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
    if if_match_fails(request.headers.get("if-match"), dgst):
        raise errcode.RegistryError(descriptor=errcode.PRECONDITION_FAILED, headers=dict(common))
    if etag_matches(request.headers.get("if-none-match"), dgst):
        return make_response(304, common)

    ranges: list[tuple[int, int]] | None = None
    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if range_header and (if_range is None or if_range.strip().strip('"') == dgst):
        ranges = parse_ranges(range_header, desc.size)
    if ranges is not None and len(ranges) > 1:
        return await _multipart(desc, read, ranges, common)

    status, start, length = 200, 0, desc.size
    if ranges is not None:
        (start, end), status = ranges[0], 206
        length = end - start + 1
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
    return _streaming(_closing(chunks), status, headers, length)


def _streaming(
    chunks: AsyncIterator[bytes | memoryview], status: int, headers: HeaderList, length: int
) -> Response:
    response = StreamingResponse(chunks, status_code=status)
    response.raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers] + [
        (b"content-length", str(length).encode())
    ]
    return response


async def _multipart(
    desc: BlobDescriptor,
    read: BlobRead | None,
    ranges: list[tuple[int, int]],
    common: HeaderList,
) -> Response:
    """Several ranges: a ``multipart/byteranges`` answer, its parts in the order asked
    (as distribution, through Go's ``ServeContent``), each a window of ``read`` opened
    when its turn comes (the first at once: the caller closes ``read`` if it is not)."""
    boundary = secrets.token_hex(16)
    heads = [
        (
            f"{CRLF if i else ''}--{boundary}{CRLF}"
            f"Content-Range: bytes {start}-{end}/{desc.size}{CRLF}"
            f"Content-Type: {OCTET_STREAM}{CRLF}{CRLF}"
        ).encode()
        for i, (start, end) in enumerate(ranges)
    ]
    tail = f"{CRLF}--{boundary}--{CRLF}".encode()
    length = sum(len(h) for h in heads) + sum(e - s + 1 for s, e in ranges) + len(tail)
    headers = [("Content-Type", f"multipart/byteranges; boundary={boundary}"), *common]
    if read is None:
        return make_response(206, headers, content_length=length)
    start, end = ranges[0]
    first = await read.sending(start, end - start + 1)

    async def parts() -> AsyncIterator[bytes | memoryview]:
        for i, (start, end) in enumerate(ranges):
            yield heads[i]
            chunks = first if i == 0 else await read.sending(start, end - start + 1)
            async for chunk in _closing(chunks):
                yield chunk
        yield tail

    return _streaming(parts(), 206, headers, length)


async def delete_blob(call: ApiCall) -> Response:
    digest = Digest.parse(call.route.reference or "")
    await call.repository.blobs.delete(digest)
    return make_response(202, [])
