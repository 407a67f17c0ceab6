"""What every UI view needs, built once per mounted UI: the settings, the users who may
log in, the page renderer and the management service layer, plus :class:`Viewer`, who is
looking at a page."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection, Request

from pyregistry.management import Management
from pyregistry.ui.accounts import Accounts
from pyregistry.ui.render import Pages
from pyregistry.ui.settings import UiSettings


@dataclass(frozen=True)
class Viewer:
    """The person behind a request: ``user`` None is an anonymous visitor."""

    user: str | None
    admin: bool = False

    @property
    def anonymous(self) -> bool:
        return self.user is None


@dataclass
class UiContext:
    settings: UiSettings
    accounts: Accounts | None
    pages: Pages
    #: The management service layer: every read model and permission check.
    management: Management

    def pull_host(self, request: Request) -> str:
        """The host clients pull from: ``http.host``, else the one the browser used."""
        return self.settings.public_host or request.headers.get("host") or request.url.netloc


def ui_context(request: Request) -> UiContext:
    context: UiContext = request.app.state.ui
    return context


def viewer_of(connection: HTTPConnection) -> Viewer:
    viewer: Viewer = connection.state.viewer
    return viewer
