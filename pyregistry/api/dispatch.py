"""The ASGI endpoint behind ``/v2``: route, check method and name, build the request
context, run the access hooks, call the handler, and turn registry errors into responses."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from pyregistry.api import base, blobs, catalog, manifests, referrers, tags, uploads
from pyregistry.api.bodies import drain_unread
from pyregistry.api.context import (
    BASE,
    BLOB,
    CATALOG,
    MANIFEST,
    REFERRERS,
    TAGS,
    UPLOAD,
    UPLOAD_START,
    RequestContext,
)
from pyregistry.api.errors import MethodNotAllowed, RouteUnknown, error_response
from pyregistry.api.routes import (
    METHODS,
    WRITE_METHODS,
    RouteMatch,
    parse_api_path,
    required_access,
)
from pyregistry.api.state import ApiCall, ApiState
from pyregistry.events import acting_as
from pyregistry.storage.errors import RegistryError, StorageError

log = logging.getLogger("pyregistry.api")

Handler = Callable[[ApiCall], Awaitable[Response]]

HANDLERS: dict[tuple[str, str], Handler] = {
    (BASE, "GET"): base.get_base,
    (CATALOG, "GET"): catalog.get_catalog,
    (TAGS, "GET"): tags.list_tags,
    (MANIFEST, "GET"): manifests.get_manifest,
    (MANIFEST, "PUT"): manifests.put_manifest,
    (MANIFEST, "DELETE"): manifests.delete_manifest,
    (BLOB, "GET"): blobs.get_blob,
    (BLOB, "DELETE"): blobs.delete_blob,
    (UPLOAD_START, "POST"): uploads.start_upload,
    (UPLOAD, "GET"): uploads.upload_status,
    (UPLOAD, "PATCH"): uploads.patch_upload,
    (UPLOAD, "PUT"): uploads.complete_upload,
    (UPLOAD, "DELETE"): uploads.cancel_upload,
    (REFERRERS, "GET"): referrers.get_referrers,
}


def _handler(endpoint: str, method: str) -> Handler:
    # HEAD is served by the GET handler, which leaves the body out.
    return HANDLERS[(endpoint, "GET" if method == "HEAD" else method)]


class ApiDispatcher:
    """ASGI app mounted at ``<prefix>/v2``; expects the rest of the path in ``rest``."""

    def __init__(self, state: ApiState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await self.handle(request)
        except StorageError as exc:
            # A backend failure (full disk, unreachable bucket), not a bug: one line with
            # the driver's own words for the operator; the client's body carries none.
            cause = f": {exc.__cause__}" if exc.__cause__ is not None else ""
            log.error("%s on %s %s%s", exc.message, request.method, request.url.path, cause)
            response = error_response(exc, head=request.method == "HEAD")
        except RegistryError as exc:
            if exc.status >= 500:
                log.error(
                    "%s on %s %s", exc.message, request.method, request.url.path, exc_info=exc
                )
            response = error_response(exc, head=request.method == "HEAD")
            await drain_unread(request)
        await response(scope, receive, send)

    def route(self, request: Request) -> RouteMatch:
        route = parse_api_path(str(request.path_params.get("rest", "")))
        if route is None:
            raise RouteUnknown(detail={"path": request.url.path})
        return route

    def check_method(self, request: Request, route: RouteMatch) -> None:
        allowed = METHODS[route.endpoint]
        if request.method not in allowed:
            raise MethodNotAllowed(
                f"{request.method} is not supported here",
                headers={"Allow": ", ".join(sorted(allowed))},
            )

    def context(self, request: Request, route: RouteMatch) -> RequestContext:
        mount_from = None
        if route.endpoint == UPLOAD_START and request.query_params.get("mount"):
            mount_from = request.query_params.get("from") or None
        ctx = RequestContext(
            request_id=str(uuid.uuid4()),
            method=request.method,
            endpoint=route.endpoint,
            repository=route.name,
            reference=route.reference,
            access=required_access(route, request.method, request.query_params.get("from")),
            mount_from=mount_from,
            remote_addr=request.client.host if request.client else None,
            host=request.headers.get("host"),
            user_agent=request.headers.get("user-agent"),
        )
        request.state.registry_context = ctx
        return ctx

    async def handle(self, request: Request) -> Response:
        """Route (once), then authorize in the access hooks, as distribution does: before
        the method is checked, after the name is."""
        route = self.route(request)
        repository = None
        if route.name is not None:
            repository = self.state.registry.repository(route.name)
        ctx = self.context(request, route)
        for hook in self.state.access_hooks:
            await hook(request, ctx)
        self.check_method(request, route)
        if request.method in WRITE_METHODS and self.state.registry.readonly:
            raise MethodNotAllowed("the registry is in read-only mode")
        call = ApiCall(request, self.state, route, ctx, repository)
        with acting_as(ctx):  # events from the storage side name this request
            return await _handler(route.endpoint, request.method)(call)


class NotFoundEndpoint:
    """Everything outside ``/v2``: a JSON 404 rather than Starlette's plain text."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exc = RouteUnknown(detail={"path": scope.get("path")})
        await error_response(exc, head=scope.get("method") == "HEAD")(scope, receive, send)
