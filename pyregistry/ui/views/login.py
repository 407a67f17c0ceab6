"""Logging in and out with the registry's users (the users file the token service and
``docker login`` use), under the same login throttle."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from pyregistry.auth.basic_auth import client_address
from pyregistry.management import Unauthenticated
from pyregistry.management.logins import TooManyAttempts
from pyregistry.ui.context import ui_context
from pyregistry.ui.forms import checked_form
from pyregistry.ui.sessions import end_session, start_session


def safe_next(target: str | None, prefix: str) -> str:
    """Where to go after logging in: a path of the UI only (never another site)."""
    inside = prefix + "/"
    if not target or not target.startswith(inside) or target.startswith("//") or "\\" in target:
        return prefix + "/repositories"
    return target


async def login_page(request: Request) -> Response:
    context = ui_context(request)
    target = safe_next(request.query_params.get("next"), context.settings.prefix)
    if request.method == "GET":
        return context.pages.render(request, "login.html", {"next": target})
    form = await checked_form(request)
    user = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")), context.settings.prefix)
    message, status = "Wrong user name or password.", 401
    if context.accounts is None:
        message, status = "This registry has no users to log in with.", 404
    elif user and password:
        try:
            await context.accounts.login(user, password, client_address(request))
            binding = context.accounts.binding(user)
            if binding is not None:
                start_session(request, user, binding)
                return RedirectResponse(target, status_code=303)
        except TooManyAttempts as exc:
            retry = exc.detail.get("retry") if isinstance(exc.detail, dict) else None
            message, status = f"Too many failed logins: try again in {retry or 'a few'} s.", 429
        except Unauthenticated:
            pass  # the message above
    values = {"next": target, "error": message, "username": user}
    return context.pages.render(request, "login.html", values, status=status)


async def logout(request: Request) -> Response:
    await checked_form(request)
    end_session(request)
    return RedirectResponse(ui_context(request).pages.url("/repositories"), status_code=303)
