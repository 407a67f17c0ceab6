"""Run as ``python -m tests.client.stream_worker URL SIZE``: push a generated blob of SIZE
bytes (one streamed PUT with the sync client, then chunked with the async one) and pull
it back streamed and verified, then print this process's memory as JSON.

A process of its own, so that its kernel high-water mark (VmHWM) is the client's alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from bench.rss import status_kib
from pyregistry.client import AsyncRegistryClient, RegistryClient, RepeatedBlob

CHUNK = 16 * 1024 * 1024


def _kib(key: str) -> int:
    value = status_kib(os.getpid(), key)
    assert value is not None
    return value


async def _chunked_and_pull(url: str, blob: RepeatedBlob) -> int:
    async with AsyncRegistryClient(url) as client:
        await client.push_blob("stream/chunked", blob.source(), chunk_size=CHUNK)
        received = 0
        async for chunk in client.stream_blob("stream/chunked", blob.digest):
            received += len(chunk)
        return received


def main(url: str, size: int) -> None:
    blob = RepeatedBlob(size, seed=99)
    blob.digest  # noqa: B018 - hash before measuring the baseline
    baseline = _kib("VmRSS")
    with RegistryClient(url) as client:
        client.push_blob("stream/mono", blob.source())
        pulled = sum(len(chunk) for chunk in client.stream_blob("stream/mono", blob.digest))
    pulled_async = asyncio.run(_chunked_and_pull(url, blob))
    print(
        json.dumps(
            {
                "baseline_kib": baseline,
                "peak_kib": _kib("VmHWM"),
                "pulled": [pulled, pulled_async],
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
