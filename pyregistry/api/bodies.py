"""Request bodies: streamed chunk by chunk for blobs, read whole (bounded) for manifests.

Blob bodies are never buffered: ``request.stream()`` hands over what the server received,
whether framed by ``Content-Length`` or ``Transfer-Encoding: chunked``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request

from pyregistry.storage.errors import ManifestTooLarge, SizeInvalid


def declared_length(request: Request) -> int | None:
    """``Content-Length`` when it frames the body, None for chunked or absent bodies."""
    if "chunked" in request.headers.get("transfer-encoding", "").lower():
        return None
    value = request.headers.get("content-length")
    if value is None:
        return None
    value = value.strip()
    if not value.isdigit():
        raise SizeInvalid(f"invalid Content-Length: {value!r}", detail={"Content-Length": value})
    return int(value)


def has_body(request: Request) -> bool:
    """Whether the request may carry bytes (a chunked body may still turn out empty)."""
    if "chunked" in request.headers.get("transfer-encoding", "").lower():
        return True
    length = declared_length(request)
    return bool(length)


async def body_chunks(request: Request, expected: int | None = None) -> AsyncIterator[bytes]:
    """The body's non-empty chunks; SIZE_INVALID when it ends short of ``expected``."""
    total = 0
    async for chunk in request.stream():
        if chunk:
            total += len(chunk)
            if expected is not None and total > expected:
                raise SizeInvalid("body longer than Content-Length", detail={"expected": expected})
            yield chunk
    if expected is not None and total != expected:
        raise SizeInvalid(
            "body shorter than Content-Length", detail={"expected": expected, "received": total}
        )


async def read_bounded(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) anything over ``limit`` before buffering it all."""
    expected = declared_length(request)
    if expected is not None and expected > limit:
        raise ManifestTooLarge(
            f"manifest larger than {limit} bytes", detail={"size": expected, "limit": limit}
        )
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > limit:
            raise ManifestTooLarge(f"manifest larger than {limit} bytes", detail={"limit": limit})
    return bytes(buf)
