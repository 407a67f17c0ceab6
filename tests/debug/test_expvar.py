"""``/debug/vars`` and the debug app's routes."""

from __future__ import annotations

import httpx

from pyregistry.config import DebugConfig
from pyregistry.debug import expvar
from pyregistry.debug.app import create_debug_app
from pyregistry.debug.health import CheckFailed, HealthChecks


def test_published_values_nest_by_dotted_name() -> None:
    counter = {"n": 0}

    def broken() -> object:
        raise RuntimeError("no connection")

    expvar.publish("registry.notifications", lambda: {"sent": counter["n"]})
    expvar.publish("registry.redis", broken)
    try:
        counter["n"] = 7
        snap = expvar.snapshot()
        assert snap["registry"]["notifications"] == {"sent": 7}
        assert snap["registry"]["redis"] == {"error": "no connection"}
        assert isinstance(snap["cmdline"], list) and snap["process"]["pid"] > 0
    finally:
        expvar.unpublish("registry.notifications")
        expvar.unpublish("registry.redis")
    assert "registry" not in expvar.snapshot()


async def test_debug_app_routes() -> None:
    checks = HealthChecks()

    async def failing() -> None:
        raise CheckFailed("down")

    checks.register("thing", failing)
    app = create_debug_app(checks, DebugConfig(prometheus_enabled=False))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://debug") as client:
        assert (await client.get("/debug/health")).json() == {}
        await checks.run_once()
        unhealthy = await client.get("/debug/health")
        assert (unhealthy.status_code, unhealthy.json()) == (503, {"thing": "down"})
        assert (await client.post("/debug/health")).status_code == 404  # GET only, as distribution
        assert (await client.get("/debug/vars")).json()["process"]["pid"] > 0
        assert (await client.get("/metrics")).status_code == 404  # prometheus disabled
