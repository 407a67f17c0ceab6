"""The table's rows, run in order against one registry: what each measures and how big.

Each big-blob row uses its own blob (a different seed), so no row finds its blob
already stored by an earlier one. ``catalog`` runs before ``images`` so that the
registry holds exactly ``catalog_repos`` repositories while it is measured.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from bench.fixtures import fill_catalog, tag_count, tag_many
from bench.rates import RateRequest, request_rate
from bench.rss import tree_cpu_seconds
from bench.workload import (
    MANIFEST_ACCEPT,
    Figure,
    check_loopback,
    new_client,
    pull,
    push_chunked,
    push_image,
    push_images,
    push_monolithic,
    small_image,
    throughput,
)
from pyregistry.client import RepeatedBlob
from pyregistry.client.sources import MIB

ROW_TIMEOUT = 900.0
MANIFEST_REPO = "bench/manifest"
BIG_REPO = "bench/big"
TAGS_REPO = "bench/tags"
T = TypeVar("T")


@dataclass(frozen=True)
class Params:
    """How big the workload is; :data:`FULL` is the issue's, :data:`QUICK` proves it runs."""

    size: int = 1024 * MIB
    chunk_size: int = 16 * MIB
    connections: int = 64
    duration: float = 10.0
    images: int = 200
    image_workers: int = 16
    parallel_pulls: int = 8
    parallel_size: int = 256 * MIB
    catalog_repos: int = 526
    catalog_page: int = 100
    tags: int = 1000
    verify: bool = False  # hash pulled blobs too (costs the client CPU)
    rows: tuple[str, ...] = (
        "monolithic",
        "chunked",
        "pull",
        "parallel",
        "base",
        "manifest",
        "head",
        "tags",
        "catalog",
        "images",
    )


FULL = Params()
QUICK = Params(
    size=8 * MIB,
    chunk_size=2 * MIB,
    connections=8,
    duration=1.0,
    images=10,
    image_workers=4,
    parallel_size=4 * MIB,
    catalog_repos=24,
    catalog_page=10,
    tags=30,
    verify=True,
)

ROW_KEYS = Params().rows


def size_label(size: int) -> str:
    if size % (1024 * MIB) == 0:
        return f"{size // (1024 * MIB)} GiB"
    return f"{size / MIB:g} MiB"


def row_labels(params: Params) -> dict[str, str]:
    size, conns = size_label(params.size), params.connections
    labels = {
        "monolithic": f"monolithic push {size}",
        "chunked": f"chunked push {size} ({size_label(params.chunk_size)} PATCHes)",
        "pull": f"pull {size}",
        "parallel": f"{params.parallel_pulls} parallel pulls of {size_label(params.parallel_size)}",
        "base": f"GET /v2/ (the API check), {conns} connections",
        "manifest": f"manifest GET, {conns} connections",
        "head": f"blob HEAD, {conns} connections",
        "tags": f"tags/list of {params.tags} tags, {conns} connections",
        "catalog": f"_catalog?n={params.catalog_page} over {params.catalog_repos} repositories, "
        f"{conns} connections",
        "images": f"{params.images} small images, {params.image_workers} pushers",
    }
    return {key: label for key, label in labels.items() if key in params.rows}


async def _measured(
    server_pid: int | None, operation: Awaitable[T], limit: float = ROW_TIMEOUT
) -> tuple[T, float, float]:
    """(result, wall seconds, server CPU seconds) of ``operation``."""
    cpu_before = tree_cpu_seconds(server_pid) if server_pid else 0.0
    started = time.perf_counter()
    result = await asyncio.wait_for(operation, limit)
    wall = time.perf_counter() - started
    cpu = tree_cpu_seconds(server_pid) - cpu_before if server_pid else 0.0
    return result, wall, cpu


def rate_requests(params: Params, seed: int) -> dict[str, RateRequest]:
    """The request each requests-per-second row repeats, and how its answer is checked."""
    image = small_image(seed - 1_000_000)
    layer = image.layers[0]
    layer_path = f"/v2/{MANIFEST_REPO}/blobs/{layer.digest}"

    def manifest_ok(status: int, headers: dict[str, str], body: bytes) -> str | None:
        return None if status == 200 and body and "content-type" in headers else f"{status}"

    def head_ok(status: int, headers: dict[str, str], body: bytes) -> str | None:
        length = headers.get("content-length")
        return None if status == 200 and length == str(len(layer.gzipped)) else f"{status}"

    def tags_ok(status: int, headers: dict[str, str], body: bytes) -> str | None:
        return None if status == 200 and tag_count(body) == params.tags else f"{status} {body!r}"

    def page_ok(status: int, headers: dict[str, str], body: bytes) -> str | None:
        good = status == 200 and body.count(b'"bench/') == params.catalog_page
        return None if good and "link" in headers else f"{status} {headers} {body[:300]!r}"

    def ok(status: int, headers: dict[str, str], body: bytes) -> str | None:
        return None if status == 200 and body else f"{status}"

    def base_ok(status: int, headers: dict[str, str], body: bytes) -> str | None:
        return None if status == 200 and body == b"{}" else f"{status} {body[:300]!r}"

    return {
        "base": RateRequest("GET", "/v2/", {}, base_ok, base_ok),
        "manifest": RateRequest(
            "GET", f"/v2/{MANIFEST_REPO}/manifests/latest", {"Accept": MANIFEST_ACCEPT},
            manifest_ok, manifest_ok,
        ),
        "head": RateRequest("HEAD", layer_path, {}, head_ok, head_ok),
        "tags": RateRequest("GET", f"/v2/{TAGS_REPO}/tags/list", {}, tags_ok, ok),
        "catalog": RateRequest("GET", f"/v2/_catalog?n={params.catalog_page}", {}, page_ok, ok),
    }  # fmt: skip


async def run_rows(
    base: str,
    params: Params,
    *,
    server_pid: int | None = None,
    seed: int = 1,
    wrk: str | None = None,
) -> dict[str, Figure]:
    """The rows ``params`` names against the registry at ``base``, in table order.

    ``server_pid`` (the server's process tree) lets each figure carry the server's CPU
    time; ``wrk`` (its path) generates the requests-per-second rows' load.
    """
    check_loopback(base)
    rows = set(params.rows)
    figures: dict[str, Figure] = {}
    mono = RepeatedBlob(params.size, seed)
    chunked = RepeatedBlob(params.size, seed + 1)
    shared = RepeatedBlob(params.parallel_size, seed + 2)
    if rows & {"monolithic", "chunked", "pull"}:
        mono.digest, chunked.digest  # noqa: B018 - hash before the clock starts

    async with new_client(base, 1) as client:
        if rows & {"monolithic", "pull"}:  # pull reads the monolithic row's blob
            _, wall, cpu = await _measured(server_pid, push_monolithic(client, BIG_REPO, mono))
            figures["monolithic"] = throughput(params.size, wall, cpu)
        if "chunked" in rows:
            push = push_chunked(client, BIG_REPO, chunked, params.chunk_size)
            _, wall, cpu = await _measured(server_pid, push)
            figures["chunked"] = throughput(params.size, wall, cpu)
        if "pull" in rows:
            get = pull(client, BIG_REPO, mono, verify=params.verify)
            _, wall, cpu = await _measured(server_pid, get)
            figures["pull"] = throughput(params.size, wall, cpu)
        if "parallel" in rows:
            await push_monolithic(client, BIG_REPO, shared)
        if rows & {"manifest", "head"}:
            await push_image(client, MANIFEST_REPO, "latest", small_image(seed - 1_000_000))

    if "parallel" in rows:
        _, wall, cpu = await _measured(server_pid, _parallel_pulls(base, shared, params))
        figures["parallel"] = throughput(params.parallel_pulls * params.parallel_size, wall, cpu)
    if "tags" in rows:
        await tag_many(base, TAGS_REPO, small_image(seed - 2_000_000), params.tags)
    if "catalog" in rows:
        await fill_catalog(base, params.catalog_repos, small_image(seed - 3_000_000))
    for row, request in rate_requests(params, seed).items():
        if row in rows:
            rate = request_rate(base, request, params.connections, params.duration, wrk)
            (count, seconds), _, cpu = await _measured(
                server_pid, rate, params.duration + ROW_TIMEOUT
            )
            figures[row] = Figure(count / seconds, "req/s", seconds, count, cpu)
    if "images" in rows:
        push = push_images(base, params.images, params.image_workers, seed * 100_000)
        _, wall, cpu = await _measured(server_pid, push)
        figures["images"] = Figure(params.images / wall, "images/s", wall, params.images, cpu)
    return {row: figure for row, figure in figures.items() if row in rows}


async def _parallel_pulls(base: str, blob: RepeatedBlob, params: Params) -> None:
    """``parallel_pulls`` clients GET the same blob at once, each on its own connection."""

    async def one() -> None:
        async with new_client(base, 1) as client:
            await pull(client, BIG_REPO, blob, verify=params.verify)

    await asyncio.gather(*(one() for _ in range(params.parallel_pulls)))
