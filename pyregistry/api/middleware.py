"""The last line of defence: no request ends in a traceback or a non-JSON 500.

Registry errors that escape (e.g. from an extension's middleware) get their proper status;
anything unexpected is logged with its traceback and answered 500 ``UNKNOWN``. A client
that goes away mid-request is logged quietly - there is nobody left to answer.
"""

from __future__ import annotations

import logging

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pyregistry.api.errors import InternalError, error_response
from pyregistry.storage.errors import RegistryError

log = logging.getLogger("pyregistry.api")


class ErrorTrapMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        head = scope.get("method") == "HEAD"
        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            client = scope.get("client") or ("unknown client",)
            log.info(
                "client %s disconnected during %s %s",
                client[0],
                scope.get("method"),
                scope.get("path"),
            )
            return
        except RegistryError as exc:
            if started:
                raise
            await error_response(exc, head=head)(scope, receive, send)
        except Exception:
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await error_response(InternalError(), head=head)(scope, receive, send)
