"""``python -m bench.mirror``: the pull-through cache's speed, as issue 15 asks for it.

Two pyregistry servers (real processes, one worker each, filesystem storage): an
upstream holding one blob, and a mirror of it under the ``up/`` prefix of ``mirrors``.

* ``cold``: the blob through the mirror, never pulled before (fetched and stored as it
  streams), against a direct pull from the upstream; target: within 10% of direct;
* ``warm``: the same pull again (from the mirror's storage), against a plain local pull
  of the same blob pushed to a normal repository of the mirror; target: the same.

The reference (unless ``--no-distribution``): distribution (Debian's 2.8, or the binary
given by ``--distribution``) as a pull-through cache of the same upstream (its ``proxy``
section), measured in the same rounds on the same blob:

* ``dist cold`` against the same direct pull; ``dist warm`` against ``dist local``, the
  blob pushed to a plain distribution.

Each warm pull waits until its mirror has committed the cold pull's copy (both may finish
storing after the client has its last byte): the cold row's rate stops at the last byte,
its CPU time at the commit, so the warm row carries none of the cold pull's tail.

A mirror exists to front a remote upstream, so every run prints two tables: ``loopback``
(the upstream as near as the mirror: the cold rows weigh the mirror's own work, receive,
hash, store, re-send, against a direct pull: one read and one send per MiB) and ``link`` (a
rate-limited relay, ``bench/relay.py``, in front of the upstream: the direct pull and
both mirrors' upstream fetches cross it, so the cold rows tell what a mirror adds over a
long link). The link is :data:`DEFAULT_LINK` (100 MiB/s each way, 20 ms round trip)
unless ``--link-mib-s``/``--link-rtt-ms`` say otherwise; ``--only loopback|link`` runs
one of the two. The link table shows the cold rows only: the warm and local pulls never
cross the link, the loopback table has them.

After the loopback table, the rates of what a cold pull does to every byte and a direct
pull does not, each alone on one core: sha256 and writing a new file (:mod:`bench.ceilings`);
no mirror that verifies and keeps each blob pulls cold faster.

Figures are MiB/s of one streamed GET (bytes thrown away), best of ``--repeat`` rounds
(the cold rows need a fresh blob each round), and the serving process's CPU time (user +
system) per MiB, least of the rounds: rates mean little on a loaded machine, CPU per MiB
still compares two versions run back to back.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import httpx

from bench.ceilings import hash_rate, print_ceilings, write_rate
from bench.cpu_budget import Budget, Meter
from bench.relay import Link, run_relay
from bench.rss import tree_cpu_seconds
from bench.servers import (
    RunningRegistry,
    add_reference_options,
    chosen_reference,
    distribution_version,
    filesystem_storage,
    run_distribution,
    run_pyregistry,
)
from pyregistry.client import RegistryClient

MiB = 1024 * 1024
#: The link of the ``link`` table: a fast WAN to a remote upstream.
DEFAULT_LINK = Link(100.0, 20.0)
#: The runs and their order.
RUNS = ("loopback", "link")
#: The rows the link table prints (warm and local pulls do not cross the link).
LINK_ROWS = ("cold", "dist_cold")
#: How long distribution may take to commit its copy after the cold pull has ended.
STORED_TIMEOUT = 300.0

ROWS = ("direct", "cold", "warm", "local")
DIST_ROWS = ("dist_cold", "dist_warm", "dist_local")
#: Each compared row, the row it is held against, and its printed name.
COMPARISONS = (
    ("cold", "direct", "cold"),
    ("warm", "local", "warm"),
    ("dist_cold", "direct", "dist cold"),
    ("dist_warm", "dist_local", "dist warm"),
)


class Pulled(NamedTuple):
    """One pull: MiB/s, the server's CPU ms per MiB (to its commit), and where the CPU of
    the transfer went (client, upstream, server: :mod:`bench.cpu_budget`)."""

    rate: float
    cpu: float
    budget: Budget


def pull(
    url: str,
    server_pid: int,
    settled: Callable[[], None] | None = None,
    upstream_pid: int | None = None,
) -> Pulled:
    """Stream one GET, discard it, and measure it (``upstream_pid``: the upstream a mirror
    fetches from, whose CPU the budget counts too).

    ``settled`` (a cold pull's): waits until the server has committed its copy. The rate
    and the budget stop at the last byte, what the client sees; the server's CPU counts
    until the commit, so work a mirror does after the last byte is counted in its cold
    row, not in the next pull's.
    """
    meter = Meter(server_pid, upstream_pid).start()
    started = time.perf_counter()
    size = 0
    with httpx.stream("GET", url, timeout=600) as response:
        response.raise_for_status()
        for chunk in response.iter_raw(1024 * 1024):
            size += len(chunk)
    elapsed = time.perf_counter() - started
    mib = size / MiB
    budget = meter.stop(mib)
    if settled is not None:
        settled()
    cpu = tree_cpu_seconds(server_pid) - meter.server_started
    return Pulled(mib / elapsed, 1000 * cpu / mib, budget)


def wait_stored(data: Path, repository: str, digest: str) -> None:
    """Until a mirror under ``data`` has committed its copy of ``digest`` (its repository's
    layer link, written last; both mirrors store it after, or while, sending the last byte),
    so that the warm pull reads storage and carries none of the cold pull's tail."""
    algorithm, hex_digest = digest.split(":", 1)
    link = data / "docker/registry/v2/repositories" / repository / "_layers"
    link = link / algorithm / hex_digest / "link"
    deadline = time.monotonic() + STORED_TIMEOUT
    while not link.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{data} did not store {digest} within {STORED_TIMEOUT}s")
        time.sleep(0.01)


class Figures:
    """Best MiB/s of each row (``row``), least CPU ms per MiB (``row_cpu``) and, from the
    round whose transfer took the least CPU in all, its budget (``row_client``,
    ``row_upstream``, ``row_server``)."""

    def __init__(self, rows: tuple[str, ...]) -> None:
        self.best = {row: 0.0 for row in rows} | {f"{row}_cpu": float("inf") for row in rows}

    def record(self, row: str, measured: Pulled) -> None:
        self.best[row] = max(self.best[row], measured.rate)
        self.best[f"{row}_cpu"] = min(self.best[f"{row}_cpu"], measured.cpu)
        budget = measured.budget
        if f"{row}_client" not in self.best or budget.total < self._budget_total(row):
            self.best[f"{row}_client"] = budget.client
            self.best[f"{row}_upstream"] = budget.upstream
            self.best[f"{row}_server"] = budget.server

    def _budget_total(self, row: str) -> float:
        return sum(self.best[f"{row}_{part}"] for part in ("client", "upstream", "server"))


class DistributionReference:
    """distribution as a pull-through cache of the upstream, and a plain one for ``local``."""

    def __init__(
        self,
        stack: contextlib.ExitStack,
        work: Path,
        binary: str,
        upstream: str,
        upstream_pid: int,
    ):
        """``upstream``: the URL distribution mirrors; ``upstream_pid``: its server's pid."""
        self.data = work / "dist-proxy-data"
        self.upstream_pid = upstream_pid
        proxy = {"proxy": {"remoteurl": upstream}}
        self.proxy = stack.enter_context(
            run_distribution(
                work / "dist-proxy",
                filesystem_storage(self.data),
                binary=binary,
                name="distribution-proxy",
                sections=proxy,
            )
        )
        self.plain = stack.enter_context(
            run_distribution(
                work / "dist-local",
                filesystem_storage(work / "dist-local-data"),
                binary=binary,
                name="distribution-local",
            )
        )

    def measure(self, figures: Figures, data: bytes, digest: str) -> None:
        mirrored = f"{self.proxy.url}/v2/team/big/blobs/{digest}"
        stored = functools.partial(wait_stored, self.data, "team/big", digest)
        figures.record("dist_cold", pull(mirrored, self.proxy.pid, stored, self.upstream_pid))
        figures.record("dist_warm", pull(mirrored, self.proxy.pid))
        with RegistryClient(self.plain.url) as client:
            client.push_blob("local/big", data)
        local = f"{self.plain.url}/v2/local/big/blobs/{digest}"
        figures.record("dist_local", pull(local, self.plain.pid))


def run(
    size: int,
    repeat: int,
    work: Path,
    *,
    distribution: str | None = None,
    link: Link | None = None,
) -> dict[str, float]:
    """The figures of every row (``distribution``: the reference binary, None: no
    reference rows; ``link``: the relay's shape, None: straight loopback)."""
    figures = Figures(ROWS + (DIST_ROWS if distribution else ()))
    with contextlib.ExitStack() as stack:
        up = stack.enter_context(
            run_pyregistry(work / "up", filesystem_storage(work / "up-data"), workers=1)
        )
        upstream = up.url if link is None else stack.enter_context(run_relay(up.url, link, work))
        mirror = stack.enter_context(
            run_pyregistry(
                work / "mirror",
                filesystem_storage(work / "mirror-data"),
                workers=1,
                name="mirror",
                sections={"mirrors": [{"prefix": "up", "url": upstream}]},
            )
        )
        reference = (
            DistributionReference(stack, work, distribution, upstream, up.pid)
            if distribution
            else None
        )
        for _ in range(repeat):
            data = os.urandom(size)
            with RegistryClient(up.url) as client:
                digest = client.push_blob("team/big", data)
            direct = f"{upstream}/v2/team/big/blobs/{digest}"
            _measure_pyregistry(figures, mirror, work / "mirror-data", data, digest, direct, up)
            if reference is not None:
                reference.measure(figures, data, digest)
            del data
    return figures.best


def _measure_pyregistry(
    figures: Figures,
    mirror: RunningRegistry,
    mirror_data: Path,
    data: bytes,
    digest: str,
    direct: str,
    up: RunningRegistry,
) -> None:
    mirrored = f"{mirror.url}/v2/up/team/big/blobs/{digest}"
    figures.record("direct", pull(direct, up.pid))
    stored = functools.partial(wait_stored, mirror_data, "up/team/big", digest)
    figures.record("cold", pull(mirrored, mirror.pid, stored, up.pid))
    figures.record("warm", pull(mirrored, mirror.pid))
    # pushed only now: a blob the mirror's storage holds is linked, not fetched
    with RegistryClient(mirror.url) as client:
        client.push_blob("local/big", data)
    figures.record("local", pull(f"{mirror.url}/v2/local/big/blobs/{digest}", mirror.pid))


def print_table(best: dict[str, float], header: str, rows: tuple[str, ...] | None = None) -> None:
    """The comparisons of ``best`` (only those of ``rows``, when given) under ``header``."""
    print(header)
    print(f"{'row':<10} {'MiB/s':>9} {'against':>9} {'ratio':>6} {'cpu ms/MiB':>11} {'against':>8}")
    for row, against, name in COMPARISONS:
        if row not in best or (rows is not None and row not in rows):
            continue
        ratio = best[row] / best[against] if best[against] else 0.0
        cpu, cpu_against = best[f"{row}_cpu"], best[f"{against}_cpu"]
        print(
            f"{name:<10} {best[row]:>9.1f} {best[against]:>9.1f} {ratio:>6.2f}"
            f" {cpu:>11.2f} {cpu_against:>8.2f}"
        )


#: The rows of the CPU table and their printed names.
BUDGET_ROWS = (("direct", "direct"), ("cold", "cold"), ("dist_cold", "dist cold"))


def print_budgets(best: dict[str, float], cores: int) -> None:
    """Where the CPU of the transfers of ``best`` went, and the rate it allows with
    ``cores`` cores all busy (:mod:`bench.cpu_budget`)."""
    print(f"CPU ms per MiB while the bytes flow (round with the least in all; {cores} cores)")
    print(
        f"{'row':<10} {'client':>7} {'upstream':>9} {'server':>7} {'total':>6}"
        f" {'all cores busy':>15}"
    )
    for row, name in BUDGET_ROWS:
        if f"{row}_client" not in best:
            continue
        budget = Budget(best[f"{row}_client"], best[f"{row}_upstream"], best[f"{row}_server"])
        print(
            f"{name:<10} {budget.client:>7.2f} {budget.upstream:>9.2f} {budget.server:>7.2f}"
            f" {budget.total:>6.2f} {budget.all_cores_busy(cores):>9.0f} MiB/s"
        )


def chosen_link(mib_s: float | None, rtt_ms: float | None) -> Link:
    """:data:`DEFAULT_LINK` with the options given on the command line in its place."""
    return Link(
        DEFAULT_LINK.mib_s if mib_s is None else mib_s,
        DEFAULT_LINK.rtt_ms if rtt_ms is None else rtt_ms,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mirror", description=__doc__)
    parser.add_argument("--size-mib", type=int, default=256, help="blob size (default 256)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    add_reference_options(parser)
    parser.add_argument(
        "--link-mib-s",
        type=float,
        help=f"the link table's rate, MiB/s each way (default {DEFAULT_LINK.mib_s:g})",
    )
    parser.add_argument(
        "--link-rtt-ms",
        type=float,
        help=f"the link table's added round trip, ms (default {DEFAULT_LINK.rtt_ms:g})",
    )
    parser.add_argument("--only", choices=RUNS, help="run one table only")
    args = parser.parse_args(argv)
    binary = chosen_reference(args)
    link = chosen_link(args.link_mib_s, args.link_rtt_ms)
    runs = (args.only,) if args.only else RUNS
    figures: dict[str, dict[str, float]] = {}
    for name in runs:
        with tempfile.TemporaryDirectory(prefix=f"bench-mirror-{name}-") as work:
            shape = link if name == "link" else None
            figures[name] = run(
                args.size_mib * MiB, args.repeat, Path(work), distribution=binary, link=shape
            )
            if name == "loopback":
                figures[name]["sha256"] = hash_rate()
                figures[name]["write"] = write_rate(Path(work), args.size_mib * MiB)
    version = distribution_version(binary) if binary else None
    if args.json:
        described: dict[str, Any] = {"distribution": version, "link_shape": link.describe()}
        print(json.dumps(figures | described))
        return 0
    reference = f"reference: distribution {version}" if binary else "no reference"
    print(f"{args.size_mib} MiB blobs, best of {args.repeat}; {reference}")
    for name in runs:
        print()
        if name == "loopback":
            print_table(figures[name], "loopback (upstream on 127.0.0.1, no relay)")
            print()
            print_budgets(figures[name], os.cpu_count() or 1)
            print()
            print_ceilings(figures[name])
        else:
            header = f"link ({link.describe()}, relayed; warm rows: see loopback)"
            print_table(figures[name], header, LINK_ROWS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
