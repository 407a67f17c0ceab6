"""The table's rows, run in order against one registry: what each measures and how big.

Each big-blob row uses its own blob (a different seed), so no row finds its blob
already stored by an earlier one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from bench.rss import tree_cpu_seconds
from bench.workload import (
    Figure,
    check_loopback,
    manifest_gets,
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
    verify: bool = False  # hash pulled blobs too (costs the client CPU)
    rows: tuple[str, ...] = ("monolithic", "chunked", "pull", "manifest", "images")


FULL = Params()
QUICK = Params(
    size=8 * MIB,
    chunk_size=2 * MIB,
    connections=8,
    duration=1.0,
    images=10,
    image_workers=4,
    verify=True,
)

ROW_KEYS = Params().rows


def size_label(size: int) -> str:
    if size % (1024 * MIB) == 0:
        return f"{size // (1024 * MIB)} GiB"
    return f"{size / MIB:g} MiB"


def row_labels(params: Params) -> dict[str, str]:
    size = size_label(params.size)
    labels = {
        "monolithic": f"monolithic push {size}",
        "chunked": f"chunked push {size} ({size_label(params.chunk_size)} PATCHes)",
        "pull": f"pull {size}",
        "manifest": f"manifest GET, {params.connections} connections",
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


async def run_rows(
    base: str, params: Params, *, server_pid: int | None = None, seed: int = 1
) -> dict[str, Figure]:
    """The rows ``params`` names against the registry at ``base``, in table order.

    ``server_pid`` (the server's process tree) lets each figure carry the server's CPU time.
    """
    check_loopback(base)
    rows = set(params.rows)
    figures: dict[str, Figure] = {}
    mono = RepeatedBlob(params.size, seed)
    chunked = RepeatedBlob(params.size, seed + 1)
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
        if "manifest" in rows:
            await push_image(client, MANIFEST_REPO, "latest", small_image(seed - 1_000_000))

    if "manifest" in rows:
        gets = manifest_gets(base, MANIFEST_REPO, "latest", params.connections, params.duration)
        (count, seconds), _, cpu = await _measured(server_pid, gets, params.duration + ROW_TIMEOUT)
        figures["manifest"] = Figure(count / seconds, "req/s", seconds, count, cpu)
    if "images" in rows:
        push = push_images(base, params.images, params.image_workers, seed * 100_000)
        _, wall, cpu = await _measured(server_pid, push)
        figures["images"] = Figure(params.images / wall, "images/s", wall, params.images, cpu)
    return {row: figure for row, figure in figures.items() if row in rows}
