"""Access control in front of an app that has no registry router of its own.

The registry authorizes after routing (:mod:`pyregistry.auth.gate`). This middleware is
for :func:`pyregistry.auth.wrap_app`: auth in front of another ASGI app (a stand-in in
tests, a registry served by something else). It matches the path with the API's router,
authorizes with the same :class:`~pyregistry.auth.gate.Authorizer`, answers refusals with
the API's ``error_response``, and serves the token route; other paths pass through.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

from starlette.requests import HTTPConnection
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from pyregistry.api.errors import error_response
from pyregistry.api.routes import parse_api_path, required_access
from pyregistry.auth.access import AccessController
from pyregistry.auth.gate import STATE_KEY, Authorizer
from pyregistry.auth.scopes import valid_resource_name
from pyregistry.errcode import RegistryError
from pyregistry.storage.errors import NameInvalid

log = logging.getLogger("pyregistry.auth")


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
        token_route: Route | None = None,
    ) -> None:
        self.app = app
        self.authorizer = Authorizer(controller)
        self.prefix = prefix.rstrip("/")
        self.token_route = token_route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.token_route is not None:
            match, child_scope = self.token_route.matches(scope)
            if match == Match.FULL:
                scope.update(child_scope)
                await self.token_route.handle(scope, receive, send)
                return
        path, method = route_path(scope), scope.get("method", "GET")
        v2 = f"{self.prefix}/v2"
        route = parse_api_path(path[len(v2) :]) if path.startswith(v2) else None
        if route is None:  # no API endpoint: the app answers (404)
            await self.app(scope, receive, send)
            return
        try:
            if route.name is not None and not valid_resource_name(route.name):
                # NAME_INVALID before any challenge echoes the name in a header
                raise NameInvalid("invalid repository name", detail={"name": route.name})
            access = required_access(route, method, _query_value(scope, "from"))
            result = await self.authorizer.authorize(HTTPConnection(scope), access)
        except RegistryError as refusal:
            if refusal.status >= 500:
                log.error("%s on %s %s", refusal.message, method, path, exc_info=refusal)
            await error_response(refusal, head=method == "HEAD")(scope, receive, send)
            return
        scope.setdefault("state", {})[STATE_KEY] = result
        await self.app(scope, receive, send)
