"""The client's blob GET (``client/rawget.py``) against a scripted HTTP/1.1 server on
loopback: redirects to another origin (no ``Authorization`` there), Basic auth answered,
keep-alive reuse, a chunked body (left to httpx), a cut body, a lying one, an error."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import pytest

from pyregistry.client import AsyncRegistryClient, DigestMismatchError, NotFoundError

BLOB = os.urandom(3 * 1024 * 1024 + 12345)
DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()
BASIC = "Basic YWxpY2U6d29uZGVybGFuZA=="  # alice:wonderland


@dataclass
class Request:
    path: str
    headers: dict[str, str]


#: A handler answers one request: it writes the whole response itself.
Handler = Callable[[Request, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Server:
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    connections: int = 0


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    return Request(lines[0].split(" ")[1], headers)


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[Server]:
    server = Server()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.connections += 1
        try:
            while (request := await _read_request(reader)) is not None:
                server.requests.append(request)
                await handler(request, writer)
                await writer.drain()
                if writer.is_closing():
                    break
        finally:
            writer.close()

    listening = await asyncio.start_server(connected, "127.0.0.1", 0)
    server.url = f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}"
    async with listening:
        yield server


def answer(status: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def send_blob(request: Request, writer: asyncio.StreamWriter) -> None:
    writer.write(answer("200 OK", {"Docker-Content-Digest": DIGEST}, BLOB))


async def pull(url: str, credentials: tuple[str, str] | None = None) -> bytes:
    async with AsyncRegistryClient(url, credentials=credentials) as client:
        return b"".join([chunk async for chunk in client.stream_blob("r/app", DIGEST)])


async def test_blob_pieces_and_keep_alive() -> None:
    async with serving(send_blob) as server, AsyncRegistryClient(server.url) as client:
        for _ in range(3):
            pieces = [chunk async for chunk in client.stream_blob("r/app", DIGEST)]
            assert b"".join(pieces) == BLOB
            assert [len(p) for p in pieces[:-1]] == [1024 * 1024] * 3
        assert server.connections == 1, "one connection, kept between blobs"
        assert server.requests[0].path == f"/v2/r/app/blobs/{DIGEST}"
        assert server.requests[0].headers["accept-encoding"] == "identity"


async def test_basic_auth_then_a_redirect_to_another_origin() -> None:
    async with serving(send_blob) as storage:

        async def registry(request: Request, writer: asyncio.StreamWriter) -> None:
            if request.headers.get("authorization") != BASIC:
                writer.write(answer("401 Unauthorized", {"WWW-Authenticate": 'Basic realm="r"'}))
            else:
                writer.write(answer("307 Temporary Redirect", {"Location": f"{storage.url}/b?s=1"}))

        async with serving(registry) as front:
            assert await pull(front.url, credentials=("alice", "wonderland")) == BLOB
        assert [r.headers.get("authorization") for r in front.requests] == [None, BASIC]
        assert [r.path for r in storage.requests] == ["/b?s=1"]
        assert "authorization" not in storage.requests[0].headers


async def test_a_chunked_body_goes_through_httpx() -> None:
    async def chunked(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for start in range(0, len(BLOB), 1 << 20):
            part = BLOB[start : start + (1 << 20)]
            writer.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        writer.write(b"0\r\n\r\n")

    async with serving(chunked) as server:
        assert await pull(server.url) == BLOB
        assert len(server.requests) == 2


async def test_a_cut_body_raises_and_the_connection_is_not_kept() -> None:
    async def cut(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(answer("200 OK", {}, BLOB)[: 2 * 1024 * 1024])
        await writer.drain()
        writer.close()

    async with serving(cut) as server, AsyncRegistryClient(server.url) as client:
        for _ in range(2):
            with pytest.raises(httpx.RemoteProtocolError):
                async for _chunk in client.stream_blob("r/app", DIGEST):
                    pass
        assert server.connections == 2


async def test_a_lying_body_and_an_error_status() -> None:
    async def lying(request: Request, writer: asyncio.StreamWriter) -> None:
        if "missing" in request.path:
            body = b'{"errors":[{"code":"BLOB_UNKNOWN","message":"no"}]}'
            writer.write(answer("404 Not Found", {"Content-Type": "application/json"}, body))
        else:
            writer.write(answer("200 OK", {}, BLOB[::-1]))

    async with serving(lying) as server, AsyncRegistryClient(server.url) as client:
        with pytest.raises(DigestMismatchError):
            await client.get_blob("r/app", DIGEST)
        with pytest.raises(NotFoundError) as raised:
            await client.get_blob("r/missing", DIGEST)
        assert b"BLOB_UNKNOWN" in raised.value.body
        assert server.connections == 1, "an error's body is read whole: the connection is kept"
