"""Health checks, as distribution's ``health`` section defines them.

Each check is an async function that raises when unhealthy; it runs every ``interval``
and its error is reported once it failed ``threshold`` times in a row (0: at once).
Unlike distribution, the first run happens at start rather than one interval later, so a
registry is never reported healthy before it was checked.

Other features add their own (Redis, a proxy upstream...) with :func:`register` on the
process-wide :data:`default_checks`, before or after the server starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from pyregistry.api.errors import ServiceUnavailable, error_response
from pyregistry.config.model import HealthConfig, typed_section
from storage_drivers.base import StorageDriver
from storage_drivers.errors import PathNotFound

CheckFn = Callable[[], Awaitable[None]]
DEFAULT_INTERVAL = 10.0
log = logging.getLogger("pyregistry.health")


class CheckFailed(Exception):
    """What a check raises when the thing it watches is not healthy."""


@dataclass
class _Check:
    name: str
    fn: CheckFn
    interval: float
    threshold: int
    #: False for checks that report on /debug/health but must not fail API requests
    #: (a cache outage degrades speed, not correctness).
    gate: bool = True
    error: str | None = None
    failures: int = 0

    def update(self, error: str | None) -> None:
        self.failures = 0 if error is None else self.failures + 1
        self.error = error

    def current(self) -> str | None:
        return self.error if self.failures >= max(self.threshold, 1) else None


class HealthChecks:
    """A set of named periodic checks and their current state."""

    def __init__(self) -> None:
        self._checks: dict[str, _Check] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._running = False

    def register(
        self,
        name: str,
        fn: CheckFn,
        *,
        interval: float = DEFAULT_INTERVAL,
        threshold: int = 0,
        replace: bool = False,
        gate: bool = True,
    ) -> None:
        """Add a check; it starts at once if the checks are already running. A name can be
        registered once, unless ``replace`` (a reloaded configuration) says otherwise."""
        if name in self._checks:
            if not replace:
                raise ValueError(f"health check {name!r} already registered")
            old = self._tasks.pop(name, None)
            if old is not None:
                old.cancel()
        check = _Check(
            name, fn, interval if interval > 0 else DEFAULT_INTERVAL, threshold, gate=gate
        )
        self._checks[name] = check
        if self._running:
            self._tasks[name] = asyncio.get_running_loop().create_task(self._loop(check))

    def names(self) -> list[str]:
        return sorted(self._checks)

    def status(self, *, gating_only: bool = False) -> dict[str, str]:
        """Failing checks by name (empty when healthy); ``gating_only`` leaves out the
        report-only ones."""
        return {
            name: error
            for name, check in sorted(self._checks.items())
            if (error := check.current()) is not None and (check.gate or not gating_only)
        }

    def gate_closed(self) -> bool:
        """Whether a gating check fails now (:meth:`status` without building it: the
        health gate asks on every request)."""
        return any(check.gate and check.current() is not None for check in self._checks.values())

    async def run_once(self) -> dict[str, str]:
        """Run every check now (tests, start-up) and return :meth:`status`."""
        await asyncio.gather(*(self._run(check) for check in self._checks.values()))
        return self.status()

    async def start(self) -> None:
        """Run each check now, then every interval, until :meth:`stop`."""
        if self._running:
            return
        self._running = True
        loop = asyncio.get_running_loop()
        for name, check in self._checks.items():
            self._tasks[name] = loop.create_task(self._loop(check))

    async def stop(self) -> None:
        self._running = False
        tasks, self._tasks = list(self._tasks.values()), {}
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self, check: _Check) -> None:
        while True:
            await self._run(check)
            await asyncio.sleep(check.interval)

    async def _run(self, check: _Check) -> None:
        try:
            await check.fn()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure is the check's verdict
            message = str(exc) or type(exc).__name__
            if check.error != message:
                log.warning("health check failed", extra={"check": check.name, "error": message})
            check.update(message)
        else:
            check.update(None)


#: The process's checks; :func:`register` adds to it, ``/debug/health`` reports it.
default_checks = HealthChecks()


def register(
    name: str,
    fn: CheckFn,
    *,
    interval: float = DEFAULT_INTERVAL,
    threshold: int = 0,
    gate: bool = True,
) -> None:
    """Add a check to :data:`default_checks` (for features such as Redis or proxy)."""
    default_checks.register(name, fn, interval=interval, threshold=threshold, gate=gate)


# -- the checks distribution's config knows -------------------------------------------


def storage_driver_check(get_driver: Callable[[], StorageDriver]) -> CheckFn:
    """Lists the storage root; a missing root is fine (the backend answered)."""

    async def check() -> None:
        with contextlib.suppress(PathNotFound):
            await get_driver().list("/")

    return check


def file_check(path: str) -> CheckFn:
    """Unhealthy while ``path`` exists: create the file to take a registry out of rotation."""

    def exists() -> bool:
        return os.path.exists(os.path.abspath(path))

    async def check() -> None:
        if await asyncio.to_thread(exists):
            raise CheckFailed("file exists")

    return check


def http_check(uri: str, status: int, timeout: float, headers: dict[str, list[str]]) -> CheckFn:
    """A HEAD request to ``uri`` must answer ``status``."""

    async def check() -> None:
        import httpx  # here: the supervisor and most workers never run such a check

        pairs = [(name, str(v)) for name, values in headers.items() for v in values]
        try:
            async with httpx.AsyncClient(timeout=timeout or None) as client:
                response = await client.head(uri, headers=pairs)
        except httpx.HTTPError as exc:
            raise CheckFailed(f"{uri}: error while checking: {exc}") from None
        if response.status_code != status:
            raise CheckFailed(
                f"{uri}: downstream service returned unexpected status: {response.status_code}"
            )

    return check


def tcp_check(addr: str, timeout: float) -> CheckFn:
    """A TCP connection to ``host:port`` must open."""

    async def check() -> None:
        host, _, port = addr.rpartition(":")
        try:
            opening = asyncio.open_connection(host.strip("[]"), int(port))
            _, writer = await asyncio.wait_for(opening, timeout or None)
        except (TimeoutError, OSError, ValueError) as exc:
            raise CheckFailed(f"{addr}: connection failed: {exc or 'timeout'}") from None
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    return check


def register_configured_checks(
    checks: HealthChecks,
    health: HealthConfig | Mapping[str, Any],
    storage_driver_name: str,
    get_driver: Callable[[], StorageDriver],
) -> None:
    """Register the checks of a config's ``health`` section (names as distribution's),
    replacing those of an earlier configuration."""
    section: HealthConfig = (
        health if isinstance(health, HealthConfig) else typed_section("health", health)
    )

    def add(name: str, check: CheckFn, interval: float, threshold: int) -> None:
        checks.register(name, check, interval=interval, threshold=threshold, replace=True)

    storage = section.storagedriver
    if storage.enabled:
        check = storage_driver_check(get_driver)
        add(f"storagedriver_{storage_driver_name}", check, storage.interval, storage.threshold)
    for file in section.file:
        add(file.file, file_check(file.file), file.interval, file.threshold)
    for http in section.http:
        check = http_check(http.uri, http.statuscode or 200, http.timeout, http.headers)
        add(http.uri, check, http.interval, http.threshold)
    for tcp in section.tcp:
        add(tcp.addr, tcp_check(tcp.addr, tcp.timeout), tcp.interval, tcp.threshold)


class HealthGate:
    """Pure ASGI, around the registry API: while a check fails every request gets 503
    ``UNAVAILABLE`` (distribution's ``health.Handler``), and ``/`` answers 200 when healthy
    (distribution's liveness path) so load balancers can probe it."""

    def __init__(self, app: ASGIApp, checks: HealthChecks) -> None:
        self.app = app
        self.checks = checks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.checks.gate_closed():
            unavailable = ServiceUnavailable(detail="health check failed: please see /debug/health")
            head = scope.get("method") == "HEAD"
            await error_response(unavailable, head=head)(scope, receive, send)
            return
        if scope["path"] == "/":
            await Response(headers={"Cache-Control": "no-cache"})(scope, receive, send)
            return
        await self.app(scope, receive, send)
