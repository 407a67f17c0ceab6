"""The client side of registry auth: HTTP Basic, and the Bearer token flow of the
distribution token spec.

A 401's ``WWW-Authenticate`` challenge says which: ``Basic`` is answered with the
credentials, ``Bearer realm=…,service=…,scope=…`` by a GET to the realm (with the
credentials as Basic, or anonymously) for a token. Tokens are kept per scope until their
``expires_in`` runs out (60 s when the service does not say), so many repositories can
share one client, and a client that has seen a Bearer challenge fetches the token for a
new scope before sending, which keeps streamed bodies from being sent twice.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from pyregistry.client.credential_helper import CredentialHelper
from pyregistry.client.errors import TokenError

#: Token lifetime when the token service does not say (the token spec's default).
DEFAULT_EXPIRES_IN = 60.0
#: A token is renewed this long before it expires, so it never expires in flight.
EXPIRY_MARGIN = 5.0
_CHALLENGE_PARAM = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="…",service="…"`` -> ``("bearer", {"realm": …, "service": …})``."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        match.group(1).lower(): (
            re.sub(r"\\(.)", r"\1", match.group(2))
            if match.group(2) is not None
            else match.group(3)
        )
        for match in _CHALLENGE_PARAM.finditer(rest)
    }
    return scheme.lower(), params


def basic_header(username: str, password: str) -> str:
    """The ``Authorization`` value for HTTP Basic."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def repository_scope(repository: str, *actions: str) -> str:
    """``repository:team/app:pull,push``: a resource scope of the token spec."""
    return f"repository:{repository}:{','.join(actions)}"


CATALOG_SCOPE = "registry:catalog:*"


@dataclass
class _Token:
    value: str
    expires_at: float


class Authenticator:
    """Decides the ``Authorization`` header of each request, and answers challenges.

    ``credentials`` (user, password) serve Basic and the token service; a ``helper`` gives
    them instead, asked for the host that wants them (``host``: the registry's, for
    Basic; the realm's, for a token). ``token`` is a pre-set bearer token sent as it is
    (it cannot be renewed). ``clock`` is monotonic seconds.
    """

    def __init__(
        self,
        credentials: tuple[str, str] | None = None,
        token: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        helper: CredentialHelper | None = None,
        host: str = "",
    ) -> None:
        self.credentials = credentials
        self.token = token
        self.clock = clock
        self.helper = helper
        self.host = host
        #: The login Basic is answered with (the helper's latest, or ``credentials``).
        self._login = credentials
        #: How many tokens were fetched, e.g. to see that the cache works.
        self.tokens_fetched = 0
        self._basic = False
        self._bearer: dict[str, str] | None = None  # the last Bearer challenge's parameters
        self._tokens: dict[str, _Token] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def header(self, scope: str) -> str | None:
        """The ``Authorization`` to send for ``scope`` now, from what is known."""
        if self.token is not None:
            return f"Bearer {self.token}"
        cached = self._tokens.get(scope)
        if cached is not None and cached.expires_at > self.clock():
            return f"Bearer {cached.value}"
        if self._basic and self._login is not None:
            return basic_header(*self._login)
        return None

    async def _login_for(self, host: str) -> tuple[str, str] | None:
        """The login to give ``host``: the helper's when there is one."""
        if self.helper is not None:
            return await self.helper.credentials(host)
        return self.credentials

    async def prepare(self, http: httpx.AsyncClient, scope: str) -> None:
        """Fetch the token for ``scope`` ahead of the request when the registry is known
        to want Bearer tokens and none is cached; with a helper and Basic, ask it again
        when what it gave has expired (its ``lifetime``)."""
        if self._basic and self.helper is not None and self.token is None:
            self._login = await self.helper.credentials(self.host)
        if self._bearer is not None and self.token is None and self.header(scope) is None:
            await self._fetch(http, scope, self._bearer)

    async def answer(
        self, http: httpx.AsyncClient, scope: str, challenge: str, sent: str | None
    ) -> bool:
        """Get ready to retry a request refused with ``challenge``; False when retrying
        cannot help (no credentials for Basic, a pre-set token, an unknown scheme)."""
        scheme, params = parse_challenge(challenge)
        if self.token is not None:
            return False
        if scheme == "basic":
            if self._basic and sent is not None:
                return False
            self._login = await self._login_for(self.host)
            if self._login is None:
                return False
            self._basic = True
            return True
        if scheme != "bearer" or not params.get("realm"):
            return False
        self._bearer = params
        cached = self._tokens.get(scope)
        if cached is not None:
            if cached.expires_at > self.clock() and sent != f"Bearer {cached.value}":
                return True  # another request renewed it meanwhile
            del self._tokens[scope]  # refused (revoked, too narrow) or expired
        await self._fetch(http, params.get("scope") or scope, params, key=scope)
        return True

    async def _fetch(
        self, http: httpx.AsyncClient, scope: str, params: dict[str, str], key: str | None = None
    ) -> None:
        key = key or scope
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # concurrent requests for one scope fetch one token
            if self.header(key) not in (None, self._basic_value()):
                return
            token = await self._request_token(http, scope, params)
            now = self.clock()  # forget expired tokens: many scopes come and go
            self._tokens = {k: t for k, t in self._tokens.items() if t.expires_at > now}
            self._tokens[key] = token

    def _basic_value(self) -> str | None:
        return basic_header(*self._login) if self._login and self._basic else None

    async def _request_token(
        self, http: httpx.AsyncClient, scope: str, params: dict[str, str]
    ) -> _Token:
        query: dict[str, str | list[str]] = {}
        if params.get("service"):
            query["service"] = params["service"]
        if scope.split():  # several scopes (a mount's) go as several parameters
            query["scope"] = scope.split()
        login = await self._login_for(_host_of(params["realm"]))
        headers = {"Authorization": basic_header(*login)} if login else {}
        response = await http.get(params["realm"], params=query, headers=headers)
        self.tokens_fetched += 1
        if response.status_code != 200:
            raise TokenError(
                f"token service {params['realm']} answered {response.status_code}: "
                f"{response.text[:500]}"
            )
        try:
            body = response.json()
        except ValueError:
            raise TokenError(f"token service {params['realm']} answered no JSON") from None
        value = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise TokenError(f"token service {params['realm']} answered no token")
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else DEFAULT_EXPIRES_IN
        margin = min(EXPIRY_MARGIN, lifetime / 10)
        return _Token(value, self.clock() + lifetime - margin)


def _host_of(url: str) -> str:
    """``host[:port]`` of ``url`` ("" when it is no URL)."""
    try:
        return httpx.URL(url).netloc.decode("ascii")
    except (httpx.InvalidURL, UnicodeDecodeError):
        return ""
