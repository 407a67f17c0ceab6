"""One authenticated HTTP connection to a Swift account: tokens, retries, listings.

Everything that speaks HTTP to Swift goes through :meth:`SwiftConnection.request`, which
adds the token, re-authenticates once on a 401 (or shortly before the token expires),
retries a request once when a pooled keep-alive connection turns out to be dead, and
retries a request it can replay when Swift answers 500, 502, 503 or 504: a proxy whose
object server was slow to accept answers 503 under load, as python-swiftclient knows
(it retries those too).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import secrets
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx

from storage_drivers.errors import PathNotFound, StorageDriverError
from storage_drivers.swift.auth import AuthResult, authenticate
from storage_drivers.swift.parameters import SwiftParameters

DRIVER = "swift"
#: Re-authenticate this long before the service says the token expires.
EXPIRY_MARGIN = 60.0
#: A token accepted this recently is trusted for a streamed upload without a check.
TOKEN_CONFIRM_AGE = 30.0
_RETRYABLE = (httpx.RemoteProtocolError, httpx.ConnectError, httpx.ReadError, httpx.WriteError)
#: Answers that say "try again shortly", and the waits before each new try (seconds;
#: a numeric ``Retry-After`` up to the last of them is honoured instead).
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
TRANSIENT_DELAYS = (0.1, 0.5, 2.0)


def swift_error(response: httpx.Response, what: str) -> StorageDriverError:
    """A typed error for an unexpected answer (404 becomes PathNotFound)."""
    if response.status_code == 404:
        return PathNotFound(what, driver=DRIVER)
    return StorageDriverError(
        f"swift: {response.request.method} {what} answered HTTP {response.status_code}",
        driver=DRIVER,
        path=what,
    )


def _retry_delay(response: httpx.Response, default: float) -> float:
    """The wait before trying again: the answer's numeric ``Retry-After`` if it gave
    one (at most the longest of :data:`TRANSIENT_DELAYS`), else ``default``."""
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return default
    return min(max(seconds, 0.0), TRANSIENT_DELAYS[-1]) if math.isfinite(seconds) else default


@dataclass
class _LoopState:
    """httpx clients and asyncio locks belong to one event loop; tests use several."""

    loop: asyncio.AbstractEventLoop
    client: httpx.AsyncClient
    auth_lock: asyncio.Lock
    setup_lock: asyncio.Lock


class SwiftConnection:
    """The account behind ``params``; the container is created on first use."""

    def __init__(self, params: SwiftParameters, list_limit: int = 10000) -> None:
        self.params = params
        self.list_limit = list_limit
        self._state: _LoopState | None = None
        self._auth: AuthResult | None = None
        self._confirmed = 0.0  # time.monotonic() of the last answer that was not a 401
        self._ready = False
        #: From ``/info`` (or the options when ``/info`` is disabled).
        self.bulk_delete_max = 0
        self.tempurl_methods: tuple[str, ...] = ()
        self.tempurl_digest = "sha256"
        self.secret_key = ""

    # ---------------------------------------------------------------- plumbing
    def _loop_state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        if self._state is None or self._state.loop is not loop:
            client = httpx.AsyncClient(
                verify=not self.params.insecureskipverify,
                timeout=httpx.Timeout(15 * 60.0, connect=60.0),
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
                headers={"User-Agent": "pyregistry-swift"},
            )
            self._state = _LoopState(loop, client, asyncio.Lock(), asyncio.Lock())
        return self._state

    @property
    def client(self) -> httpx.AsyncClient:
        return self._loop_state().client

    async def close(self) -> None:
        state, self._state = self._state, None
        if state is not None and state.loop is asyncio.get_running_loop():
            await state.client.aclose()

    async def _token(self, stale: AuthResult | None = None) -> AuthResult:
        """The current token; a new one if there is none, it expires soon or is ``stale``."""
        auth = self._auth
        if auth is not None and auth is not stale and not auth.expiring(EXPIRY_MARGIN):
            return auth
        state = self._loop_state()
        async with state.auth_lock:
            auth = self._auth
            if auth is None or auth is stale or auth.expiring(EXPIRY_MARGIN):
                auth = self._auth = await authenticate(state.client, self.params)
            return auth

    async def confirm_token(self, max_age: float = TOKEN_CONFIRM_AGE) -> None:
        """Before a request that cannot be replayed (a streamed body): make sure the token
        still works, re-authenticating if not, unless it was accepted moments ago."""
        if time.monotonic() - self._confirmed > max_age:
            response = await self.request("HEAD", self.container_path())
            if response.status_code == 401:
                raise swift_error(response, "token check")

    def invalidate_token(self) -> None:
        """Forget the token so the next request authenticates again."""
        self._auth = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        content: Any = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Send ``method`` to ``<storage url><path>`` (``path`` already URL-quoted)."""
        replayable = content is None or isinstance(content, bytes | str)
        client = self.client
        auth = await self._token()
        reauthenticated = retried = False
        transient = 0  # transient answers retried so far
        while True:
            request = client.build_request(
                method,
                auth.storage_url + path,
                params=params,
                headers={**(headers or {}), "X-Auth-Token": auth.token},
                content=content,
            )
            try:
                response = await client.send(request, stream=stream)
            except _RETRYABLE as exc:
                if replayable and not retried:
                    retried = True
                    continue
                raise StorageDriverError(f"swift: {method} {path}: {exc!r}", driver=DRIVER) from exc
            except httpx.HTTPError as exc:
                raise StorageDriverError(f"swift: {method} {path}: {exc!r}", driver=DRIVER) from exc
            if (
                response.status_code in TRANSIENT_STATUSES
                and replayable
                and transient < len(TRANSIENT_DELAYS)
            ):
                await response.aclose()
                await asyncio.sleep(_retry_delay(response, TRANSIENT_DELAYS[transient]))
                transient += 1
                continue
            if response.status_code != 401:
                self._confirmed = time.monotonic()
                return response
            if not replayable or reauthenticated:
                self.invalidate_token()
                return response
            if stream:
                await response.aclose()
            reauthenticated = True
            auth = await self._token(stale=auth)

    # ---------------------------------------------------------------- names
    def object_path(self, name: str, container: str | None = None) -> str:
        """The URL path of object ``name`` (a Swift object name, not a driver path)."""
        return f"/{quote(container or self.params.container, safe='')}/{quote(name, safe='/')}"

    def container_path(self, container: str | None = None) -> str:
        return "/" + quote(container or self.params.container, safe="")

    # ---------------------------------------------------------------- setup
    async def ensure_ready(self) -> None:
        """Authenticate, create the container, and read ``/info`` once per driver."""
        if self._ready:
            return
        async with self._loop_state().setup_lock:
            if self._ready:
                return
            await self._token()
            response = await self.request("HEAD", self.container_path())
            if response.status_code == 404:
                response = await self.request("PUT", self.container_path())
            if not response.is_success:
                raise swift_error(response, f"container {self.params.container}")
            container_key = await self._read_info()
            if self.tempurl_methods:
                await self._setup_secret(container_key)
            self._ready = True

    async def _read_info(self) -> bool:
        """Capabilities from ``/info``; returns whether to keep the key on the container."""
        auth = await self._token()
        parts = urlsplit(auth.storage_url)
        try:
            response = await self.client.get(f"{parts.scheme}://{parts.netloc}/info")
            info = response.json() if response.is_success else None
        except (httpx.HTTPError, ValueError):
            info = None
        if not isinstance(info, dict):
            self.tempurl_methods = self.params.tempurlmethods
            return self.params.tempurlcontainerkey
        bulk = info.get("bulk_delete")
        if isinstance(bulk, dict):
            self.bulk_delete_max = int(bulk.get("max_deletes_per_request", 10000))
        tempurl = info.get("tempurl")
        if isinstance(tempurl, dict):
            self.tempurl_methods = tuple(str(m).upper() for m in tempurl.get("methods", ()))
            digests = tempurl.get("allowed_digests") or ["sha1"]
            self.tempurl_digest = "sha256" if "sha256" in digests else str(digests[0])
        version = str((info.get("swift") or {}).get("version", "0"))
        return _version_tuple(version) >= (2, 3, 0)

    async def _setup_secret(self, on_container: bool) -> None:
        """distribution's rule: keep the existing tempurl key unless one is configured."""
        path = self.container_path() if on_container else ""
        scope = "Container" if on_container else "Account"
        response = await self.request("HEAD", path)
        if not response.is_success:
            raise swift_error(response, f"{scope.lower()} metadata")
        existing = response.headers.get(f"X-{scope}-Meta-Temp-URL-Key", "")
        wanted = self.params.secretkey or existing or secrets.token_hex(32)
        if wanted != existing:
            headers = {f"X-{scope}-Meta-Temp-URL-Key": wanted}
            response = await self.request("POST", path, headers=headers)
            if not response.is_success:
                return  # as distribution: no key, so no redirects
        self.secret_key = wanted

    # ---------------------------------------------------------------- temp URLs
    async def temp_url(self, name: str, method: str, lifetime: float = 20 * 60) -> str:
        """A tempurl-middleware URL for ``method`` on object ``name``."""
        auth = await self._token()
        parts = urlsplit(auth.storage_url)
        expires = int(time.time() + lifetime)
        raw_path = f"{unquote(parts.path)}/{self.params.container}/{name}"
        body = f"{method}\n{expires}\n{raw_path}".encode()
        digest = getattr(hashlib, self.tempurl_digest)
        signature = hmac.new(self.secret_key.encode(), body, digest).hexdigest()
        if self.params.accesskey:
            signature = f"{auth.tenant_id}:{self.params.accesskey}:{signature}"
        query = f"temp_url_sig={quote(signature, safe='')}&temp_url_expires={expires}"
        return f"{parts.scheme}://{parts.netloc}{quote(raw_path, safe='/')}?{query}"

    # ---------------------------------------------------------------- listings
    async def listing(
        self,
        prefix: str,
        delimiter: str | None = None,
        container: str | None = None,
        limit: int | None = None,
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Every entry under ``prefix``, page by page (objects, and subdirs with delimiter)."""
        marker = ""
        page_size = limit or self.list_limit
        while True:
            params = {"format": "json", "prefix": prefix, "limit": str(page_size)}
            if delimiter:
                params["delimiter"] = delimiter
            if marker:
                params["marker"] = marker
            response = await self.request("GET", self.container_path(container), params=params)
            if response.status_code == 404:
                return
            if not response.is_success:
                raise swift_error(response, f"listing {prefix}")
            page = response.json() if response.status_code != 204 else []
            for entry in page:
                yield entry
            if len(page) < page_size:
                return
            last = page[-1]
            marker = last.get("name") or last.get("subdir", "")


def _version_tuple(version: str) -> tuple[int, ...]:
    parts: list[int] = []
    for piece in version.split(".")[:3]:
        digits = "".join(c for c in piece if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)
