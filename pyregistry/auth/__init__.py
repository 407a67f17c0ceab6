"""Access control: distribution's ``auth.token``, ``auth.htpasswd`` and ``auth.silly``,
plus a built-in token service with per-project roles (see ``docs/auth.md``).

Wiring (one line each, in ``create_app`` or around it)::

    app = wrap_app(app, config)                  # enforce auth + serve the token endpoint
    create_app(config, middleware=auth_middleware(config), access_hooks=[access_hook])

The API never imports this package; it sees the outcome as ``scope["state"]["auth"]``
(an :class:`AuthResult`) and, through :func:`access_hook`, as ``context.actor``.
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp

from pyregistry.api.context import RequestContext
from pyregistry.api.urls import normalize_prefix
from pyregistry.auth.access import (
    PULL,
    REPOSITORY,
    Access,
    AccessController,
    AllowAllController,
    AuthChallenge,
    AuthResult,
)
from pyregistry.auth.middleware import STATE_KEY, AuthMiddleware
from pyregistry.auth.setup import AuthSetup, build_setup
from pyregistry.config.model import Config

__all__ = [
    "Access",
    "AccessController",
    "AllowAllController",
    "AuthChallenge",
    "AuthMiddleware",
    "AuthResult",
    "AuthSetup",
    "access_hook",
    "auth_middleware",
    "build_auth",
    "build_setup",
    "token_routes",
    "wrap_app",
]


def build_auth(config: Config) -> AccessController | None:
    """The access controller ``config.auth`` asks for; None when the registry is open."""
    setup = build_setup(config)
    return setup.controller if setup is not None else None


def token_routes(config: Config) -> list[Route]:
    """The built-in token service as a Starlette route (empty unless
    ``auth.token.issue`` is configured), for mounting it in another app."""
    setup = build_setup(config)
    if setup is None or setup.token_service is None or setup.token_path is None:
        return []
    return [Route(setup.token_path, setup.token_service, methods=["GET", "HEAD", "POST"])]


def wrap_app(app: ASGIApp, config: Config) -> ASGIApp:
    """``app`` behind access control (and the token service); ``app`` itself when the
    configuration has no auth."""
    setup = build_setup(config)
    if setup is None:
        return app
    return AuthMiddleware(
        app,
        setup.controller,
        prefix=normalize_prefix(config.http.prefix),
        token_path=setup.token_path,
        token_service=setup.token_service,
    )


def auth_middleware(config: Config) -> list[Middleware]:
    """The same, as Starlette middleware for ``create_app(config, middleware=...)``."""
    setup = build_setup(config)
    if setup is None:
        return []
    return [
        Middleware(
            AuthMiddleware,
            controller=setup.controller,
            prefix=normalize_prefix(config.http.prefix),
            token_path=setup.token_path,
            token_service=setup.token_service,
        )
    ]


async def access_hook(request: Request, context: RequestContext) -> None:
    """API access hook: names the caller (``context.actor``, for logs and notifications)
    and forbids a blob mount without ``from`` unless the caller may pull everywhere."""
    result = request.scope.get("state", {}).get(STATE_KEY)
    if not isinstance(result, AuthResult):
        return
    context.actor = result.actor
    context.extras["auth"] = result
    if not result.global_pull:
        context.allow_global_mount = False
    if context.mount_from and not result.can(REPOSITORY, context.mount_from, PULL):
        context.allow_source_mount = False
