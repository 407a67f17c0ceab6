"""Who is calling the management API: the registry's own users, by ``Authorization:
Basic`` (checked against the users file under the login throttle) or ``Bearer`` (a
token of the registry's token service, or of the issuer ``auth.token`` trusts: its
subject is the user). No header: an anonymous caller, who still sees public projects.

Wrong credentials are refused (401), never downgraded to anonymous, so a client
learns that its password is wrong. Failed basic logins go to the audit log (through the
same login observers the token service and ``/v2/`` use).
"""

from __future__ import annotations

import asyncio

from starlette.requests import HTTPConnection

from pyregistry.auth.basic_auth import basic_credentials, client_address
from pyregistry.auth.htpasswd import Htpasswd
from pyregistry.auth.logins import LoginObservers
from pyregistry.auth.throttle import LoginThrottle
from pyregistry.auth.token_auth import InvalidToken, TokenVerifier, bearer_token
from pyregistry.management import Principal, Unauthenticated
from pyregistry.management.errors import ManagementError


class TooManyAttempts(ManagementError):
    code, status = "TOOMANYREQUESTS", 429


class Authenticator:
    def __init__(
        self,
        users: Htpasswd | None = None,
        verifier: TokenVerifier | None = None,
        throttle: LoginThrottle | None = None,
        logins: LoginObservers | None = None,
    ) -> None:
        self.users = users
        self.verifier = verifier
        self.throttle = throttle or LoginThrottle()
        self.logins = logins or LoginObservers()

    async def principal(self, request: HTTPConnection) -> Principal:
        address = client_address(request)
        agent = request.headers.get("user-agent")
        raw = bearer_token(request)
        if raw is not None:
            return self._bearer(raw, address, agent)
        credentials = basic_credentials(request)
        if credentials is None:
            if request.headers.get("authorization"):
                raise Unauthenticated("unsupported or malformed Authorization header")
            return Principal(None, address, "anonymous", agent)
        user, password = credentials
        return await self._basic(user, password, address, agent)

    def _bearer(self, raw: str, address: str, agent: str | None) -> Principal:
        if self.verifier is None:
            raise Unauthenticated("bearer tokens are not accepted here (no auth.token)")
        try:
            claims = self.verifier.verify(raw)
        except InvalidToken as exc:
            raise Unauthenticated("invalid or expired token") from exc
        if not claims.subject:
            raise Unauthenticated("the token names no user")
        return Principal(claims.subject, address, "bearer", agent)

    async def _basic(self, user: str, password: str, address: str, agent: str | None) -> Principal:
        if self.users is None:
            raise Unauthenticated("basic authentication is not configured (no users file)")
        wait = await self.throttle.retry_after(user, address)
        if wait:
            raise TooManyAttempts(f"too many failed logins, retry in {wait}s", {"retry": wait})
        if not await asyncio.to_thread(self.users.verify, user, password):
            await self.throttle.failed(user, address)
            await self.logins.notify(user, address, "basic", False)
            raise Unauthenticated("wrong user name or password")
        await self.throttle.succeeded(user, address)
        return Principal(user, address, "basic", agent)
