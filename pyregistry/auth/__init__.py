"""Access control: distribution's ``auth.token``, ``auth.htpasswd`` and ``auth.silly``,
plus a built-in token service with per-project roles (see ``docs/auth.md``).

``create_app`` wires it itself when ``auth`` is configured (:func:`registry_auth`): the
:class:`~pyregistry.auth.gate.Authorizer` runs as an API access hook, after routing, on
the access the router computed; the token service is a route of the app. To put the
same checks in front of some other ASGI app, use :func:`wrap_app`.

The API never imports this package; it sees the outcome as ``scope["state"]["auth"]``
(an :class:`AuthResult`) and as ``context.actor``.
"""

from __future__ import annotations

from starlette.routing import Route
from starlette.types import ASGIApp

from pyregistry.api.context import AccessHook
from pyregistry.api.urls import normalize_prefix
from pyregistry.auth.access import (
    Access,
    AccessController,
    AllowAllController,
    AuthChallenge,
    AuthResult,
)
from pyregistry.auth.gate import Authorizer, access_hook
from pyregistry.auth.middleware import AuthMiddleware
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
    "Authorizer",
    "access_hook",
    "build_auth",
    "build_setup",
    "registry_auth",
    "setup_routes",
    "token_routes",
    "wrap_app",
]


def build_auth(config: Config) -> AccessController | None:
    """The access controller ``config.auth`` asks for; None when the registry is open."""
    setup = build_setup(config)
    return setup.controller if setup is not None else None


def _token_routes(setup: AuthSetup | None) -> list[Route]:
    if setup is None or setup.token_service is None or setup.token_path is None:
        return []
    # No method list: the service answers other methods itself, in the JSON error format.
    return [Route(setup.token_path, setup.token_service)]


def token_routes(config: Config) -> list[Route]:
    """The built-in token service as a Starlette route (empty unless
    ``auth.token.issue`` is configured), for mounting it in another app."""
    return _token_routes(build_setup(config))


def registry_auth(config: Config) -> tuple[list[Route], list[AccessHook]]:
    """For ``create_app``: the token route (if any) and the access hook that authorizes
    each API request; nothing when the registry is open."""
    return setup_routes(build_setup(config))


def setup_routes(setup: AuthSetup | None) -> tuple[list[Route], list[AccessHook]]:
    """:func:`registry_auth` for a setup already built (shared with other features)."""
    if setup is None:
        return [], []
    return _token_routes(setup), [Authorizer(setup.controller)]


def wrap_app(app: ASGIApp, config: Config) -> ASGIApp:
    """``app`` behind access control (and the token route); ``app`` itself when the
    configuration has no auth. For apps other than the registry's own."""
    setup = build_setup(config)
    if setup is None:
        return app
    routes = _token_routes(setup)
    return AuthMiddleware(
        app,
        setup.controller,
        prefix=normalize_prefix(config.http.prefix),
        token_route=routes[0] if routes else None,
    )
