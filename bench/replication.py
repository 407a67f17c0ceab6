"""``python -m bench.replication``: replication's speed, as issue 16 asks for it.

Three rows, each between real pyregistry server processes (one worker each, filesystem
storage) on loopback:

* ``sync``: a source holding ``--images`` small images (spread over 20 repositories,
  2 layers of 4 KiB each) and one large image (``--large-mib``, 1 GiB in the issue) is
  copied to an empty target by ``pyregistry replication run`` (a full sync of a
  manual push policy), and to another empty target by ``skopeo sync`` (a YAML source
  listing the same repositories; skopeo names them by their last path part at the
  target, which does not change the work); wall-clock seconds of each command, target: at most
  skopeo's (the run's own figure without Python's start-up is shown too);
* ``lag``: with an event-driven push policy, the seconds from the end of a push at the
  source to the manifest answering at the target (``--lag-samples`` pushes, one at a
  time; median and worst), target: under 2 s on loopback.

Figures are meaningless on a loaded machine; ``--images 10 --large-mib 8`` is a smoke run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench.servers import REPO_ROOT, filesystem_storage, run_pyregistry
from pyregistry.client import AsyncRegistryClient, RegistryClient, RepeatedBlob
from pyregistry.client.content import build_image, canonical_json, descriptor
from pyregistry.client.media import OCI_CONFIG, OCI_MANIFEST

MiB = 1024 * 1024
REPOSITORIES = 20
LARGE_LAYER = "application/vnd.oci.image.layer.v1.tar"


async def fill_source(url: str, images: int, large: int) -> None:
    """``images`` small images as ``bench/rN:tM``, and ``bench/large:v1`` of ``large`` bytes."""
    async with AsyncRegistryClient(url) as client:
        gate = asyncio.Semaphore(8)

        async def one(i: int) -> None:
            async with gate:
                image = build_image(seed=f"bench-{i}", layers=2, layer_size=4096)
                await client.push(f"bench/r{i % REPOSITORIES}", image, tag=f"t{i}")

        await asyncio.gather(*(one(i) for i in range(images)))
        if large:
            blob = RepeatedBlob(large, seed=16)
            await client.push_blob("bench/large", blob.source(), chunk_size=64 * MiB)
            config = canonical_json({"architecture": "amd64", "os": "linux", "rootfs": {}})
            await client.push_blob("bench/large", config)
            manifest = canonical_json(
                {
                    "schemaVersion": 2,
                    "mediaType": OCI_MANIFEST,
                    "config": descriptor(OCI_CONFIG, config),
                    "layers": [{"mediaType": LARGE_LAYER, "digest": blob.digest, "size": large}],
                }
            )
            await client.push_manifest("bench/large", "v1", manifest, OCI_MANIFEST)


def timed(argv: list[str]) -> tuple[float, str]:
    """Wall-clock seconds of a command, and what it printed."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    started = time.perf_counter()
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{argv[:4]} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return elapsed, result.stdout


def skopeo_sync(source: str, target: str, repositories: list[str], work: Path) -> float:
    host = source.removeprefix("http://")
    spec = {host: {"images": {name: [] for name in repositories}, "tls-verify": False}}
    path = work / "skopeo-sync.yml"
    path.write_text(yaml.safe_dump(spec))
    argv = ["skopeo", "sync", "--src", "yaml", "--dest", "docker", "--dest-tls-verify=false"]
    return timed([*argv, str(path), target.removeprefix("http://")])[0]


def replication_section(name: str, url: str, triggers: list[str]) -> dict[str, Any]:
    return {
        "replication": {
            "id": "source",
            "queue": {"poll": "200ms"},
            "targets": [{"name": name, "url": url, "concurrency": 8, "chunksize": 64 * MiB}],
            "policies": [{"name": f"to-{name}", "target": name, "triggers": triggers}],
        }
    }


def sync_row(work: Path, images: int, large: int) -> dict[str, float]:
    storage = filesystem_storage
    with (
        run_pyregistry(work / "a", storage(work / "a-data"), workers=1, name="a") as ours,
        run_pyregistry(work / "b", storage(work / "b-data"), workers=1, name="b") as theirs,
    ):
        sections = replication_section("a", ours.url, ["manual"])
        with run_pyregistry(
            work / "src", storage(work / "src-data"), workers=1, name="src", sections=sections
        ) as source:
            asyncio.run(fill_source(source.url, images, large))
            repositories = sorted({f"bench/r{i % REPOSITORIES}" for i in range(images)})
            if large:
                repositories.append("bench/large")
            config = str(work / "src" / "src.yml")
            cli = [sys.executable, "-m", "pyregistry", "replication", "run", "to-a", config]
            wall, printed = timed(cli)
            return {
                "pyregistry_s": wall,
                # the sync itself, without the interpreter's start-up
                "pyregistry_sync_s": float(json.loads(printed)["seconds"]),
                "skopeo_s": skopeo_sync(source.url, theirs.url, repositories, work),
            }


def lag_row(work: Path, samples: int) -> dict[str, float]:
    storage = filesystem_storage
    with run_pyregistry(work / "c", storage(work / "c-data"), workers=1, name="c") as target:
        sections = replication_section("c", target.url, ["event"])
        with run_pyregistry(
            work / "src2", storage(work / "src2-data"), workers=1, name="src2", sections=sections
        ) as source:
            lags = []
            for i in range(samples):
                image = build_image(seed=f"lag-{i}", layers=2, layer_size=4096)
                with RegistryClient(source.url) as client:
                    client.push("bench/lag", image, tag=f"t{i}")
                pushed = time.perf_counter()
                with RegistryClient(target.url) as client:
                    while client.head_manifest("bench/lag", f"t{i}") is None:
                        if time.perf_counter() - pushed > 60:
                            raise RuntimeError("no copy after 60 s")
                        time.sleep(0.01)
                lags.append(time.perf_counter() - pushed)
    return {"lag_median_s": statistics.median(lags), "lag_max_s": max(lags)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.replication", description=__doc__)
    parser.add_argument("--images", type=int, default=200, help="small images (default 200)")
    parser.add_argument("--large-mib", type=int, default=1024, help="large image (default 1024)")
    parser.add_argument("--lag-samples", type=int, default=20, help="lag pushes (default 20)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-replication-") as work:
        figures = sync_row(Path(work), args.images, args.large_mib * MiB)
        figures.update(lag_row(Path(work), args.lag_samples))
    if args.json:
        print(json.dumps(figures))
        return 0
    ratio = figures["skopeo_s"] / figures["pyregistry_s"] if figures["pyregistry_s"] else 0.0
    print(f"sync {args.images} images + {args.large_mib} MiB to an empty target:")
    print(
        f"  pyregistry replication run  {figures['pyregistry_s']:8.2f} s "
        f"(the sync itself {figures['pyregistry_sync_s']:.2f} s)"
    )
    print(f"  skopeo sync                 {figures['skopeo_s']:8.2f} s  (ratio {ratio:.2f})")
    print(
        f"event-driven lag: median {figures['lag_median_s']:.3f} s, "
        f"worst {figures['lag_max_s']:.3f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
