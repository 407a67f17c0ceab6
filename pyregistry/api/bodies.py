"""Request bodies: streamed chunk by chunk for blobs, read whole (bounded) for manifests.

Blob bodies are never buffered: ``request.stream()`` hands over what the server received,
whether framed by ``Content-Length`` or ``Transfer-Encoding: chunked``.

A refusal sent while the client is still writing its body is often lost: closing a socket
with unread bytes makes the kernel answer with a reset, which also discards the answer
the client has not read yet. So a body up to :data:`DRAIN_LIMIT` bytes is read and thrown
away before the refusal (a 4 MiB + 1 manifest gets its 413); a larger one is not waited
for, and neither is a body the client holds back until ``100 Continue``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request

from pyregistry.storage.errors import ManifestTooLarge, SizeInvalid

#: The most bytes of a refused request body read (and discarded) before answering.
DRAIN_LIMIT = 8 * 1024 * 1024


def declared_length(request: Request) -> int | None:
    """``Content-Length`` when it frames the body, None for chunked or absent bodies."""
    if "chunked" in request.headers.get("transfer-encoding", "").lower():
        return None
    value = request.headers.get("content-length")
    if value is None:
        return None
    value = value.strip()
    if not (value.isascii() and value.isdigit()):
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


def _expects_continue(request: Request) -> bool:
    return request.headers.get("expect", "").strip().lower() == "100-continue"


async def _discard(chunks: AsyncIterator[bytes], budget: int) -> None:
    """Read ``chunks`` to the end unless they run past ``budget`` bytes."""
    seen = 0
    async for chunk in chunks:
        seen += len(chunk)
        if seen > budget:
            return


async def drain_unread(request: Request) -> None:
    """Read and discard what is left of a body no handler read to its end, if it is small
    enough (see the module docstring); called before an error answer. Never raises."""
    if getattr(request, "_stream_consumed", True) or _expects_continue(request):
        return
    try:
        expected = declared_length(request)
        if not has_body(request) or (expected is not None and expected > DRAIN_LIMIT):
            return
        await _discard(request.stream(), DRAIN_LIMIT)
    except Exception:  # noqa: BLE001 - a broken or vanished body: the answer is all we still owe
        return


async def read_bounded(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) anything over ``limit`` before buffering it all."""
    expected = declared_length(request)
    if expected is not None and expected > limit:
        if expected <= DRAIN_LIMIT and not _expects_continue(request):
            await _discard(request.stream(), DRAIN_LIMIT)
        raise ManifestTooLarge(
            f"manifest larger than {limit} bytes", detail={"size": expected, "limit": limit}
        )
    buf = bytearray()
    stream: Any = request.stream()
    async for chunk in stream:
        buf += chunk
        if len(buf) > limit:
            await _discard(stream, DRAIN_LIMIT - len(buf))
            raise ManifestTooLarge(f"manifest larger than {limit} bytes", detail={"limit": limit})
    return bytes(buf)
