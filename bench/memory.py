"""``--memory``: push a big blob (monolithic, then chunked) and pull it back while
watching the server's resident memory, to show blobs stream in constant memory."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bench.rss import RssReport, RssSampler, process_tree, status_kib
from bench.servers import RunningRegistry
from bench.workload import Figure, new_client, pull, push_chunked, push_monolithic, throughput
from bench.workload import timed as timed_op
from pyregistry.client import RepeatedBlob
from pyregistry.client.sources import MIB

RSS_TARGET_MIB = 150.0
MEMORY_REPO = "bench/memory"
TIMEOUT = 1800.0


@dataclass(frozen=True)
class MemoryResult:
    """Throughputs of the streamed transfers and the server's memory around them."""

    figures: dict[str, Figure]
    rss: RssReport
    idle_tree_mib: float

    @property
    def within_target(self) -> bool:
        return self.rss.peak_process_mib < RSS_TARGET_MIB


async def _transfers(base: str, size: int, chunk_size: int, seed: int) -> dict[str, Figure]:
    mono, chunked = RepeatedBlob(size, seed), RepeatedBlob(size, seed + 1)
    mono.digest, chunked.digest  # noqa: B018 - hash before the clock starts
    figures = {}
    async with new_client(base, 1) as client:
        seconds = await timed_op(push_monolithic(client, MEMORY_REPO, mono))
        figures["monolithic"] = throughput(size, seconds)
        seconds = await timed_op(push_chunked(client, MEMORY_REPO, chunked, chunk_size))
        figures["chunked"] = throughput(size, seconds)
        seconds = await timed_op(pull(client, MEMORY_REPO, mono, verify=False))
        figures["pull"] = throughput(size, seconds)
    return figures


def measure_memory(
    registry: RunningRegistry, size: int, chunk_size: int, seed: int = 7
) -> MemoryResult:
    """Run the transfers against ``registry`` while sampling its process tree."""
    sampler = RssSampler(registry.pid)
    idle = sum(status_kib(pid, "VmRSS") or 0 for pid in process_tree(registry.pid))
    sampler.start()
    try:
        figures = asyncio.run(
            asyncio.wait_for(_transfers(registry.url, size, chunk_size, seed), TIMEOUT)
        )
    finally:
        report = sampler.stop()
    return MemoryResult(figures=figures, rss=report, idle_tree_mib=idle / 1024)


def format_memory(target: str, result: MemoryResult, size: int) -> str:
    rss = result.rss
    verdict = "OK" if result.within_target else "OVER TARGET"
    rates = ", ".join(f"{row} {f.value:,.0f} {f.unit}" for row, f in result.figures.items())
    return (
        f"{target}: {size / MIB:,.0f} MiB streamed ({rates})\n"
        f"  peak RSS of one process (VmHWM): {rss.peak_process_mib:,.1f} MiB"
        f" [{verdict}: target < {RSS_TARGET_MIB:.0f} MiB]\n"
        f"  peak of the process tree ({rss.processes} processes, sampled):"
        f" RSS {rss.peak_tree_mib:,.1f} MiB, PSS {rss.peak_tree_pss_mib:,.1f} MiB"
        f" (RSS at idle: {result.idle_tree_mib:,.1f} MiB)"
    )
