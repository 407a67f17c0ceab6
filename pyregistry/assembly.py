"""The app ``pyregistry serve`` runs: the API (from an app factory, with the web UI mounted
in it when enabled) wrapped, outermost first, in the access log, metrics (when Prometheus
is on), the request-rate limit, the response headers, the health gate, then the API;
health checks start with its lifespan.

Split from :mod:`pyregistry.server` so the embedded registry builds the same app without
the process and socket handling of a server.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pyregistry.access_log import AccessLogMiddleware
from pyregistry.api.headers import ResponseHeadersMiddleware
from pyregistry.api.ratelimit import rate_limited
from pyregistry.config import Config
from pyregistry.debug.health import HealthChecks, HealthGate
from pyregistry.debug.health import register_configured_checks as register_checks
from pyregistry.debug.metrics import MetricsMiddleware
from pyregistry.descriptor_cache import build_redis_health_check
from pyregistry.ui import mount_ui
from storage_drivers.base import StorageDriver
from storage_drivers.factory import create_driver

APP_FACTORY = "pyregistry.app:create_app"


class ChecksLifespan:
    """Pure ASGI: start the health checks once the app has started, stop them first on
    shutdown (so they run in the serving event loop, in every worker)."""

    def __init__(self, app: ASGIApp, checks: HealthChecks) -> None:
        self.app = app
        self.checks = checks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def on_receive() -> Message:
            message: Message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self.checks.stop()
            return message

        async def on_send(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                await self.checks.start()
            await send(message)

        await self.app(scope, on_receive, on_send)


def load_factory(spec: str) -> Callable[[Config], ASGIApp]:
    """``module:function`` -> the function (the API's ``create_app`` by default)."""
    module, _, name = spec.partition(":")
    factory: Callable[[Config], ASGIApp] = getattr(importlib.import_module(module), name)
    return factory


def driver_getter(app: Any, config: Config) -> Callable[[], StorageDriver]:
    """The API's own driver (``app.state.registry.driver``), else one made for the checks."""
    own: list[StorageDriver] = []

    def get() -> StorageDriver:
        registry = getattr(getattr(app, "state", None), "registry", None)
        driver = getattr(registry, "driver", None)
        if isinstance(driver, StorageDriver):
            return driver
        if not own:
            own.append(create_driver(config.storage.driver, config.storage.parameters))
        return own[0]

    return get


def register_redis_check(checks: HealthChecks, config: Config) -> None:
    """Redis shows on /debug/health but never gates the API: without the cache, requests
    are answered from storage."""
    check = build_redis_health_check(config)
    if check is not None:
        checks.register("redis", check, replace=True, gate=False)


def assemble(config: Config, checks: HealthChecks, app_factory: str = APP_FACTORY) -> ASGIApp:
    """The API app with the access log, metrics, health gate and checks around it."""
    app = load_factory(app_factory)(config)
    mount_ui(app, config)  # the web UI, when ``ui.enabled``
    register_checks(checks, config.health, config.storage.driver, driver_getter(app, config))
    register_redis_check(checks, config)
    # The configured headers go on the health gate's answers too (503, the ``/`` probe).
    wrapped: ASGIApp = ResponseHeadersMiddleware(HealthGate(app, checks), config.http.headers)
    wrapped = rate_limited(wrapped, config.http.ratelimit_rate, config.http.ratelimit_methods)
    if config.http.debug.prometheus_enabled:
        wrapped = MetricsMiddleware(wrapped, prefix=config.http.prefix)
    wrapped = AccessLogMiddleware(wrapped)
    return ChecksLifespan(wrapped, checks)
