"""The management API as an ASGI app: match a route of the table, authenticate the
caller, run the handler, answer JSON. Every failure is a JSON body ``{"code",
"message"[, "detail"]}`` with the service layer's status; nothing ends in a traceback.

Answers are ``Cache-Control: no-store`` (they depend on who asks). ``OPTIONS`` is
answered with ``Allow`` and no authentication; CORS preflights are answered before this
app by the CORS middleware (``feature``), also without credentials.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from pyregistry.management import Management, ManagementError, NotFound, Unauthenticated
from pyregistry.management.errors import Invalid
from pyregistry.management_api.authn import Authenticator
from pyregistry.management_api.handlers import Call
from pyregistry.management_api.openapi import openapi_document
from pyregistry.management_api.routes import ROUTES
from pyregistry.management_api.table import Route
from pyregistry.storage.errors import RegistryError

log = logging.getLogger("pyregistry.management")

MAX_BODY = 64 * 1024
NO_STORE = {"Cache-Control": "no-store"}
REALM = 'Basic realm="pyregistry management", charset="UTF-8"'


#: Longer templates first: ``/repositories/{name}/tags`` before ``/repositories/{name}``
#: (whose name could otherwise swallow ``/tags``).
BY_SPECIFICITY = sorted(ROUTES, key=lambda r: -len(r.path))


class MethodNotAllowed(ManagementError, code="METHOD_NOT_ALLOWED", status=405):
    """A path the API has, with a method it does not answer there."""


def error_response(error: ManagementError) -> Response:
    headers = dict(NO_STORE)
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = REALM
    if error.status == 429 and isinstance(error.detail, dict):
        headers["Retry-After"] = str(error.detail.get("retry", 1))
    return JSONResponse(error.as_dict(), status_code=error.status, headers=headers)


def _allowed(path: str) -> list[str]:
    return sorted({r.method for r in ROUTES if r.match(path) is not None})


class ManagementApi:
    """Mounted under its prefix with the path below it in ``path_params["rest"]``."""

    def __init__(self, management: Management, authenticator: Authenticator, prefix: str):
        self.management = management
        self.authenticator = authenticator
        self.prefix = prefix
        from pyregistry import __version__

        self.document = openapi_document(prefix, __version__)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await self._answer(request, scope.get("path_params", {}).get("rest", ""))
        except ManagementError as error:
            response = error_response(error)
        except RegistryError as error:  # a storage refusal the service did not expect
            status = int(getattr(error, "status", 500) or 500)
            body = {"code": "STORAGE", "message": str(error)}
            response = JSONResponse(body, status_code=status, headers=NO_STORE)
        await response(scope, receive, send)

    async def _answer(self, request: Request, path: str) -> Response:
        method = request.method
        if path == "/openapi.json":
            if method not in ("GET", "HEAD"):
                raise MethodNotAllowed("use GET")
            return JSONResponse(self.document)
        route, params = self._route(method, path)
        if route is None:
            allowed = _allowed(path)
            if not allowed:
                raise NotFound(f"no such endpoint: {path or '/'}")
            if method == "OPTIONS":
                return Response(status_code=204, headers={"Allow": ", ".join(allowed)})
            raise MethodNotAllowed(f"{method} is not allowed here (allowed: {allowed})")
        who = await self.authenticator.principal(request)
        body = await _json_body(request) if route.body is not None else {}
        call = Call(self.management, who, params, dict(request.query_params), body)
        result = await route.handler(call)
        if result is None:
            return Response(status_code=204, headers=NO_STORE)
        data = result.as_dict() if hasattr(result, "as_dict") else result
        return JSONResponse(data, headers=NO_STORE)

    @staticmethod
    def _route(method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        verb = "GET" if method == "HEAD" else method
        for route in BY_SPECIFICITY:
            if route.method != verb:
                continue
            params = route.match(path)
            if params is not None:
                return route, params
        return None, {}


async def _json_body(request: Request) -> dict[str, Any]:
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            raise Invalid(f"the request body is larger than {MAX_BODY} bytes")
    try:
        document = json.loads(data or b"{}")
    except ValueError as exc:
        raise Invalid(f"the request body is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise Invalid("the request body must be a JSON object")
    return document
