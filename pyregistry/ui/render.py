"""Pages from the Jinja2 templates in ``templates/``, with what every page shows (the user,
the CSRF token for its forms, the UI's own path) and the filters the lists use.

Jinja2 (through Starlette's ``Jinja2Templates``) escapes every value by default, so a
repository name, label or annotation pushed by anyone is shown, never run.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from pyregistry.ui.forms import csrf_token

TEMPLATES = os.path.join(os.path.dirname(__file__), "templates")
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_size(value: int | float | None) -> str:
    """``1536`` -> ``"1.5 KiB"``; None -> an em dash."""
    if value is None:
        return "\u2014"
    size = float(value)
    for unit in _UNITS:
        if abs(size) < 1024 or unit == _UNITS[-1]:
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} PiB"


def timestamp(value: float | str | None, seconds: bool = False) -> str:
    """Seconds since the epoch (or an RFC 3339 string) -> ``2026-12-04 17:30 UTC``."""
    if value is None or value == "":
        return "\u2014"
    if isinstance(value, str):
        try:
            moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    else:
        moment = datetime.datetime.fromtimestamp(float(value), datetime.UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def short_digest(value: str | None) -> str:
    """``sha256:0123456789ab...`` -> ``sha256:0123456789ab``."""
    if not value:
        return ""
    algorithm, _, hexpart = value.partition(":")
    return f"{algorithm}:{hexpart[:12]}" if hexpart else value


class Pages:
    """Renders templates for one mounted UI (``prefix``: its path, "" for ``/``)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.templates = Jinja2Templates(directory=TEMPLATES)
        env = self.templates.env
        env.filters.update(size=human_size, time=timestamp, short=short_digest)
        env.globals.update(url=self.url, path_quote=lambda s: quote(s, safe="/:@"))

    def url(self, path: str = "/", query: Mapping[str, Any] | None = None) -> str:
        """A path of the UI (``url("/repositories")``), with a query of the non-empty items."""
        target = self.prefix + (path if path.startswith("/") else "/" + path)
        if query:
            items = {k: v for k, v in query.items() if v not in (None, "")}
            if items:
                target += "?" + urlencode(items)
        return target or "/"

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any] | None = None,
        *,
        status: int = 200,
    ) -> Response:
        viewer = request.state.viewer
        values = {
            "viewer": viewer,
            "csrf": csrf_token(request),
            "logins": request.state.logins,
            "flash": request.session.pop("flash", None),
            **(context or {}),
        }
        return self.templates.TemplateResponse(
            request, template, values, status_code=status, headers={"Cache-Control": "no-store"}
        )
