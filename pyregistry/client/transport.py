"""One upstream registry over httpx: URLs, TLS, auth and the status check, shared by
every operation of the client.

Each request names the token scope it needs; a 401 is answered (Basic, or a token for
the scope) and the request sent once more. Bodies are bytes or a factory of async
chunk iterators, so a streamed body can be produced again for that retry. Responses
are opened streaming, so a blob is never read whole unless the caller asks for that.
"""

from __future__ import annotations

import contextlib
import functools
import ssl
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

from pyregistry.client.auth import Authenticator
from pyregistry.client.credential_helper import CredentialHelper
from pyregistry.client.errors import response_error
from pyregistry.client.rawget import RawGetter, RawResponse

#: A request body: bytes, or a function giving a fresh async iterator of chunks.
Body = bytes | Callable[[], AsyncIterator[bytes]] | None
#: The most of an error body read into an exception.
ERROR_BODY_LIMIT = 64 * 1024
USER_AGENT = "pyregistry-client"
#: The most httpcore reads from a socket at once (its default is 64 KiB). A read returns
#: what the socket holds, so small answers are unchanged; a blob streamed at hundreds of
#: MiB/s spent more CPU on the per-read overhead (a timeout scope, an h11 event) than on
#: the bytes: 1 MiB reads cut a mirror's cold pull by ~0.6 ms of CPU per MiB. It is a
#: class attribute, so it holds for every httpx client of the process.
READ_BYTES = 1024 * 1024
httpcore.AsyncHTTP11Connection.READ_NUM_BYTES = READ_BYTES
httpcore.HTTP11Connection.READ_NUM_BYTES = READ_BYTES
#: Redirects a blob GET follows (a registry sends big blobs on to a CDN or a bucket).
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: Headers added to every request made in the current context (see :func:`sending_headers`).
_context_headers: ContextVar[Mapping[str, str] | None] = ContextVar("client_headers", default=None)


@contextlib.contextmanager
def sending_headers(headers: Mapping[str, str]) -> Iterator[None]:
    """Add ``headers`` to every request the block (and the tasks it starts) sends, whichever
    client sends it: replication names the origin of one change in ``User-Agent`` while
    one client per target carries many changes at once."""
    token = _context_headers.set({**(_context_headers.get() or {}), **headers})
    try:
        yield
    finally:
        _context_headers.reset(token)


def tls_verify(ca_file: str | None, insecure: bool) -> ssl.SSLContext | bool:
    """httpx's ``verify``: off when ``insecure``, else the system CAs or ``ca_file``'s."""
    if insecure:
        return False
    if ca_file is not None:
        return ssl.create_default_context(cafile=ca_file)
    return True


class Transport:
    """Requests to one registry at ``base_url`` (``http(s)://host:port``)."""

    def __init__(
        self,
        base_url: str,
        *,
        credentials: tuple[str, str] | None = None,
        credential_helper: CredentialHelper | None = None,
        token: str | None = None,
        ca_file: str | None = None,
        insecure: bool = False,
        timeout: float = 60.0,
        max_connections: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._base = httpx.URL(self.base_url + "/")
        self.auth = Authenticator(
            credentials=credentials,
            token=token,
            clock=clock,
            helper=credential_helper,
            host=self._base.netloc.decode("ascii"),
        )
        verify = tls_verify(ca_file, insecure)
        self.http = httpx.AsyncClient(
            verify=verify,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"User-Agent": USER_AGENT},
            trust_env=False,
        )
        self.raw = RawGetter(
            functools.cache(lambda: httpx.create_ssl_context(verify=verify, trust_env=False)),
            timeout=timeout,
            connect_timeout=min(timeout, 10.0),
        )

    def url(self, target: str | httpx.URL) -> httpx.URL:
        """``target`` (a path such as ``/v2/…``, or an absolute ``Location``) as a URL."""
        return self._base.join(target)

    async def aclose(self) -> None:
        self.raw.close()
        await self.http.aclose()

    async def send(
        self,
        method: str,
        target: str | httpx.URL,
        *,
        scope: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Body = None,
        follow_redirects: bool = False,
    ) -> httpx.Response:
        """Send, answering one auth challenge; the response is open (streaming)."""
        url = self.url(target)
        if params:
            url = url.copy_merge_params(dict(params))
        await self.auth.prepare(self.http, scope)
        sent = self.auth.header(scope)
        response = await self._send_once(method, url, sent, headers, body, follow_redirects)
        if response.status_code != 401:
            return response
        await response.aread()
        challenge = response.headers.get("www-authenticate", "")
        if not await self.auth.answer(self.http, scope, challenge, sent):
            return response
        retry = self.auth.header(scope)
        return await self._send_once(method, url, retry, headers, body, follow_redirects)

    async def _send_once(
        self,
        method: str,
        url: httpx.URL,
        authorization: str | None,
        headers: Mapping[str, str] | None,
        body: Body,
        follow_redirects: bool,
    ) -> httpx.Response:
        request_headers = {**(_context_headers.get() or {}), **(headers or {})}
        if authorization is not None:
            request_headers["Authorization"] = authorization
        content = body() if callable(body) else body  # a fresh stream for every attempt
        request = self.http.build_request(method, url, headers=request_headers, content=content)
        return await self.http.send(request, stream=True, follow_redirects=follow_redirects)

    async def request(
        self,
        method: str,
        target: str | httpx.URL,
        *,
        action: str,
        expected: Collection[int],
        scope: str,
        **options: Any,
    ) -> httpx.Response:
        """Send and read the response; a status outside ``expected`` raises the typed
        :class:`~pyregistry.client.errors.RegistryResponseError` for it."""
        async with self.opened(
            method, target, action=action, expected=expected, scope=scope, **options
        ) as response:
            await response.aread()
            return response

    @asynccontextmanager
    async def opened(
        self,
        method: str,
        target: str | httpx.URL,
        *,
        action: str,
        expected: Collection[int],
        scope: str,
        **options: Any,
    ) -> AsyncIterator[httpx.Response]:
        """:meth:`request` with the body left to stream, closed when the block exits."""
        response = await self.send(method, target, scope=scope, **options)
        try:
            if response.status_code not in expected:
                raise response_error(
                    action,
                    response.status_code,
                    response.reason_phrase,
                    response.headers,
                    await _limited_body(response),
                )
            yield response
        finally:
            await response.aclose()

    @asynccontextmanager
    async def body(
        self,
        target: str | httpx.URL,
        *,
        action: str,
        scope: str,
        on_length: Callable[[int | None], None] | None = None,
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """A GET's body (a blob's) in 1 MiB pieces as they arrive, read by
        :mod:`~pyregistry.client.rawget` (auth answered, redirects followed); a body
        without ``Content-Length`` through httpx. A status other than 200 raises as
        :meth:`request` does. ``on_length`` gets the body's length (None: not announced)
        from the response head, before the first piece."""
        url = self.url(target)
        await self.auth.prepare(self.http, scope)
        sent = self.auth.header(scope)
        response = await self._raw_get(url, sent)
        if response.status_code == 401:
            challenge = response.headers.get("www-authenticate", "")
            await response.aclose()
            if await self.auth.answer(self.http, scope, challenge, sent):
                response = await self._raw_get(url, self.auth.header(scope))
        try:
            if response.status_code != 200:
                raise response_error(
                    action,
                    response.status_code,
                    response.reason_phrase,
                    response.headers,
                    await response.read(ERROR_BODY_LIMIT),
                )
            if not response.supported:
                await response.aclose()
                async with self.opened(
                    "GET", url, action=action, expected=(200,), scope=scope, follow_redirects=True
                ) as fallback:
                    if on_length is not None:
                        on_length(_announced(fallback.headers))
                    yield fallback.aiter_raw()
                return
            if on_length is not None:
                on_length(_announced(response.headers))
            yield response.pieces()
        finally:
            await response.aclose()

    async def _raw_get(self, url: httpx.URL, authorization: str | None) -> RawResponse:
        """The GET's response head, redirects followed (``Authorization`` goes to the
        registry's origin only, as httpx does it)."""
        headers = {
            "User-Agent": USER_AGENT,
            "Accept": "*/*",
            "Accept-Encoding": "identity",
            **(_context_headers.get() or {}),
        }
        origin = (url.scheme, url.host, url.port)
        for _ in range(MAX_REDIRECTS + 1):
            if authorization is not None and (url.scheme, url.host, url.port) == origin:
                headers["Authorization"] = authorization
            else:
                headers.pop("Authorization", None)
            response = await self.raw.get(url, headers)
            location = response.headers.get("location")
            if response.status_code not in _REDIRECTS or not location:
                return response
            await response.aclose()
            url = url.join(location)
        raise httpx.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects from {url}")

    def location(self, response: httpx.Response) -> httpx.URL:
        """The absolute URL of a response's ``Location`` (upload sessions)."""
        location = response.headers.get("location")
        if not location:
            raise response_error(
                f"{response.request.method} {response.request.url.path}: no Location",
                response.status_code,
                response.reason_phrase,
                response.headers,
                b"",
            )
        return response.request.url.join(location)


async def _limited_body(response: httpx.Response) -> bytes:
    body = b""
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= ERROR_BODY_LIMIT:
            break
    return body[:ERROR_BODY_LIMIT]


def _announced(headers: httpx.Headers) -> int | None:
    """A response's ``Content-Length`` (None when absent or not one number)."""
    value = headers.get("content-length", "").strip()
    return int(value) if value.isdigit() else None
