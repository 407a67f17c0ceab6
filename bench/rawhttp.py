"""A minimal HTTP/1.1 keep-alive GET/HEAD client for the requests-per-second rows.

Why not httpx here: on a 2-core machine the load generator shares the cores with the
server, and httpx spends about a millisecond of CPU per request (more when many tasks
share one pool), so the row would measure httpx, not the registry. This client does
one thing - sequential GETs or HEADs on one kept-alive connection, bodies framed by
Content-Length or chunked (none after a HEAD) - for a few tens of microseconds each. Loopback only.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

MAX_HEADER_BYTES = 64 * 1024


class RawHttpError(RuntimeError):
    """The server answered something this client does not handle."""


class KeepAliveGet:
    """One TCP connection to a loopback server, reused for every GET."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(base_url)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1") or parts.scheme != "http":
            raise RawHttpError(f"refusing a non-loopback or non-http target: {base_url}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.authority = parts.netloc
        self.extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self.reader, self.writer

    async def get(self, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        """GET (or HEAD) ``path``: (status, lower-cased headers, body)."""
        reader, writer = await self._connect()
        writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: {self.authority}\r\n{self.extra}\r\n".encode(
                "latin-1"
            )
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_HEADER_BYTES:
            raise RawHttpError("response headers too large")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if method != "HEAD" and "chunked" in headers.get("transfer-encoding", "").lower():
            body = await _read_chunked(reader)  # Go's server chunks bodies over 2-4 KiB
        else:
            length = 0 if method == "HEAD" else int(headers.get("content-length", "0"))
            body = await reader.readexactly(length)
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, headers, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    """A ``Transfer-Encoding: chunked`` body (no trailers expected)."""
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
