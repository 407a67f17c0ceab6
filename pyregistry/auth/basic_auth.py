"""``auth.htpasswd`` (Basic credentials checked against an htpasswd file) and
``auth.silly`` (any Authorization header passes: for tests only, as in distribution).

Plain htpasswd is distribution's: any valid user may do anything. With the pyregistry
extension ``auth.htpasswd.rules``, the per-project roles decide instead: anonymous callers
may pull public projects, a user lacking a role gets 403 ``DENIED``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Sequence

from starlette.requests import HTTPConnection

from pyregistry import errcode
from pyregistry.auth.access import (
    Access,
    AllowAll,
    AuthChallenge,
    AuthResult,
)
from pyregistry.auth.challenge import basic_challenge, bearer_challenge
from pyregistry.auth.files import WatchedFile
from pyregistry.auth.htpasswd import Htpasswd
from pyregistry.auth.logins import LoginObservers
from pyregistry.auth.rules import Rules
from pyregistry.auth.throttle import LoginThrottle

log = logging.getLogger("pyregistry.auth")


def basic_credentials(request: HTTPConnection) -> tuple[str, str] | None:
    """``(user, password)`` from ``Authorization: Basic …``; None if absent or garbled."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    return user, password


def client_address(request: HTTPConnection) -> str:
    return request.client.host if request.client is not None else "unknown"


def locked_out(user: str, address: str, wait: int, required: Sequence[Access]) -> AuthChallenge:
    """429 ``TOOMANYREQUESTS`` with ``Retry-After``: too many recent login failures."""
    log.warning(
        "login for user %r from %s locked for %ds after repeated failures", user, address, wait
    )
    return AuthChallenge(
        "too many failed logins, retry later",
        challenge=None,
        required=required,
        error=errcode.TOOMANYREQUESTS,
        headers={"Retry-After": str(wait)},
    )


def _allowed(rules: Rules, user: str | None, required: Sequence[Access]) -> bool:
    grants = rules.grants_for(user)
    return all(grants.allows(a.type, a.name, a.action) for a in required)


class HtpasswdAccessController:
    def __init__(
        self,
        htpasswd: Htpasswd,
        realm: str,
        rules: WatchedFile[Rules] | None = None,
        throttle: LoginThrottle | None = None,
        logins: LoginObservers | None = None,
    ) -> None:
        self.htpasswd = htpasswd
        self.realm = realm
        self.rules = rules
        self.throttle = throttle or LoginThrottle()
        self.logins = logins or LoginObservers()

    def _challenge(self, required: Sequence[Access], message: str) -> AuthChallenge:
        return AuthChallenge(message, challenge=basic_challenge(self.realm), required=required)

    async def authorize(self, request: HTTPConnection, required: Sequence[Access]) -> AuthResult:
        credentials = basic_credentials(request)
        rules = self.rules.get() if self.rules is not None else None
        if credentials is None:
            # `/v2/` (nothing required) still asks for credentials: that is docker login.
            if rules is not None and required and _allowed(rules, None, required):
                return AuthResult(actor=None, method="htpasswd", grants=rules.grants_for(None))
            raise self._challenge(required, "authentication required")
        user, password = credentials
        address = client_address(request)
        standing = await self.throttle.check(user, address)
        if standing.wait:
            raise locked_out(user, address, standing.wait, required)
        if not (
            self.htpasswd.verified_already(user, password)
            or await asyncio.to_thread(self.htpasswd.verify, user, password)
        ):
            lockout = await self.throttle.failed(user, address)
            log.info("authentication failed for user %r from %s", user, address)
            await self.logins.notify(user, address, "basic", False)
            if lockout:
                raise locked_out(user, address, lockout, required)
            raise self._challenge(required, "authentication required")
        await self.throttle.succeeded(user, address, standing)
        if not required:  # `GET /v2/`: docker login
            await self.logins.notify(user, address, "basic", True)
        if rules is None:
            return AuthResult(actor=user, method="htpasswd", grants=AllowAll(), global_pull=True)
        if not _allowed(rules, user, required):
            raise AuthChallenge(
                "requested access to the resource is denied",
                challenge=None,
                required=required,
                error=errcode.DENIED,
            )
        grants = rules.grants_for(user)
        return AuthResult(actor=user, method="htpasswd", grants=grants, global_pull=grants.is_admin)


class SillyAccessController:
    """Any ``Authorization`` header is accepted; none gets a Bearer challenge."""

    def __init__(self, realm: str, service: str) -> None:
        self.realm = realm
        self.service = service

    async def authorize(self, request: HTTPConnection, required: Sequence[Access]) -> AuthResult:
        if not request.headers.get("authorization"):
            header = bearer_challenge(self.realm, self.service, required)
            raise AuthChallenge("authentication required", challenge=header, required=required)
        return AuthResult(actor="silly", method="silly", grants=AllowAll(), global_pull=True)
