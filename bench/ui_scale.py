"""Issue 17's scale targets: with 10,000 repositories and 100,000 tags, the first page of
the management API's repository list and a search answer in under 100 ms at the server,
and ``_catalog?n=100`` beats distribution 3.1.1's rate on the same data.

``python -m bench.ui_scale [--repos N] [--tags N] [--distribution PATH] [--wrk PATH]``

The data is written once, straight through the storage layer (no HTTP pushes): one small
image, then per repository a mount of its blobs, its manifest, and its share of the tags,
``--concurrency`` repositories at a time; then the metadata index is built from it, as
``pyregistry index rebuild`` does. The same root is then served by pyregistry (with
``management.enabled``) and by distribution, one after the other.

Every list row carries each repository's tag count and size (from the index: a page
without sizes was answered from storage, and the run stops). Latency figures are the
median and 95th percentile of ``--samples`` requests on one keep-alive connection
(loopback adds well under a millisecond); the catalog rate is
requests/s over ``--duration`` seconds on ``--connections`` connections (``bench.rates``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.rates import WRK_ENV, Check, RateRequest, request_rate
from bench.rawhttp import KeepAliveGet
from bench.rss import tree_cpu_seconds
from bench.servers import (
    DISTRIBUTION_ENV,
    distribution_version,
    filesystem_storage,
    run_distribution,
    run_pyregistry,
)
from bench.servers import distribution_binary as find_distribution
from pyregistry.client.content import build_image
from pyregistry.config.model import Config, StorageConfig
from pyregistry.index import build_index
from pyregistry.storage import Registry
from pyregistry.storage.digest import Digest
from storage_drivers import create_driver

TARGET_MS = 100.0
ROWS = (
    "first_page",
    "search",
    "project_search",
    "no_match",
    "by_tags",
    "by_size",
    "by_push",
    "last_page",
)
API = "/api/v1/repositories"


def repository_name(index: int) -> str:
    """Names spread over 100 projects, as a large registry's are."""
    return f"project{index % 100:02d}/service-{index:05d}"


async def populate(root: Path, repos: int, tags: int, concurrency: int) -> float:
    """``repos`` repositories holding ``tags`` tags in all; seconds it took."""
    started = time.perf_counter()
    registry = Registry(create_driver("filesystem", {"rootdirectory": str(root)}))
    image = build_image(seed="ui-scale", layers=1, layer_size=1024)
    first = registry.repository(repository_name(0))
    for data in image.blobs().values():
        await first.blobs.put(data)
    digests = [Digest.parse(d) for d in image.blobs()]
    per_repo, extra = divmod(tags, repos)

    async def fill(index: int) -> None:
        repository = registry.repository(repository_name(index))
        for digest in digests:
            await repository.blobs.mount(digest, repository_name(0))
        result = await repository.manifests.put(image.manifest, image.media_type)
        for tag in range(per_repo + (1 if index < extra else 0)):
            await repository.tags.tag(f"v{tag}", result.digest)

    pending: set[asyncio.Task[None]] = set()
    for index in range(repos):
        pending.add(asyncio.create_task(fill(index)))
        if len(pending) >= concurrency:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        if index and index % 1000 == 0:
            print(f"  {index} repositories written", file=sys.stderr, flush=True)
    await asyncio.gather(*pending)
    await registry.close()
    return time.perf_counter() - started


async def build_metadata_index(root: Path) -> float:
    """The index beside the data, built from storage; seconds it took."""
    started = time.perf_counter()
    config = Config(
        storage=StorageConfig(driver="filesystem", parameters={"rootdirectory": str(root)})
    )
    index = build_index(config, build_in_background=False)
    assert index is not None
    registry = Registry(create_driver("filesystem", {"rootdirectory": str(root)}), index=index)
    if not await index.rebuild():
        raise RuntimeError("the index build was taken over by another process")
    await registry.close()
    return time.perf_counter() - started


async def latency(base: str, path: str, samples: int) -> dict[str, Any]:
    """Median and p95 milliseconds of ``samples`` GETs of ``path`` on one connection."""
    client = KeepAliveGet(base, {})
    times: list[float] = []
    try:
        status, _, body = await client.get(path)  # warm: connection, caches, imports
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body[:300]!r}")
        for _ in range(samples):
            started = time.perf_counter()
            status, _, body = await client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise RuntimeError(f"GET {path}: {status} {body[:300]!r}")
    finally:
        await client.close()
    times.sort()
    page = json.loads(body)
    if any(item["size"] is None for item in page["items"]):
        raise RuntimeError(f"GET {path}: no sizes, so the index did not answer (storage did)")
    return {
        "path": path,
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 2),
        "items": len(page["items"]),
        "total": page["total"],
    }


def catalog_check(expected: int) -> Check:
    """The first answer must be a full page: ``expected`` names."""

    def check(status: int, headers: dict[str, str], body: bytes) -> str | None:
        if status != 200:
            return f"status {status}: {body[:300]!r}"
        names = json.loads(body).get("repositories") or []
        return None if len(names) == expected else f"{len(names)} names, expected {expected}"

    return check


async def catalog_rate(base: str, args: argparse.Namespace) -> float:
    check = catalog_check(min(100, args.repos))
    request = RateRequest("GET", "/v2/_catalog?n=100", first=check)
    count, seconds = await request_rate(base, request, args.connections, args.duration, args.wrk)
    return count / seconds


def settle(pid: int, limit: float) -> float:
    """Wait (at most ``limit`` s) until the server's processes use under 5% of a core: a
    fresh server compares its index with storage in the background first. Seconds waited."""
    started = time.monotonic()
    before = tree_cpu_seconds(pid)
    while time.monotonic() - started < limit:
        time.sleep(1.0)
        now = tree_cpu_seconds(pid)
        if now - before < 0.05:
            break
        before = now
    return time.monotonic() - started


async def measure_pyregistry(base: str, args: argparse.Namespace) -> dict[str, Any]:
    searches = {
        "first_page": f"{API}?limit=50",
        "search": f"{API}?search=service-0042&limit=50",
        "project_search": f"{API}?search=project42/&limit=50",
        "no_match": f"{API}?search=no-such-name&limit=50",
        "by_push": f"{API}?sort=pushed&order=desc&limit=50",
        "by_tags": f"{API}?sort=tags&order=desc&limit=50",
        "by_size": f"{API}?sort=size&order=desc&limit=50",
        "last_page": f"{API}?limit=50&offset={max(args.repos - 50, 0)}",
    }
    figures: dict[str, Any] = {}
    for key, path in searches.items():
        figures[key] = await latency(base, path, args.samples)
    figures["catalog_rps"] = round(await catalog_rate(base, args), 1)
    return figures


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="pyregistry-ui-scale-", dir=args.root_dir))
    try:
        return measure_all(work, args)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def measure_all(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    root = work / "data"
    report: dict[str, Any] = {"repos": args.repos, "tags": args.tags, "root": str(root)}
    print(f"writing {args.repos} repositories, {args.tags} tags under {root}", file=sys.stderr)
    report["populate_s"] = round(
        asyncio.run(populate(root, args.repos, args.tags, args.concurrency)), 1
    )
    report["index_build_s"] = round(asyncio.run(build_metadata_index(root)), 1)
    storage = filesystem_storage(root)
    sections = {"management": {"enabled": True}}
    with run_pyregistry(work / "py", storage, workers=args.workers, sections=sections) as server:
        for _ in range(8):  # new connections, so that every worker starts its index
            asyncio.run(latency(server.url, f"{API}?limit=1", 1))
        report["settle_s"] = round(settle(server.pid, args.settle), 1)
        report["pyregistry"] = asyncio.run(measure_pyregistry(server.url, args))
    if not args.no_distribution:
        binary = find_distribution(args.distribution)
        report["distribution"] = {"version": distribution_version(binary)}
        with run_distribution(work / "dist", storage, binary=binary) as server:
            rate = asyncio.run(catalog_rate(server.url, args))
            report["distribution"]["catalog_rps"] = round(rate, 1)
    return report


def format_report(report: dict[str, Any]) -> str:
    lines = [
        f"{report['repos']} repositories, {report['tags']} tags "
        f"(written in {report['populate_s']} s, index built in {report['index_build_s']} s, "
        f"server idle after {report['settle_s']} s)"
    ]
    py = report["pyregistry"]
    for key in ROWS:
        row = py[key]
        verdict = "ok" if row["median_ms"] < TARGET_MS else "OVER"
        lines.append(
            f"  {key:<15} median {row['median_ms']:>7} ms  p95 {row['p95_ms']:>7} ms  "
            f"({row['items']} of {row['total']})  target < {TARGET_MS:.0f} ms: {verdict}"
        )
    lines.append(f"  _catalog?n=100  pyregistry {py['catalog_rps']} req/s")
    dist = report.get("distribution")
    if dist:
        ratio = py["catalog_rps"] / dist["catalog_rps"] if dist["catalog_rps"] else float("inf")
        lines.append(
            f"  _catalog?n=100  distribution {dist['version']} {dist['catalog_rps']} req/s  "
            f"ratio {ratio:.2f}"
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.ui_scale", description=__doc__)
    parser.add_argument("--repos", type=int, default=10_000)
    parser.add_argument("--tags", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=50, help="requests per latency row")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of _catalog load")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=32, help="repositories written at once")
    parser.add_argument("--workers", type=int, default=None, help="pyregistry worker processes")
    parser.add_argument("--distribution", default=None, help=f"binary (or ${DISTRIBUTION_ENV})")
    parser.add_argument("--no-distribution", action="store_true", help="pyregistry only")
    parser.add_argument("--wrk", default=None, help=f"wrk binary for the load (or ${WRK_ENV})")
    parser.add_argument("--root-dir", default=None, help="where the data goes (default: /tmp)")
    parser.add_argument("--json", default=None, help="also write the figures here")
    parser.add_argument(
        "--settle", type=float, default=300.0, help="max seconds to wait for an idle server"
    )
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.repos < 1 or args.tags < args.repos:
        raise SystemExit("need --repos >= 1 and --tags >= --repos")
    if args.wrk is None:
        args.wrk = os.environ.get(WRK_ENV) or None
    report = run(args)
    print(format_report(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
