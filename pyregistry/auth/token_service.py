"""The built-in token service: Docker's token protocol (``GET``) and its OAuth2 form
(``POST``), as in distribution's ``docs/spec/auth/token.md`` and ``oauth.md``.

``GET ?service=&scope=…&scope=…&account=&offline_token=true`` with Basic credentials (or
none: anonymous) answers ``token``, ``access_token``, ``expires_in``, ``issued_at`` and,
for ``offline_token=true``, a ``refresh_token``. ``POST`` takes
``grant_type=password|refresh_token``. Each token grants the requested scopes intersected
with what the rules allow the caller - never more than was asked.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from pyregistry import errcode
from pyregistry.api.errors import MethodNotAllowed, error_response
from pyregistry.auth.access import AuthChallenge
from pyregistry.auth.basic_auth import basic_credentials, client_address, locked_out
from pyregistry.auth.challenge import basic_challenge
from pyregistry.auth.files import WatchedFile
from pyregistry.auth.htpasswd import Htpasswd
from pyregistry.auth.issuer import TokenSigner
from pyregistry.auth.logins import LoginObservers
from pyregistry.auth.rules import Rules, grant
from pyregistry.auth.scopes import ScopeError, parse_scopes
from pyregistry.auth.throttle import LoginThrottle
from pyregistry.errcode import RegistryError

log = logging.getLogger("pyregistry.auth")

MAX_FORM_BYTES = 64 * 1024
TOKEN_REALM = "pyregistry token service"


def _json(status: int, document: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(document).encode()
    all_headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    all_headers.update(headers or {})
    return Response(body, status_code=status, headers=all_headers)


def _refusal(error: RegistryError, *, head: bool = False) -> Response:
    """A registry error (from the one table), not to be cached."""
    error.headers.setdefault("Cache-Control", "no-store")
    return error_response(error, head=head)


def _oauth_error(status: int, error: str, description: str) -> Response:
    return _json(status, {"error": error, "error_description": description})


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


class TokenService:
    """ASGI endpoint; mount it at the configured path (default ``/auth/token``)."""

    def __init__(
        self,
        signer: TokenSigner,
        users: Htpasswd,
        rules: WatchedFile[Rules] | None,
        throttle: LoginThrottle | None = None,
        logins: LoginObservers | None = None,
    ) -> None:
        self.signer = signer
        self.users = users
        self.rules = rules
        self.throttle = throttle or LoginThrottle()
        self.logins = logins or LoginObservers()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            if request.method in ("GET", "HEAD"):
                response = await self.get(request)
            elif request.method == "POST":
                response = await self.post(request)
            else:
                refused = MethodNotAllowed("use GET or POST", headers={"Allow": "GET, POST"})
                response = _refusal(refused)
        except AuthChallenge as refusal:  # locked out
            response = _refusal(refusal, head=request.method == "HEAD")
        await response(scope, receive, send)

    def _rules(self) -> Rules | None:
        return self.rules.get() if self.rules is not None else None

    def _wrong_service(self, service: str | None) -> bool:
        return bool(service) and service != self.signer.service

    def _binding(self, user: str) -> str:
        """Ties refresh tokens to the user's current password hash: a new password (or
        removing the user) revokes them."""
        hashed = self.users.users().get(user)
        if hashed is None:
            return ""
        return hashlib.sha256(f"{user}:{hashed}".encode()).hexdigest()[:32]

    async def _authenticate(self, request: Request, user: str, password: str) -> bool:
        """Check a password under the login throttle; :class:`AuthChallenge` (429) while
        the user or address is locked out."""
        address = client_address(request)
        wait = await self.throttle.retry_after(user, address)
        if wait:
            raise locked_out(user, address, wait, ())
        if await asyncio.to_thread(self.users.verify, user, password):
            await self.throttle.succeeded(user, address)
            await self.logins.notify(user, address, "token", True)
            return True
        await self.logins.notify(user, address, "token", False)
        lockout = await self.throttle.failed(user, address)
        if lockout:
            raise locked_out(user, address, lockout, ())
        return False

    async def get(self, request: Request) -> Response:
        params = request.query_params
        if self._wrong_service(params.get("service")):
            unknown = f"unknown service {params.get('service')!r}"
            return _refusal(RegistryError(unknown, descriptor=errcode.TOKEN_REQUEST_DENIED))
        try:
            scopes = parse_scopes(params.getlist("scope"))
        except ScopeError as exc:
            return _refusal(RegistryError(str(exc), descriptor=errcode.TOKEN_REQUEST_DENIED))
        subject: str | None = None
        if request.headers.get("authorization"):
            credentials = basic_credentials(request)
            if credentials is None or not await self._authenticate(request, *credentials):
                log.info("token request with bad credentials (account %r)", params.get("account"))
                challenge = basic_challenge(TOKEN_REALM)
                return _refusal(AuthChallenge("authentication required", challenge=challenge))
            subject = credentials[0]
        access = grant(self._rules(), subject, scopes)
        issued = self.signer.issue(subject or "", access)
        document: dict[str, Any] = {
            "token": issued.token,
            "access_token": issued.token,
            "expires_in": issued.expires_in,
            "issued_at": issued.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if subject is not None and _truthy(params.get("offline_token")):
            document["refresh_token"] = self.signer.refresh_token(subject, self._binding(subject))
        log.info("token issued to %r: %s", subject or "<anonymous>", _describe(access))
        return _json(200, document)

    async def post(self, request: Request) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return _oauth_error(400, "invalid_request", "expected a form-urlencoded body")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                return _oauth_error(400, "invalid_request", "request body too large")
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if self._wrong_service(form.get("service")):
            return _oauth_error(400, "invalid_request", f"unknown service {form.get('service')!r}")
        try:
            scopes = parse_scopes([form.get("scope", "")])
        except ScopeError as exc:
            return _oauth_error(400, "invalid_scope", str(exc))
        grant_type = form.get("grant_type")
        refresh: str | None = None
        if grant_type == "password":
            user, password = form.get("username", ""), form.get("password", "")
            if not user or not await self._authenticate(request, user, password):
                return _oauth_error(400, "invalid_grant", "invalid username or password")
            if form.get("access_type") == "offline":
                refresh = self.signer.refresh_token(user, self._binding(user))
        elif grant_type == "refresh_token":
            refresh = form.get("refresh_token", "")
            try:
                user, binding = self.signer.refresh_subject(refresh)
            except ValueError as exc:
                log.info("refresh token refused: %s", exc)
                return _oauth_error(400, "invalid_grant", "invalid refresh token")
            if not binding or not hmac.compare_digest(binding, self._binding(user)):
                log.info("refresh token of %r refused: user removed or password changed", user)
                return _oauth_error(400, "invalid_grant", "invalid refresh token")
        else:
            return _oauth_error(400, "unsupported_grant_type", f"grant_type {grant_type!r}")
        access = grant(self._rules(), user, scopes)
        issued = self.signer.issue(user, access)
        document: dict[str, Any] = {
            "access_token": issued.token,
            "token": issued.token,
            "scope": _describe(access),
            "expires_in": issued.expires_in,
            "issued_at": issued.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if refresh is not None:
            document["refresh_token"] = refresh
        log.info("token issued to %r: %s", user, _describe(access))
        return _json(200, document)


def _describe(access: list[dict[str, Any]]) -> str:
    """Granted access in scope syntax (the OAuth response's ``scope``)."""
    return " ".join(f"{a['type']}:{a['name']}:{','.join(a['actions'])}" for a in access)
