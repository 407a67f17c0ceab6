"""The session as the UI reads it: who is logged in, checked on every request.

Starlette's ``SessionMiddleware`` keeps the session in a cookie signed with itsdangerous
(HttpOnly, SameSite=Lax, ``Secure`` when configured). Each page signs it anew with the
time, so a session ends after ``ui.sessiontimeout`` without a page view.
It holds only the user name, the fingerprint of their password hash and the CSRF token:
nothing that grants more than the users and rules files grant at the time of the request.
"""

from __future__ import annotations

import secrets

from starlette.requests import HTTPConnection, Request

from pyregistry.ui.accounts import Accounts
from pyregistry.ui.forms import CSRF_KEY

USER_KEY = "user"
BINDING_KEY = "binding"


def current_user(request: HTTPConnection, accounts: Accounts | None) -> str | None:
    """The logged-in user, or None (anonymous); a session whose user is gone or whose
    password changed since the login is emptied."""
    user = request.session.get(USER_KEY)
    if not isinstance(user, str) or accounts is None:
        return None
    binding = accounts.binding(user)
    if binding is None or binding != request.session.get(BINDING_KEY):
        request.session.pop(USER_KEY, None)
        request.session.pop(BINDING_KEY, None)
        return None
    return user


def start_session(request: Request, user: str, binding: str) -> None:
    """A fresh session for ``user`` (a new CSRF token: none from before the login survives)."""
    request.session.clear()
    request.session[USER_KEY] = user
    request.session[BINDING_KEY] = binding
    request.session[CSRF_KEY] = secrets.token_urlsafe(32)


def end_session(request: Request) -> None:
    request.session.clear()
