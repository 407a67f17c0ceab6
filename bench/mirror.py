"""``python -m bench.mirror``: the pull-through cache's speed, as issue 15 asks for it.

Two pyregistry servers (real processes, one worker each, filesystem storage): an
upstream holding one blob, and a mirror of it under the ``up/`` prefix of ``mirrors``.

* ``cold``: the blob through the mirror, never pulled before (fetched and stored as it
  streams), against a direct pull from the upstream; target: within 10% of direct;
* ``warm``: the same pull again (from the mirror's storage), against a plain local pull
  of the same blob pushed to a normal repository of the mirror; target: the same.

Figures are MiB/s of one streamed GET (bytes thrown away), best of ``--repeat`` rounds
(the cold row needs a fresh blob each round), and the serving process's CPU time (user +
system) per MiB, least of the rounds: rates mean little on a loaded machine, CPU per MiB
still compares two versions run back to back.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import httpx

from bench.rss import tree_cpu_seconds
from bench.servers import filesystem_storage, run_pyregistry
from pyregistry.client import RegistryClient

MiB = 1024 * 1024


ROWS = ("direct", "cold", "warm", "local")


def pull(url: str, server_pid: int) -> tuple[float, float]:
    """Stream one GET, discard it; MiB/s, and CPU ms per MiB of the server at ``server_pid``."""
    cpu = tree_cpu_seconds(server_pid)
    started = time.perf_counter()
    size = 0
    with httpx.stream("GET", url, timeout=600) as response:
        response.raise_for_status()
        for chunk in response.iter_raw(1024 * 1024):
            size += len(chunk)
    mib = size / MiB
    return mib / (time.perf_counter() - started), 1000 * (tree_cpu_seconds(server_pid) - cpu) / mib


def run(size: int, repeat: int, work: Path) -> dict[str, float]:
    """Best MiB/s of each row (``row``) and least CPU ms per MiB (``row_cpu``)."""
    best = {row: 0.0 for row in ROWS} | {f"{row}_cpu": float("inf") for row in ROWS}

    def record(row: str, measured: tuple[float, float]) -> None:
        best[row] = max(best[row], measured[0])
        best[f"{row}_cpu"] = min(best[f"{row}_cpu"], measured[1])

    with run_pyregistry(work / "up", filesystem_storage(work / "up-data"), workers=1) as up:
        mirrors = {"mirrors": [{"prefix": "up", "url": up.url}]}
        storage = filesystem_storage(work / "mirror-data")
        with run_pyregistry(
            work / "mirror", storage, workers=1, name="mirror", sections=mirrors
        ) as mirror:
            for _ in range(repeat):
                data = os.urandom(size)
                with RegistryClient(up.url) as client:
                    digest = client.push_blob("team/big", data)
                mirrored = f"{mirror.url}/v2/up/team/big/blobs/{digest}"
                record("direct", pull(f"{up.url}/v2/team/big/blobs/{digest}", up.pid))
                record("cold", pull(mirrored, mirror.pid))
                record("warm", pull(mirrored, mirror.pid))
                # pushed only now: a blob the mirror's storage holds is linked, not fetched
                with RegistryClient(mirror.url) as client:
                    client.push_blob("local/big", data)
                del data
                record("local", pull(f"{mirror.url}/v2/local/big/blobs/{digest}", mirror.pid))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mirror", description=__doc__)
    parser.add_argument("--size-mib", type=int, default=256, help="blob size (default 256)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-mirror-") as work:
        best = run(args.size_mib * MiB, args.repeat, Path(work))
    if args.json:
        print(json.dumps(best))
        return 0
    print(f"{'row':<6} {'MiB/s':>9} {'against':>9} {'ratio':>6} {'cpu ms/MiB':>11} {'against':>8}")
    for row, against in (("cold", "direct"), ("warm", "local")):
        ratio = best[row] / best[against] if best[against] else 0.0
        cpu, cpu_against = best[f"{row}_cpu"], best[f"{against}_cpu"]
        print(
            f"{row:<6} {best[row]:>9.1f} {best[against]:>9.1f} {ratio:>6.2f}"
            f" {cpu:>11.2f} {cpu_against:>8.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
