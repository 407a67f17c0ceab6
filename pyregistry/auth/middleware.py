"""Access control at the edge: an ASGI middleware in front of the registry API.

For each ``<prefix>/v2/...`` request it works out the access needed, asks the
:class:`~pyregistry.auth.access.AccessController`, and either answers the refusal (401
with a challenge, or 403) in the registry's JSON error format, or stores the
:class:`~pyregistry.auth.access.AuthResult` in ``scope["state"]["auth"]`` and calls the
API. The built-in token service, when configured, is answered here too, so one process
serves both. Paths that are no API endpoint go straight to the app (it answers 404).
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from pyregistry.api.errors import error_response
from pyregistry.auth.access import AccessController, AuthChallenge, AuthResult
from pyregistry.auth.challenge import refusal_response
from pyregistry.auth.required import ApiRequest, required_access
from pyregistry.storage.errors import RegistryError

log = logging.getLogger("pyregistry.auth")

STATE_KEY = "auth"


def route_path(scope: Scope) -> str:
    """The path the app routes on: ``path`` without a ``root_path`` it starts with."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        return path[len(root) :]
    return path


def _query_value(scope: Scope, name: str) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name)
    return values[-1] if values else None


class AuthMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        controller: AccessController,
        *,
        prefix: str = "",
        token_path: str | None = None,
        token_service: ASGIApp | None = None,
    ) -> None:
        self.app = app
        self.controller = controller
        self.prefix = prefix.rstrip("/")
        self.token_path = token_path
        self.token_service = token_service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        if self.token_service is not None and path.rstrip("/") == self.token_path:
            await self.token_service(scope, receive, send)
            return
        method = scope.get("method", "GET")
        try:
            api = required_access(method, path, self.prefix, _query_value(scope, "from"))
        except RegistryError as exc:  # NAME_INVALID: refused before any challenge echoes it
            await error_response(exc, head=method == "HEAD")(scope, receive, send)
            return
        if api is None:
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        try:
            result = await self._authorize(connection, api)
        except AuthChallenge as refusal:
            response = refusal_response(refusal, head=method == "HEAD")
            await response(scope, receive, send)
            return
        except Exception:
            # An access controller must never turn a request into a traceback.
            log.exception("access controller failed on %s %s", method, path)
            failure = AuthChallenge(
                "authorization could not be checked", challenge=None, status=500, code="UNKNOWN"
            )
            await refusal_response(failure, head=method == "HEAD")(scope, receive, send)
            return
        scope.setdefault("state", {})[STATE_KEY] = result
        await self.app(scope, receive, send)

    async def _authorize(self, connection: HTTPConnection, api: ApiRequest) -> AuthResult:
        """Authorize everything the request wants; a mount whose source the caller may not
        pull is still authorized as a plain upload (the API then answers 202)."""
        try:
            return await self.controller.authorize(connection, api.wanted)
        except AuthChallenge as refusal:
            if api.mount_source is None:
                raise
            # The challenge names the source too, so clients ask for it next time.
            full_refusal = refusal
        try:
            return await self.controller.authorize(connection, api.required)
        except AuthChallenge:
            raise full_refusal from None
