"""The debug server: health checks, published variables and Prometheus metrics."""

from pyregistry.debug.expvar import publish
from pyregistry.debug.health import HealthChecks, HealthGate, default_checks, register
from pyregistry.debug.metrics import MetricsMiddleware, route_name

__all__ = [
    "HealthChecks",
    "HealthGate",
    "MetricsMiddleware",
    "default_checks",
    "publish",
    "register",
    "route_name",
]
