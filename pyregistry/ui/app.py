"""The UI as its own Starlette app, mounted in the registry's under ``ui.prefix``.

Its middleware, outermost first: the security headers, the signed session cookie, then
:class:`ViewerMiddleware`, which puts who is asking on ``request.state.viewer``. Errors
become the UI's error page (a refused form, a missing page, a refusal), never a JSON
body or a traceback; an unexpected one is logged and shown as a plain 500 page.
"""

from __future__ import annotations

import logging
import os

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pyregistry.management import Management, ManagementError, Principal
from pyregistry.ui.accounts import Accounts
from pyregistry.ui.context import UiContext, Viewer, ui_context
from pyregistry.ui.forms import FormRefused
from pyregistry.ui.render import Pages
from pyregistry.ui.security import SecurityHeaders
from pyregistry.ui.sessions import current_user
from pyregistry.ui.settings import COOKIE_NAME, UiSettings
from pyregistry.ui.views import login

log = logging.getLogger("pyregistry.ui")
STATIC = os.path.join(os.path.dirname(__file__), "static")


class ViewerMiddleware:
    """Sets ``state.viewer`` (and ``state.logins``: whether a login form makes sense)."""

    def __init__(self, app: ASGIApp, context: UiContext) -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            connection = HTTPConnection(scope)
            user = current_user(connection, self.context.accounts)
            # Anonymous callers too: on a registry without auth, everyone is its admin.
            admin = self.context.management.authority.is_system_admin(Principal(user))
            scope.setdefault("state", {})
            scope["state"]["viewer"] = Viewer(user, admin)
            scope["state"]["logins"] = self.context.accounts is not None
        await self.app(scope, receive, send)


async def home(request: Request) -> Response:
    return RedirectResponse(ui_context(request).pages.url("/repositories"), status_code=303)


def _error(request: Request, status: int, message: str) -> Response:
    context: UiContext = request.app.state.ui
    if not hasattr(request.state, "viewer"):
        request.state.viewer = Viewer(None)
        request.state.logins = False
    values = {"status": status, "message": message}
    return context.pages.render(request, "error.html", values, status=status)


async def _refused_form(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FormRefused)
    return _error(request, exc.status, exc.message)


async def _refusal(request: Request, exc: Exception) -> Response:
    """The service layer said no: an anonymous viewer is sent to log in (for a page), a
    user sees why."""
    assert isinstance(exc, ManagementError)
    if exc.status == 401 and request.method == "GET" and request.state.logins:
        target = ui_context(request).pages.url("/login", {"next": request.url.path})
        return RedirectResponse(target, status_code=303)
    return _error(request, exc.status, exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    messages = {404: "There is no such page.", 405: "That method is not allowed here."}
    return _error(request, exc.status_code, exc.detail or messages.get(exc.status_code, ""))


class UnexpectedErrors:
    """Innermost middleware: an exception no handler took becomes a 500 page (logged),
    where Starlette would re-raise it to the registry's JSON error trap."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started or scope["type"] != "http":
                raise
            log.error("UI page %s failed", scope.get("path"), exc_info=exc)
            request = Request(scope)
            message = "Something went wrong on the server; the log says what."
            await _error(request, 500, message)(scope, receive, send)


def build_ui(
    settings: UiSettings,
    accounts: Accounts | None,
    management: Management,
    routes: list[BaseRoute],
) -> Starlette:
    """The UI app: the login pages, the static files and ``routes`` (the pages)."""
    context = UiContext(settings, accounts, Pages(settings.prefix), management)
    app = Starlette(
        routes=[
            Route("/", home),
            Route("/login", login.login_page, methods=["GET", "POST"]),
            Route("/logout", login.logout, methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            *routes,
        ],
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=settings.secret,
                session_cookie=COOKIE_NAME,
                max_age=settings.session_seconds,
                path=settings.prefix or "/",
                same_site="lax",
                https_only=settings.secure_cookie,
            ),
            Middleware(ViewerMiddleware, context=context),
            Middleware(UnexpectedErrors),
        ],
        exception_handlers={
            FormRefused: _refused_form,
            ManagementError: _refusal,
            HTTPException: _http_error,
        },
    )
    app.state.ui = context
    return app
