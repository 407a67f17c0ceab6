"""A registry for mirror tests that serves fixed blobs and manifests slowly (so that
concurrent pulls through mirrors overlap) and counts the GETs of each, exactly as given:
a blob whose bytes do not match its digest is sent all the same (a corrupt upstream).
Every request is recorded too (method and last path segment), so a test can tell a HEAD
from a GET."""

from __future__ import annotations

import asyncio
import collections
from typing import Any

CHUNK = 64 * 1024


class ScriptedUpstream:
    """An ASGI registry: ``blobs`` and ``manifests`` (``(media type, content)``) by
    digest, each GET taking about ``send_seconds``; ``fetches`` counts GETs by digest,
    ``requests`` lists every request as ``(method, last path segment)``. ``chunked``: blob
    GETs announce no length; ``retry_after``: blob requests answer 429 with it; ``tags``
    name manifests by tag (tag: digest)."""

    def __init__(
        self,
        blobs: dict[str, bytes],
        manifests: dict[str, tuple[str, bytes]] | None = None,
        send_seconds: float = 1.5,
        *,
        chunked: bool = False,
        retry_after: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        self.blobs = blobs
        self.manifests = manifests or {}
        self.send_seconds = send_seconds
        self.chunked = chunked
        self.retry_after = retry_after
        self.tags = tags or {}
        self.fetches: collections.Counter[str] = collections.Counter()
        self.requests: list[tuple[str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        reference = path.rsplit("/", 1)[-1]
        self.requests.append((method, reference))
        if "/blobs/" in path and self.retry_after is not None:
            body = b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}'
            extra = [(b"retry-after", self.retry_after.encode())]
            await _answer(send, 429, "application/json", body, extra)
        elif path == "/v2/":
            await _answer(send, 200, "application/json", b"{}")
        elif "/blobs/" in path and reference in self.blobs:
            await self._send(send, method, reference, "application/octet-stream")
        elif "/manifests/" in path and self.tags.get(reference) in self.manifests:
            digest = self.tags[reference]
            await self._send(send, method, digest, self.manifests[digest][0])
        elif "/manifests/" in path and reference in self.manifests:
            await self._send(send, method, reference, self.manifests[reference][0])
        else:
            body = b'{"errors":[{"code":"NOT_FOUND","message":"no"}]}'
            await _answer(send, 404, "application/json", body)

    async def _send(self, send: Any, method: str, digest: str, media_type: str) -> None:
        content = self.blobs[digest] if digest in self.blobs else self.manifests[digest][1]
        headers = [
            (b"docker-content-digest", digest.encode()),
            (b"content-type", media_type.encode()),
        ]
        if not (self.chunked and method == "GET" and digest in self.blobs):
            headers.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if method != "GET":
            await send({"type": "http.response.body", "body": b""})
            return
        self.fetches[digest] += 1
        pieces = max(1, -(-len(content) // CHUNK))
        for index in range(pieces):
            await asyncio.sleep(self.send_seconds / pieces)
            body = content[index * CHUNK : (index + 1) * CHUNK]
            more = index + 1 < pieces
            await send({"type": "http.response.body", "body": body, "more_body": more})


async def _answer(
    send: Any, status: int, media_type: str, body: bytes, extra: list[Any] | None = None
) -> None:
    headers = [(b"content-type", media_type.encode()), (b"content-length", b"%d" % len(body))]
    headers += extra or []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
