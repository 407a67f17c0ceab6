"""A Starlette route for "everything under this path prefix", whatever bytes the path holds.

Starlette compiles a route's path into ``^...$`` with ``.*`` for a ``{rest:path}``
parameter: ``.`` stops at a newline, and ``$`` also matches just before a final one. So
``/v2/app/manifests/latest%0A`` reached the API as ``latest`` (and acted on that tag), and
a path with a newline inside matched no route at all (Starlette's plain-text 404). This
route compares the decoded path as a plain string prefix instead and hands the rest over
whole, control characters included, for the API's own grammar checks to refuse.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import ASGIApp, Receive, Scope, Send


def route_path(scope: Scope) -> str:
    """``path`` without a ``root_path`` it starts with (what routing works on)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        return path[len(root) :]
    return path


class PrefixRoute(BaseRoute):
    """Routes HTTP requests whose path starts with ``prefix`` to ``app``; the rest of the
    path goes in ``path_params[param]``."""

    def __init__(self, prefix: str, app: ASGIApp, *, param: str = "rest") -> None:
        self.prefix = prefix
        self.app = app
        self.param = param

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        path = route_path(scope)
        if not path.startswith(self.prefix):
            return Match.NONE, {}
        params = {**scope.get("path_params", {}), self.param: path[len(self.prefix) :]}
        return Match.FULL, {"path_params": params, "endpoint": self.app}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
