"""Requests-per-second rows: one request repeated on many keep-alive connections.

The load comes from :mod:`bench.rawhttp` by default, or from wrk when its path is given
(``--wrk`` / ``$PYREGISTRY_BENCH_WRK``; a build whose HEAD requests do not wait for a
body): on a 2-core machine a load generator in C leaves the server more of the CPU, so
the figure says more about the server. Either way the request is first made once and
its answer checked in full, and a non-2xx answer during the run fails the row.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.rawhttp import KeepAliveGet
from bench.workload import BenchFailure

WRK_ENV = "PYREGISTRY_BENCH_WRK"
MAX_REQUESTS = 5_000_000

#: Checks one answer: (status, lower-cased headers, body) -> what is wrong, or None.
Check = Callable[[int, dict[str, str], bytes], "str | None"]


def status_200(status: int, headers: dict[str, str], body: bytes) -> str | None:
    return None if status == 200 else f"status {status}: {body[:300]!r}"


@dataclass(frozen=True)
class RateRequest:
    """What each connection sends over and over, and how its answers are checked."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    #: the full check, made on the first answer
    first: Check = status_200
    #: the cheap check, made on every answer of the Python client
    each: Check = status_200


async def request_rate(
    base: str, request: RateRequest, connections: int, duration: float, wrk: str | None = None
) -> tuple[int, float]:
    """(requests answered, seconds) over ``duration`` on ``connections`` connections."""
    probe = KeepAliveGet(base, request.headers)
    try:
        answer = await probe.get(request.path, request.method)
    finally:
        await probe.close()
    problem = request.first(*answer)
    if problem:
        raise BenchFailure(f"{request.method} {base}{request.path}: {problem}")
    if wrk:
        return await asyncio.to_thread(run_wrk, wrk, base, request, connections, duration)
    return await _python_rate(base, request, connections, duration)


async def _python_rate(
    base: str, request: RateRequest, connections: int, duration: float
) -> tuple[int, float]:
    clients = [KeepAliveGet(base, request.headers) for _ in range(connections)]
    count = 0

    async def one(client: KeepAliveGet) -> None:
        problem = request.each(*await client.get(request.path, request.method))
        if problem:
            raise BenchFailure(f"{request.method} {base}{request.path}: {problem}")

    try:
        await asyncio.gather(*(one(client) for client in clients))  # connect, warm up
        started = time.perf_counter()
        deadline = started + duration

        async def loop(client: KeepAliveGet) -> None:
            nonlocal count
            while time.perf_counter() < deadline and count < MAX_REQUESTS:
                await one(client)
                count += 1

        await asyncio.gather(*(loop(client) for client in clients))
        return count, time.perf_counter() - started
    finally:
        for client in clients:
            await client.close()


def _lua(request: RateRequest) -> str:
    lines = [f'wrk.method = "{request.method}"']
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in request.headers.items()]
    return "\n".join(lines) + "\n"


_UNIT_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_wrk(output: str) -> tuple[int, float, int]:
    """(requests, seconds, non-2xx/3xx answers) from wrk's summary."""
    match = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)\b", output)
    if match is None:
        raise BenchFailure(f"cannot read wrk's output:\n{output[-2000:]}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    seconds = float(match.group(2)) * _UNIT_SECONDS[match.group(3)]
    return int(match.group(1)), seconds, int(errors.group(1)) if errors else 0


def run_wrk(
    wrk: str, base: str, request: RateRequest, connections: int, duration: float
) -> tuple[int, float]:
    threads = max(1, min(connections, os.cpu_count() or 1))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-wrk-") as script:
        script.write(_lua(request))
        script.flush()
        argv = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{duration:g}s"]
        argv += ["-s", script.name, f"{base}{request.path}"]
        try:
            result = subprocess.run(
                argv, capture_output=True, text=True, timeout=duration + 120, check=False
            )
        except OSError as exc:
            raise BenchFailure(f"cannot run wrk ({wrk}): {exc}") from exc
    if result.returncode != 0:
        raise BenchFailure(f"wrk exited with {result.returncode}: {result.stderr[-2000:]}")
    count, seconds, failed = parse_wrk(result.stdout)
    if failed:
        raise BenchFailure(f"{request.method} {base}{request.path}: {failed} answers not 2xx/3xx")
    return count, seconds
