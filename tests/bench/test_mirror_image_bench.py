"""``python -m bench.mirror_image`` runs end to end with skopeo (figures are not judged)."""

from __future__ import annotations

import json
import re

from tests.bench.running import run_bench
from tests.support.command import find_tool

SMALL = ("--layers", "2", "--layer-mib", "1", "--repeat", "1")


def _bench(*argv: str) -> str:
    find_tool("skopeo")  # fails with the apt command when skopeo is missing
    return run_bench("mirror_image", *argv)


def test_prints_every_row_against_its_own_reference() -> None:
    # distribution's proxy is the reference (Debian's 2.8, or $PYREGISTRY_BENCH_DISTRIBUTION)
    out = _bench(*SMALL)
    assert re.search(r"2 x 1 MiB layers, best of 1; \d+ cores; reference: distribution \d", out)
    row = r"^(cold|warm|dist cold|dist warm) +(\d+\.\d) +(\d+\.\d) +(\d+\.\d\d)"
    rows = re.findall(row, out, re.MULTILINE)
    assert [row[0] for row in rows] == ["cold", "warm", "dist cold", "dist warm"]
    for _, rate_text, against_text, ratio_text in rows:
        rate, against, ratio = float(rate_text), float(against_text), float(ratio_text)
        assert rate > 0 and against > 0
        # the ratio is of the unrounded rates, printed to 0.1: allow what rounding moves
        slack = 0.005 + ratio * (0.05 / rate + 0.05 / against)
        assert abs(ratio - rate / against) <= slack


def test_json_without_the_reference() -> None:
    figures = json.loads(_bench(*SMALL, "--no-distribution", "--json"))
    assert set(figures) == {"direct", "cold", "warm", "local"}
    assert all(rate > 0 for rate in figures.values())
