"""A TCP proxy on 127.0.0.1 in front of a registry: it records the request lines that
pass (to count token requests, or see that a mount sent no body) and, when armed, cuts
the connection in the middle of a request body, as a network failure would, or answers
a request itself with an error status, as an overloaded server would.

The proxy forwards bytes untouched, so the client and the registry speak to each other
exactly as without it; the registry builds ``Location`` and token realms from the
``Host`` the client sent, so every follow-up request goes through the proxy too.
"""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

_REQUEST_LINE = re.compile(rb"(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP/1\.1\r\n")
_PIPE_CHUNK = 256 * 1024


@dataclass
class _Refusal:
    trigger: bytes  # a request line prefix, e.g. b"HEAD /v1/"
    status: int
    left: int  # requests still to refuse


@dataclass
class _Cut:
    trigger: bytes  # a request line prefix, e.g. b"PATCH "
    after: int  # bytes forwarded past the trigger before the cut


class TcpProxy:
    """``url`` is where clients connect; ``requests`` what they asked, in order."""

    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        assert parts.hostname == "127.0.0.1" and parts.port is not None
        self.upstream = (parts.hostname, parts.port)
        self.requests: list[tuple[str, str]] = []
        self.cuts_done = 0
        self.refusals_done = 0
        self._cut: _Cut | None = None
        self._refusal: _Refusal | None = None
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TcpProxy:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self._server = future.result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def arm_cut(self, trigger: bytes, after: int) -> None:
        """Cut the next connection that sends ``trigger`` once ``after`` more bytes of
        it have passed (one cut, then the proxy is plain again)."""
        with self._lock:
            self._cut = _Cut(trigger, after)

    def arm_refusal(self, trigger: bytes, status: int, times: int) -> None:
        """Answer the next ``times`` requests whose request line starts with ``trigger``
        with ``status`` (no body, the connection closed) without forwarding them."""
        with self._lock:
            self._refusal = _Refusal(trigger, status, times)

    def _refuses(self, data: bytes) -> int | None:
        """The status to answer ``data`` with, if it starts an armed request."""
        with self._lock:
            refusal = self._refusal
            if refusal is None or not data.startswith(refusal.trigger):
                return None
            refusal.left -= 1
            if refusal.left <= 0:
                self._refusal = None
            self.refusals_done += 1
            return refusal.status

    def paths(self, method: str | None = None) -> list[str]:
        with self._lock:
            return [path for verb, path in self.requests if method in (None, verb)]

    async def _listen(self) -> asyncio.Server:
        return await asyncio.start_server(self._handle, "127.0.0.1", 0)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        down = asyncio.create_task(self._pipe(up_reader, writer))
        await self._upload(reader, up_writer, writer)
        up_writer.close()
        await down
        writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(_PIPE_CHUNK):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _upload(
        self,
        reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
        writer: asyncio.StreamWriter,
    ) -> None:
        """Client to registry: record request lines, cut when armed."""
        tail = b""
        budget: int | None = None  # bytes left before this connection is cut
        try:
            while data := await reader.read(_PIPE_CHUNK):
                status = self._refuses(data) if budget is None else None
                if status is not None:
                    up_writer.transport.abort()
                    writer.write(
                        b"HTTP/1.1 %d Refused\r\nContent-Length: 0\r\n"
                        b"Connection: close\r\n\r\n" % status
                    )
                    await writer.drain()
                    writer.close()
                    return
                scan = tail + data
                with self._lock:
                    for match in _REQUEST_LINE.finditer(scan):
                        if match.end() > len(tail):
                            self.requests.append((match[1].decode(), match[2].decode()))
                    cut = self._cut
                    at = -1
                    if budget is None and cut is not None:
                        at = scan.find(cut.trigger, max(0, len(tail) - len(cut.trigger) + 1))
                    if cut is not None and at >= 0:
                        self._cut = None
                        budget = max(at - len(tail) + cut.after, 0)
                tail = scan[-512:]
                if budget is not None:
                    if len(data) >= budget:
                        up_writer.write(data[:budget])
                        await up_writer.drain()
                        self.cuts_done += 1
                        up_writer.transport.abort()
                        writer.transport.abort()
                        return
                    budget -= len(data)
                up_writer.write(data)
                await up_writer.drain()
        except OSError:
            pass
