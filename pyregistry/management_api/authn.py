"""Who is calling the management API: the registry's own users, by ``Authorization:
Basic`` (checked against the users file under the login throttle) or ``Bearer`` (a
token of the registry's token service, or of the issuer ``auth.token`` trusts: its
subject is the user). No header: an anonymous caller, who still sees public projects.

Wrong credentials are refused (401), never downgraded to anonymous, so a client
learns that its password is wrong. Passwords are checked by the service layer
(``PasswordCheck``: the login throttle, failures in the audit log).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from pyregistry.auth.basic_auth import basic_credentials, client_address
from pyregistry.auth.token_auth import InvalidToken, TokenVerifier, bearer_token
from pyregistry.management import Principal, Unauthenticated
from pyregistry.management.logins import PasswordCheck


class Authenticator:
    def __init__(self, passwords: PasswordCheck, verifier: TokenVerifier | None = None) -> None:
        self.passwords = passwords
        self.verifier = verifier

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
        return await self.passwords.login(
            user, password, address, via="basic", user_agent=agent, record_success=False
        )
