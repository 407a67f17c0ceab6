"""The registry's Starlette application with a short way in for API requests.

Starlette wraps its router in two layers of its own (``ServerErrorMiddleware`` and
``ExceptionMiddleware``) and matches every route's regular expression; for a blob HEAD
that was a sixth of the CPU of the whole request. :class:`RegistryApp` keeps Starlette
for what it is there for (the lifespan, ``app.state``, any route mounted later) but hands
``<prefix>/v2...`` requests straight to the API dispatcher inside the configured
middleware, setting ``path_params`` as the route would. No protection is lost: the
error trap among that middleware answers every exception in the spec's JSON form (a 500
``UNKNOWN`` for the unexpected), which is all ``ServerErrorMiddleware`` did behind it.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Lifespan, Receive, Scope, Send


class ApiFront:
    """Innermost app: ``<prefix>/v2...`` to ``api``, everything else to Starlette's router."""

    def __init__(self, api: ASGIApp, api_path: str, rest: ASGIApp) -> None:
        self.api = api
        self.api_path = api_path
        self.rest = rest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            root: str = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            if path.startswith(self.api_path):
                scope["path_params"] = {"rest": path[len(self.api_path) :]}
                await self.api(scope, receive, send)
                return
        await self.rest(scope, receive, send)


class RegistryApp(Starlette):
    """Starlette, with ``api`` answering ``api_path`` (``<prefix>/v2``) directly."""

    def __init__(
        self,
        *,
        api: ASGIApp,
        api_path: str,
        routes: Sequence[BaseRoute],
        middleware: Sequence[Middleware],
        lifespan: Lifespan[Starlette],
    ) -> None:
        self._api = api
        self._api_path = api_path
        super().__init__(routes=routes, middleware=middleware, lifespan=lifespan)

    def build_middleware_stack(self) -> ASGIApp:
        app: ASGIApp = ApiFront(self._api, self._api_path, ExceptionMiddleware(self.router))
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return app
