"""A blob's GET with its body read from the socket straight into 1 MiB pieces.

Through httpx (httpcore, h11, anyio) each byte of a body is copied three or four times
after the kernel's copy (the event loop's read buffer, h11's receive buffer, the bytes
it extracts, the pieces a mirror gathers) and every read of at most 256 KiB costs a
timeout scope and an h11 event: a mirror's cold pull of a big blob spent more CPU there
than on hashing it. Here an asyncio ``BufferedProtocol`` has the kernel write the body
into the piece it belongs to (TLS decrypts into it), and each full piece is handed on as
it is: one copy on the way in, a thread hop never.

Only what a blob GET needs: HTTP/1.1, bodies with a ``Content-Length``, idle connections
kept per origin for the next blob. A body of another shape (chunked, or up to the close)
is :class:`Unsupported`: the caller asks httpx instead. Errors are httpx's exceptions,
so callers handle both paths alike.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from typing import cast

import httpx

#: The size of the pieces a body arrives in (the last may be less).
PIECE_BYTES = 1024 * 1024
#: The most a response's status line and headers may take.
HEAD_LIMIT = 64 * 1024
#: Full pieces waiting for the reader before the socket is no longer read.
READY_PIECES = 4
#: Idle connections kept per origin.
IDLE_PER_ORIGIN = 4
_DEFAULT_PORTS = {"http": 80, "https": 443}
_NO_BODY = frozenset({204, 304})

Origin = tuple[str, str, int]


class Unsupported(Exception):
    """The response's body has no ``Content-Length``: left to httpx."""


def _parse_head(raw: bytes) -> tuple[int, str, list[tuple[str, str]]]:
    """Status, reason and headers of a response head (without its blank line)."""
    lines = raw.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/1.") or not code.isdigit() or len(code) != 3:
        raise httpx.RemoteProtocolError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise httpx.RemoteProtocolError(f"malformed header line: {line[:80]!r}")
        headers.append((name, value.strip()))
    return int(code), reason, headers


def _body_length(status: int, headers: httpx.Headers) -> int | None:
    """The body's size; None when it is not given by a ``Content-Length``."""
    if status in _NO_BODY or status < 200:
        return 0
    if "transfer-encoding" in headers:
        return None
    values = {v.strip() for v in headers.get_list("content-length", split_commas=True)}
    if not values:
        return None
    if len(values) != 1 or not (value := values.pop()).isdigit():
        raise httpx.RemoteProtocolError("invalid Content-Length")
    return int(value)


class _Receiver(asyncio.BufferedProtocol):
    """One connection: reads a response head, then its body into pieces."""

    def __init__(self, read_timeout: float) -> None:
        self.read_timeout = read_timeout
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.error: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._head_buffer = bytearray(HEAD_LIMIT)
        self._scratch = bytearray(4096)
        #: Piece buffers the reader has copied out, for the next pieces (a fresh
        #: megabyte is zeroed, and its pages faulted in, which costs more than a copy).
        self.spare: list[bytearray] = []
        self.reset()

    def reset(self) -> None:
        """Ready for the next response on this connection."""
        self._head_len = 0
        self.head: tuple[int, str, httpx.Headers] | None = None
        self.length: int | None = None
        self._left = 0  # body bytes still to come
        self._piece: bytearray | None = None
        self._size = 0  # of the piece being filled
        self._filled = 0
        self._ready: collections.deque[memoryview] = collections.deque()
        self.surplus = False  # bytes nobody asked for: the connection is not reused

    # asyncio's side
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but act as one
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if exc is not None and self.error is None:
            self.error = httpx.ReadError(f"connection lost: {exc}")
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False

    def pause_writing(self) -> None:  # a request is a few hundred bytes
        pass

    def resume_writing(self) -> None:
        pass

    def get_buffer(self, sizehint: int) -> memoryview:
        if self.head is None:
            return memoryview(self._head_buffer)[self._head_len :]
        if self._left > 0:
            if self._piece is None:
                self._piece = self.spare.pop() if self.spare else bytearray(PIECE_BYTES)
                self._size = min(PIECE_BYTES, self._left)
            return memoryview(self._piece)[self._filled : self._size]
        return memoryview(self._scratch)

    def buffer_updated(self, nbytes: int) -> None:
        if self.head is None:
            self._head_received(nbytes)
        elif self._left > 0:
            self._body_received(nbytes)
        else:
            self.surplus = True

    def _head_received(self, nbytes: int) -> None:
        start = max(self._head_len - 3, 0)
        self._head_len += nbytes
        end = self._head_buffer.find(b"\r\n\r\n", start, self._head_len)
        if end < 0:
            if self._head_len == HEAD_LIMIT:
                self._fail(httpx.RemoteProtocolError("response head too large"))
            return
        try:
            status, reason, fields = _parse_head(bytes(self._head_buffer[:end]))
            headers = httpx.Headers(fields)
            self.length = _body_length(status, headers)
        except httpx.RemoteProtocolError as exc:
            self._fail(exc)
            return
        self.head = (status, reason, headers)
        self._left = self.length or 0
        spill = memoryview(self._head_buffer)[end + 4 : self._head_len]
        if self.length is not None:
            while spill and self._left > 0:
                target = self.get_buffer(len(spill))
                taken = min(len(target), len(spill))
                target[:taken] = spill[:taken]
                spill = spill[taken:]
                self._body_received(taken)
            self.surplus = bool(spill)
        self._wake()

    def _body_received(self, nbytes: int) -> None:
        self._filled += nbytes
        self._left -= nbytes
        piece = self._piece
        assert piece is not None
        if self._filled == self._size:
            self._ready.append(memoryview(piece)[: self._size])
            self._piece, self._filled = None, 0
            if len(self._ready) >= READY_PIECES and self.transport is not None:
                self.transport.pause_reading()
                self._paused = True
            self._wake()

    def _fail(self, exc: Exception) -> None:
        self.error = exc
        self.closed = True
        if self.transport is not None:
            self.transport.close()
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # the reader's side
    async def _wait(self) -> None:
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(self.read_timeout):
                await waiter
        except TimeoutError:
            raise httpx.ReadTimeout(f"no data for {self.read_timeout:g}s") from None
        finally:
            self._waiter = None

    def _broken(self, what: str) -> Exception:
        return self.error or httpx.RemoteProtocolError(f"the server closed the connection {what}")

    async def read_head(self) -> tuple[int, str, httpx.Headers]:
        while self.head is None:
            if self.closed:
                raise self._broken("without a response")
            await self._wait()
        return self.head

    async def next_piece(self) -> memoryview | None:
        """The next full piece of the body (its buffer goes back to :attr:`spare` once
        copied out); None after the last."""
        while not self._ready:
            if self._left == 0:
                return None
            if self.closed:
                raise self._broken("before the end of the body")
            await self._wait()
        piece = self._ready.popleft()
        if self._paused and self.transport is not None and len(self._ready) < READY_PIECES:
            self._paused = False
            self.transport.resume_reading()
        return piece

    @property
    def reusable(self) -> bool:
        return not (self.closed or self.surplus or self._left or self._ready or self._piece)


class RawResponse:
    """A response whose body is read with :meth:`pieces` (or :meth:`read`)."""

    def __init__(self, pool: RawGetter, origin: Origin, receiver: _Receiver) -> None:
        assert receiver.head is not None
        self.status_code, self.reason_phrase, self.headers = receiver.head
        self._pool = pool
        self._origin = origin
        self._receiver = receiver
        self._keep = self.headers.get("connection", "").lower() != "close"
        self._closed = False

    @property
    def supported(self) -> bool:
        return self._receiver.length is not None

    async def pieces(self) -> AsyncIterator[bytes]:
        """The body in pieces of :data:`PIECE_BYTES` (the last may be less)."""
        if not self.supported:
            raise Unsupported("no Content-Length")
        while (piece := await self._receiver.next_piece()) is not None:
            yield self._copied(piece)

    async def read(self, limit: int) -> bytes:
        """At most ``limit`` bytes of the body (an error's), the rest left unread."""
        if not self.supported:
            return b""
        body = b""
        while len(body) < limit:
            piece = await self._receiver.next_piece()
            if piece is None:
                break
            body += self._copied(piece)
        return body[:limit]

    def _copied(self, piece: memoryview) -> bytes:
        """The piece as bytes; its buffer is free for the next piece."""
        content = piece.tobytes()
        buffer = piece.obj
        piece.release()
        if isinstance(buffer, bytearray) and len(self._receiver.spare) < READY_PIECES:
            self._receiver.spare.append(buffer)
        return content

    async def aclose(self) -> None:
        """Keep the connection for the next GET when the body was read whole, else close
        it (a body not read to its end would arrive as the next response's head)."""
        receiver = self._receiver
        if self._closed:
            return
        self._closed = True
        if self._keep and receiver.reusable:
            self._pool.release(self._origin, receiver)
        elif receiver.transport is not None:
            receiver.transport.close()


class RawGetter:
    """GETs to any origin over HTTP/1.1, keeping idle connections per origin."""

    def __init__(
        self,
        ssl_context: Callable[[], ssl.SSLContext],
        *,
        timeout: float,
        connect_timeout: float,
    ) -> None:
        self._ssl_context = ssl_context
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._idle: dict[Origin, list[_Receiver]] = {}

    async def get(self, url: httpx.URL, headers: Mapping[str, str]) -> RawResponse:
        """Send the GET and read the response's head; the body is left to the caller."""
        origin = (url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme, 80))
        request = _request(url, headers)
        idle = self._idle.get(origin, [])
        while idle:
            receiver = idle.pop()
            if receiver.closed or receiver.transport is None:
                continue
            receiver.reset()
            receiver.transport.write(request)
            try:
                await receiver.read_head()
            except (httpx.ReadError, httpx.RemoteProtocolError):
                # closed by the server while idle: try the next, or a new connection
                if receiver.transport is not None:
                    receiver.transport.close()
                continue
            return RawResponse(self, origin, receiver)
        receiver = await self._connect(origin)
        assert receiver.transport is not None
        receiver.transport.write(request)
        try:
            await receiver.read_head()
        except BaseException:
            receiver.transport.close()
            raise
        return RawResponse(self, origin, receiver)

    async def _connect(self, origin: Origin) -> _Receiver:
        scheme, host, port = origin
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported scheme {scheme!r}")
        context = self._ssl_context() if scheme == "https" else None
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, receiver = await loop.create_connection(
                    lambda: _Receiver(self._timeout),
                    host,
                    port,
                    ssl=context,
                    server_hostname=host if context else None,
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out") from None
        except OSError as exc:  # ssl.SSLError included
            raise httpx.ConnectError(f"{host}:{port}: {exc}") from exc
        return receiver

    def release(self, origin: Origin, receiver: _Receiver) -> None:
        idle = self._idle.setdefault(origin, [])
        if len(idle) < IDLE_PER_ORIGIN and receiver.transport is not None:
            idle.append(receiver)
        elif receiver.transport is not None:
            receiver.transport.close()

    def close(self) -> None:
        for idle in self._idle.values():
            for receiver in idle:
                if receiver.transport is not None:
                    receiver.transport.close()
        self._idle.clear()


def _request(url: httpx.URL, headers: Mapping[str, str]) -> bytes:
    host = url.host if url.port is None else f"{url.host}:{url.port}"
    if ":" in url.host:  # an IPv6 literal
        host = f"[{url.host}]" if url.port is None else f"[{url.host}]:{url.port}"
    lines = [f"GET {url.raw_path.decode('ascii')} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
