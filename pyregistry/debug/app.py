"""The debug server's app (``http.debug.addr``): ``/debug/health``, ``/debug/vars`` and,
when ``http.debug.prometheus.enabled``, the Prometheus metrics path."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pyregistry.config.model import DebugConfig
from pyregistry.debug import expvar, metrics
from pyregistry.debug.health import HealthChecks


def create_debug_app(checks: HealthChecks, debug: DebugConfig) -> Starlette:
    """Build the debug app reporting ``checks``."""

    async def health(request: Request) -> Response:
        if request.method != "GET":
            return Response(status_code=404)
        failing = checks.status()
        return JSONResponse(failing, status_code=503 if failing else 200)

    async def debug_vars(request: Request) -> Response:
        return JSONResponse(await expvar.snapshot_async())

    async def prometheus(request: Request) -> Response:
        body, content_type = await asyncio.to_thread(metrics.render)
        return Response(body, media_type=content_type)

    routes = [
        Route("/debug/health", health, methods=["GET", "HEAD", "POST", "PUT", "DELETE"]),
        Route("/debug/vars", debug_vars, methods=["GET"]),
    ]
    if debug.prometheus_enabled:
        path = "/" + debug.prometheus_path.lstrip("/")
        routes.append(Route(path, prometheus, methods=["GET"]))
    return Starlette(routes=routes)
