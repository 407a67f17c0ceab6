"""The person behind a UI request as the management service layer knows them.

The service layer (``pyregistry.management``) holds every read model and every permission
check; the UI hands it a :class:`~pyregistry.management.Principal` and renders what it
answers, never deciding on its own who may see or change what.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from pyregistry.auth.basic_auth import client_address
from pyregistry.management import Principal
from pyregistry.ui.context import viewer_of


def principal(request: HTTPConnection) -> Principal:
    user = viewer_of(request).user
    return Principal(
        user,
        address=client_address(request),
        via="session" if user is not None else "anonymous",
        user_agent=request.headers.get("user-agent"),
    )
