"""The benchmark workload: the same HTTP requests against any registry, timed.

Every loop is bounded by a count and a deadline; every URL is on 127.0.0.1. Clients are
httpx async HTTP/1.1 with keep-alive (one connection each: tasks sharing an httpx pool
contend on it), except the requests-per-second rows (see :mod:`bench.rates`). A wrong
status aborts the run (a registry that answers errors fast must not look fast).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from bench.content import MIB, OCI_MANIFEST, BigBlob, SmallImage, small_image

REQUEST_TIMEOUT = 600.0


class BenchFailure(RuntimeError):
    """A registry answered something the workload did not expect."""


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


def new_client(connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        timeout=httpx.Timeout(REQUEST_TIMEOUT, connect=10.0),
        trust_env=False,
    )


def expect(response: httpx.Response, *statuses: int) -> httpx.Response:
    if response.status_code not in statuses:
        body = response.content[:500] if response.is_stream_consumed else b"(streamed)"
        raise BenchFailure(
            f"{response.request.method} {response.request.url} -> {response.status_code}, "
            f"expected {statuses}: {body!r}"
        )
    return response


def _location(response: httpx.Response) -> httpx.URL:
    location = response.headers.get("location")
    if not location:
        raise BenchFailure(f"{response.request.method} {response.request.url}: no Location")
    url = response.request.url.join(location)
    check_loopback(str(url))
    return url


async def start_upload(client: httpx.AsyncClient, base: str, repo: str) -> httpx.URL:
    """POST an upload session; its URL."""
    response = await client.post(f"{base}/v2/{repo}/blobs/uploads/")
    return _location(expect(response, 202))


def _with_digest(location: httpx.URL, digest: str) -> httpx.URL:
    return location.copy_merge_params({"digest": digest})


async def push_monolithic(client: httpx.AsyncClient, base: str, repo: str, blob: BigBlob) -> None:
    """POST, then one streamed PUT ?digest= carrying the whole blob."""
    location = await start_upload(client, base, repo)
    response = await client.put(
        _with_digest(location, blob.digest),
        content=blob.stream(),
        headers={"Content-Length": str(blob.size), "Content-Type": "application/octet-stream"},
    )
    expect(response, 201)


async def push_chunked(
    client: httpx.AsyncClient, base: str, repo: str, blob: BigBlob, chunk_size: int
) -> None:
    """POST, PATCHes of ``chunk_size`` with Content-Range, then an empty PUT ?digest=."""
    location = await start_upload(client, base, repo)
    for start in range(0, blob.size, chunk_size):
        length = min(chunk_size, blob.size - start)
        response = await client.patch(
            location,
            content=blob.stream(start, length),
            headers={
                "Content-Range": f"{start}-{start + length - 1}",
                "Content-Length": str(length),
                "Content-Type": "application/octet-stream",
            },
        )
        location = _location(expect(response, 202))
    response = await client.put(_with_digest(location, blob.digest), content=b"")
    expect(response, 201)


async def pull(
    client: httpx.AsyncClient, base: str, repo: str, blob: BigBlob, *, verify: bool
) -> None:
    """GET the blob streamed and thrown away; its length (and digest if ``verify``) checked."""
    hasher = hashlib.sha256() if verify else None
    received = 0
    async with client.stream("GET", f"{base}/v2/{repo}/blobs/{blob.digest}") as response:
        expect(response, 200)
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if hasher is not None:
                hasher.update(chunk)
    if received != blob.size:
        raise BenchFailure(f"pulled {received} bytes, expected {blob.size}")
    if hasher is not None and "sha256:" + hasher.hexdigest() != blob.digest:
        raise BenchFailure("pulled blob does not match its digest")


async def _push_small_blob(
    client: httpx.AsyncClient, base: str, repo: str, digest: str, content: bytes
) -> None:
    """What docker does per layer: HEAD, then POST + PUT when the registry lacks it."""
    head = await client.head(f"{base}/v2/{repo}/blobs/{digest}")
    if expect(head, 200, 404).status_code == 200:
        return
    location = await start_upload(client, base, repo)
    response = await client.put(
        _with_digest(location, digest),
        content=content,
        headers={"Content-Type": "application/octet-stream"},
    )
    expect(response, 201)


async def push_image(
    client: httpx.AsyncClient, base: str, repo: str, tag: str, image: SmallImage
) -> None:
    """Every blob, then the manifest by tag."""
    for digest, content in image.blobs:
        await _push_small_blob(client, base, repo, digest, content)
    response = await client.put(
        f"{base}/v2/{repo}/manifests/{tag}",
        content=image.manifest,
        headers={"Content-Type": OCI_MANIFEST},
    )
    expect(response, 201)


async def push_images(base: str, count: int, workers: int, seed: int) -> None:
    """``count`` unique small images by ``workers`` concurrent pushers (one repo each)."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)
    images = {index: small_image(seed + index) for index in range(count)}

    async def pusher(worker: int) -> None:
        # One client per pusher: tasks sharing one httpx pool queue on its lock.
        async with new_client(1) as client:
            while True:
                try:
                    index = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                repo = f"bench/small-{worker}"
                await push_image(client, base, repo, f"v{index}", images[index])

    await asyncio.gather(*(pusher(worker) for worker in range(workers)))


async def timed(operation: Awaitable[None]) -> float:
    """Seconds an awaitable takes."""
    started = time.perf_counter()
    await operation
    return time.perf_counter() - started


def throughput(size: int, seconds: float, server_cpu: float = 0.0) -> Figure:
    mib = size / MIB
    return Figure(mib / seconds, "MiB/s", seconds, mib, server_cpu)
