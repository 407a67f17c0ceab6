"""Authorization after routing: the access hook that enforces access control.

The API routes each request once and computes the access it needs
(:func:`pyregistry.api.routes.required_access`, carried by the request context); this
hook asks the :class:`~pyregistry.auth.access.AccessController` about exactly that, as
distribution's dispatcher does before it calls a handler. A refusal is a
:class:`~pyregistry.auth.access.AuthChallenge`, answered by the API's one
``error_response`` with its ``WWW-Authenticate`` challenge.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection, Request

from pyregistry import errcode
from pyregistry.api.access import RequiredAccess
from pyregistry.api.context import RequestContext
from pyregistry.auth.access import PULL, REPOSITORY, AccessController, AuthChallenge, AuthResult
from pyregistry.errcode import RegistryError

#: Where the outcome is kept: ``scope["state"]["auth"]``.
STATE_KEY = "auth"


class Authorizer:
    """Decides one request's :class:`RequiredAccess` with the configured controller; also
    the API access hook (``await authorizer(request, context)``)."""

    def __init__(self, controller: AccessController) -> None:
        self.controller = controller

    async def authorize(self, connection: HTTPConnection, access: RequiredAccess) -> AuthResult:
        """Authorize everything the request wants; a mount whose source the caller may not
        pull is still authorized as a plain upload (the API then answers 202). A failing
        controller is a 500 ``UNKNOWN``, never a traceback to the client."""
        try:
            return await self._authorize(connection, access)
        except RegistryError:
            raise
        except Exception as exc:
            raise RegistryError(descriptor=errcode.AUTH_CHECK_FAILED) from exc

    async def _authorize(self, connection: HTTPConnection, access: RequiredAccess) -> AuthResult:
        try:
            return await self.controller.authorize(connection, access.wanted)
        except AuthChallenge as refusal:
            if access.mount_source is None:
                raise
            # The challenge names the source too, so clients ask for it next time.
            full_refusal = refusal
        try:
            return await self.controller.authorize(connection, access.required)
        except AuthChallenge:
            raise full_refusal from None

    async def __call__(self, request: Request, context: RequestContext) -> None:
        result = await self.authorize(request, context.access)
        request.scope.setdefault("state", {})[STATE_KEY] = result
        await access_hook(request, context)


async def access_hook(request: Request, context: RequestContext) -> None:
    """Applies an :class:`AuthResult` already decided for the request: names the caller
    (``context.actor``, for logs and notifications) and forbids a blob mount without
    ``from`` unless the caller may pull everywhere."""
    result = request.scope.get("state", {}).get(STATE_KEY)
    if not isinstance(result, AuthResult):
        return
    context.actor = result.actor
    context.extras["auth"] = result
    if not result.global_pull:
        context.allow_global_mount = False
    if context.mount_from and not result.can(REPOSITORY, context.mount_from, PULL):
        context.allow_source_mount = False
