"""The benchmark workload: the same HTTP requests against any registry, timed.

Every loop is bounded by a count and a deadline; every URL is on 127.0.0.1. Pushes and
pulls go through pyregistry's own registry client (httpx async HTTP/1.1 with keep-alive,
one connection each: tasks sharing an httpx pool contend on it), except the
requests-per-second rows (see :mod:`bench.rates`). A wrong status aborts the run (a
registry that answers errors fast must not look fast).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from pyregistry.client import AsyncRegistryClient, RegistryClientError, RepeatedBlob
from pyregistry.client.content import Image, build_image
from pyregistry.client.media import MANIFEST_TYPES
from pyregistry.client.sources import MIB

REQUEST_TIMEOUT = 600.0
MANIFEST_ACCEPT = ", ".join(MANIFEST_TYPES)


class BenchFailure(RuntimeError):
    """A registry answered something the workload did not expect."""


#: What a failed run raises: the registry refused, the connection broke, time ran out.
RUN_ERRORS = (BenchFailure, RegistryClientError, httpx.HTTPError, OSError, TimeoutError)


@dataclass(frozen=True)
class Figure:
    """One measured row: ``value`` in ``unit`` (higher is better), from ``amount`` / ``seconds``;
    ``server_cpu``: CPU seconds the server's processes spent on it (0 when not measured)."""

    value: float
    unit: str
    seconds: float
    amount: float
    server_cpu: float = 0.0

    @property
    def cpu_per_unit_ms(self) -> float:
        """Server CPU milliseconds per MiB, request or image (lower is better)."""
        return 1000 * self.server_cpu / self.amount if self.amount else 0.0


def check_loopback(base_url: str) -> None:
    """The bench talks to servers on this machine's loopback, never anywhere else."""
    host = urlsplit(base_url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise BenchFailure(f"refusing a non-loopback target: {base_url}")


def new_client(base: str, connections: int) -> AsyncRegistryClient:
    check_loopback(base)
    return AsyncRegistryClient(base, max_connections=connections, timeout=REQUEST_TIMEOUT)


def small_image(seed: int, layers: int = 2, layer_size: int = 4096) -> Image:
    """A unique image per seed: no two share a blob, so every push uploads everything."""
    return build_image(seed=f"bench-{seed}", layers=layers, layer_size=layer_size)


async def push_monolithic(client: AsyncRegistryClient, repo: str, blob: RepeatedBlob) -> None:
    """POST, then one streamed PUT ?digest= carrying the whole blob."""
    await client.push_blob(repo, blob.source(), check_exists=False)


async def push_chunked(
    client: AsyncRegistryClient, repo: str, blob: RepeatedBlob, chunk_size: int
) -> None:
    """POST, PATCHes of ``chunk_size`` with Content-Range, then an empty PUT ?digest=."""
    await client.push_blob(repo, blob.source(), chunk_size=chunk_size, check_exists=False)


async def pull(client: AsyncRegistryClient, repo: str, blob: RepeatedBlob, *, verify: bool) -> None:
    """GET the blob streamed and thrown away; its length (and digest if ``verify``) checked."""
    received = 0
    async for chunk in client.stream_blob(repo, blob.digest, verify=verify):
        received += len(chunk)
    if received != blob.size:
        raise BenchFailure(f"pulled {received} bytes, expected {blob.size}")


async def push_image(client: AsyncRegistryClient, repo: str, tag: str, image: Image) -> None:
    """What docker does: per blob HEAD, then POST + PUT when the registry lacks it; then
    the manifest by tag."""
    await client.push(repo, image, tag)


async def push_images(base: str, count: int, workers: int, seed: int) -> None:
    """``count`` unique small images by ``workers`` concurrent pushers (one repo each)."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)
    images = {index: small_image(seed + index) for index in range(count)}

    async def pusher(worker: int) -> None:
        # One client per pusher: tasks sharing one httpx pool queue on its lock.
        async with new_client(base, 1) as client:
            while True:
                try:
                    index = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                repo = f"bench/small-{worker}"
                await push_image(client, repo, f"v{index}", images[index])

    await asyncio.gather(*(pusher(worker) for worker in range(workers)))


async def timed(operation: Awaitable[None]) -> float:
    """Seconds an awaitable takes."""
    started = time.perf_counter()
    await operation
    return time.perf_counter() - started


def throughput(size: int, seconds: float, server_cpu: float = 0.0) -> Figure:
    mib = size / MIB
    return Figure(mib / seconds, "MiB/s", seconds, mib, server_cpu)
