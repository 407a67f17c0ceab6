"""``python -m bench.mirror`` runs end to end (figures are not judged here)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ROWS = {"direct", "cold", "warm", "local", "dist_cold", "dist_warm", "dist_local"}


def test_mirror_bench_prints_every_row_across_a_link() -> None:
    # One run covers it all: pyregistry's rows, distribution's proxy as the reference
    # (Debian's 2.8, or $PYREGISTRY_BENCH_DISTRIBUTION), and the relay in front of the
    # upstream (rate and round trip).
    argv = ["--size-mib", "2", "--repeat", "1", "--link-mib-s", "200", "--link-rtt-ms", "2"]
    result = subprocess.run(
        [sys.executable, "-m", "bench.mirror", *argv, "--json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert re.fullmatch(r"\d+\.\d+\.\d+", figures.pop("distribution"))
    assert figures.pop("link") == "200 MiB/s, rtt 2 ms"
    assert set(figures) == ROWS | {f"{row}_cpu" for row in ROWS}
    assert all(figures[row] > 0 for row in ROWS)
