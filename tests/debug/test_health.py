"""Health checks: threshold semantics, the checks distribution configures, the gate."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from pyregistry.debug.health import (
    CheckFailed,
    HealthChecks,
    HealthGate,
    file_check,
    http_check,
    register_configured_checks,
    storage_driver_check,
    tcp_check,
)
from storage_drivers.errors import StorageDriverError
from storage_drivers.inmemory import InMemoryDriver


class Flaky:
    """A check whose verdict the test sets."""

    def __init__(self) -> None:
        self.fail = False
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1
        if self.fail:
            raise CheckFailed("broken")


async def test_threshold_counts_consecutive_failures() -> None:
    checks = HealthChecks()
    flaky = Flaky()
    checks.register("thing", flaky, threshold=3)
    flaky.fail = True
    assert await checks.run_once() == {}
    assert await checks.run_once() == {}
    assert await checks.run_once() == {"thing": "broken"}
    flaky.fail = False
    assert await checks.run_once() == {}
    flaky.fail = True
    assert await checks.run_once() == {}  # the count started again


async def test_no_threshold_reports_the_first_failure() -> None:
    checks = HealthChecks()
    flaky = Flaky()
    flaky.fail = True
    checks.register("thing", flaky)
    assert await checks.run_once() == {"thing": "broken"}


async def test_duplicate_names_are_refused() -> None:
    checks = HealthChecks()
    checks.register("a", Flaky())
    with pytest.raises(ValueError, match="already registered"):
        checks.register("a", Flaky())


async def test_periodic_runs_start_at_once_and_repeat() -> None:
    checks = HealthChecks()
    early, late = Flaky(), Flaky()
    early.fail = True
    checks.register("early", early, interval=0.05)
    await checks.start()
    checks.register("late", late, interval=0.5)  # registered while running
    await asyncio.sleep(0.03)
    assert checks.status() == {"early": "broken"}  # checked before one interval passed
    deadline = time.monotonic() + 10  # polled: a loaded machine runs the checks late
    while early.calls < 3 or late.calls < 2:
        assert time.monotonic() < deadline, (early.calls, late.calls)
        await asyncio.sleep(0.01)
    await checks.stop()
    calls = early.calls
    await asyncio.sleep(0.1)
    assert early.calls == calls  # stopped


async def test_file_check_fails_while_the_file_exists(tmp_path: Path) -> None:
    marker = tmp_path / "down"
    check = file_check(str(marker))
    await check()
    marker.write_text("")
    with pytest.raises(CheckFailed, match="file exists"):
        await check()


async def test_tcp_check() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        await tcp_check(f"127.0.0.1:{port}", 1.0)()
    with pytest.raises(CheckFailed, match="connection failed"):
        await tcp_check(f"127.0.0.1:{port}", 1.0)()


async def test_http_check_expects_the_status() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        status = b"200 OK" if b"x-probe: yes" in request.lower() else b"418 Teapot"
        writer.write(b"HTTP/1.1 " + status + b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    uri = f"http://127.0.0.1:{port}/ping"
    async with server:
        await http_check(uri, 200, 2.0, {"X-Probe": ["yes"]})()
        await http_check(uri, 418, 2.0, {})()
        with pytest.raises(CheckFailed, match="unexpected status: 418"):
            await http_check(uri, 200, 2.0, {})()
    with pytest.raises(CheckFailed, match="error while checking"):
        await http_check(uri, 200, 2.0, {})()


class BrokenDriver(InMemoryDriver):
    async def list(self, path: str) -> list[str]:
        raise StorageDriverError("backend unreachable")


async def test_storage_driver_check() -> None:
    await storage_driver_check(lambda: InMemoryDriver())()  # empty root: still healthy
    with pytest.raises(StorageDriverError, match="unreachable"):
        await storage_driver_check(lambda: BrokenDriver())()


async def test_configured_checks_use_distributions_names(tmp_path: Path) -> None:
    checks = HealthChecks()
    marker = tmp_path / "down"
    marker.write_text("")
    health: dict[str, Any] = {
        "storagedriver": {"enabled": True, "interval": "1s", "threshold": 1},
        "file": [{"file": str(marker)}],
        "tcp": [{"addr": "127.0.0.1:1", "timeout": "1s"}],
        "http": [{"uri": "http://127.0.0.1:1/", "timeout": "1s"}],
    }
    register_configured_checks(checks, health, "broken", lambda: BrokenDriver())
    assert checks.names() == sorted(
        ["storagedriver_broken", str(marker), "127.0.0.1:1", "http://127.0.0.1:1/"]
    )
    status = await checks.run_once()
    assert status[str(marker)] == "file exists"
    assert status["storagedriver_broken"] == "backend unreachable"
    assert "connection failed" in status["127.0.0.1:1"]
    assert set(status) == set(checks.names())


async def test_disabled_storage_check_is_not_registered() -> None:
    checks = HealthChecks()
    register_configured_checks(checks, {"storagedriver": {"enabled": False}}, "x", InMemoryDriver)
    assert checks.names() == []


async def test_gate_answers_503_while_unhealthy() -> None:
    async def hello(request: Any) -> PlainTextResponse:
        return PlainTextResponse("hello")

    checks = HealthChecks()
    flaky = Flaky()
    checks.register("thing", flaky)
    app = HealthGate(Starlette(routes=[Route("/v2/", hello)]), checks)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await checks.run_once()
        assert (await client.get("/v2/")).text == "hello"
        alive = await client.get("/")
        assert alive.status_code == 200 and alive.headers["cache-control"] == "no-cache"
        flaky.fail = True
        await checks.run_once()
        for path in ("/v2/", "/"):
            response = await client.get(path)
            assert response.status_code == 503
            assert response.json()["errors"][0]["code"] == "UNAVAILABLE"
