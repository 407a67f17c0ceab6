"""``python -m bench.mirror`` runs end to end (figures are not judged here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_mirror_bench_prints_every_row() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.mirror", "--size-mib", "2", "--repeat", "1", "--json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert set(figures) == {"direct", "cold", "warm", "local"}
    assert all(value > 0 for value in figures.values())
