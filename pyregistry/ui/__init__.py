"""The web UI: browse, search, inspect and administer the registry in a browser.

Server-rendered pages (Jinja2 templates, a committed stylesheet and one small script, no
build step) under ``ui.prefix``, served by the registry's own process when ``ui.enabled``
is set. Logins are the registry's users; what a page shows and allows is what the
registry's roles allow (the management service layer, ``pyregistry.management``, decides
and enforces). ``docs/ui.md`` describes the pages and their settings.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount

from pyregistry.config.model import Config

__all__ = ["mount_ui"]

log = logging.getLogger("pyregistry.ui")


def mount_ui(app: Any, config: Config) -> None:
    """Mount the UI in the registry's Starlette ``app`` when ``ui.enabled``; nothing
    otherwise. The app's service layer (``app.state.management``, which ``create_app``
    builds when the UI is enabled) answers every page. The UI goes just before the app's
    last route, the catch-all that answers unknown paths with the registry's JSON 404, and
    after the token service's and the management API's routes."""
    if not config.ui.enabled or not isinstance(app, Starlette):
        return
    from pyregistry.management import Management
    from pyregistry.ui.accounts import accounts_of
    from pyregistry.ui.app import build_ui
    from pyregistry.ui.pages import page_routes
    from pyregistry.ui.settings import ui_settings

    settings = ui_settings(config)
    management = getattr(app.state, "management", None)
    if not isinstance(management, Management):
        log.error("ui.enabled, but the app (%s) has no management service layer: no UI", app)
        return
    ui = build_ui(settings, accounts_of(management), management, page_routes())
    routes = app.router.routes
    routes.insert(max(len(routes) - 1, 0), Mount(settings.prefix, ui))
