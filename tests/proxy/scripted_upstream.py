"""A registry for mirror tests that serves fixed blobs and manifests slowly (so that
concurrent pulls through mirrors overlap) and counts the GETs of each, exactly as given:
a blob whose bytes do not match its digest is sent all the same (a corrupt upstream)."""

from __future__ import annotations

import asyncio
import collections
from typing import Any

CHUNK = 64 * 1024


class ScriptedUpstream:
    """An ASGI registry: ``blobs`` and ``manifests`` (``(media type, content)``) by
    digest, each GET taking about ``send_seconds``; ``fetches`` counts GETs by digest."""

    def __init__(
        self,
        blobs: dict[str, bytes],
        manifests: dict[str, tuple[str, bytes]] | None = None,
        send_seconds: float = 1.5,
    ) -> None:
        self.blobs = blobs
        self.manifests = manifests or {}
        self.send_seconds = send_seconds
        self.fetches: collections.Counter[str] = collections.Counter()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        reference = path.rsplit("/", 1)[-1]
        if path == "/v2/":
            await _answer(send, 200, "application/json", b"{}")
        elif "/blobs/" in path and reference in self.blobs:
            await self._send(send, method, reference, "application/octet-stream")
        elif "/manifests/" in path and reference in self.manifests:
            await self._send(send, method, reference, self.manifests[reference][0])
        else:
            body = b'{"errors":[{"code":"NOT_FOUND","message":"no"}]}'
            await _answer(send, 404, "application/json", body)

    async def _send(self, send: Any, method: str, digest: str, media_type: str) -> None:
        content = self.blobs[digest] if digest in self.blobs else self.manifests[digest][1]
        headers = [
            (b"content-length", str(len(content)).encode()),
            (b"docker-content-digest", digest.encode()),
            (b"content-type", media_type.encode()),
        ]
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


async def _answer(send: Any, status: int, media_type: str, body: bytes) -> None:
    headers = [(b"content-type", media_type.encode()), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
