"""``python -m bench.mirror`` runs end to end (figures are not judged here)."""

from __future__ import annotations

import json
import re

from tests.bench.running import run_bench

ROWS = {"direct", "cold", "warm", "local", "dist_cold", "dist_warm", "dist_local"}
#: Where each pull's CPU went (client, upstream, server), per row.
BUDGET = {"client", "upstream", "server"}
#: The loopback run's rates of what a cold pull does to every byte, alone.
CEILINGS = {"sha256", "write"}


def _bench(*argv: str) -> str:
    return run_bench("mirror", *argv)


def test_mirror_bench_prints_every_row_on_loopback_and_across_a_link() -> None:
    # One run covers it all: by default a loopback table and a table across the relay in
    # front of the upstream (its rate and round trip given here), pyregistry's rows and
    # distribution's proxy as the reference (Debian's 2.8, or
    # $PYREGISTRY_BENCH_DISTRIBUTION) in each.
    argv = ["--size-mib", "2", "--repeat", "1", "--link-mib-s", "200", "--link-rtt-ms", "2"]
    figures = json.loads(_bench(*argv, "--json"))
    assert re.fullmatch(r"\d+\.\d+\.\d+", figures.pop("distribution"))
    assert figures.pop("link_shape") == "200 MiB/s, rtt 2 ms"
    assert set(figures) == {"loopback", "link"}
    for name, run in figures.items():
        budgets = {f"{row}_{part}" for row in ROWS for part in BUDGET}
        ceilings = CEILINGS if name == "loopback" else set()
        assert set(run) == ROWS | {f"{row}_cpu" for row in ROWS} | budgets | ceilings
        assert all(run[key] > 0 for key in ceilings)
        assert all(run[row] > 0 for row in ROWS)
        assert all(run[name] >= 0 for name in budgets)
    # only a mirror's pull has an upstream (at 2 MiB its CPU may round to 0 ticks)
    assert figures["loopback"]["direct_upstream"] == 0


def test_mirror_bench_table_labels_both_runs() -> None:
    out = _bench("--size-mib", "1", "--repeat", "1", "--no-distribution", "--link-rtt-ms", "1")
    assert "loopback (upstream on 127.0.0.1, no relay)" in out
    assert "link (100 MiB/s, rtt 1 ms, relayed; warm rows: see loopback)" in out
    lines = out.splitlines()
    rows = [line.split()[0] for line in lines if re.match(r"(cold|warm) +\d[^/]*$", line)]
    assert rows == ["cold", "warm", "cold"]
    # the loopback run's CPU table: direct and cold (the rates it allows end in "MiB/s")
    assert out.count("CPU ms per MiB while the bytes flow") == 1
    budget_rows = [line.split()[0] for line in lines if re.match(r"\w+ +\d.* MiB/s$", line)]
    assert budget_rows == ["direct", "cold"]
    # and what a cold pull does to every byte, alone: hash it, write it
    ceilings = [line.rsplit(None, 3)[0] for line in lines if re.search(r" MiB/s +\d+\.\d\d$", line)]
    assert ceilings == ["sha256 on one core", "write to a new file"]
