"""Running a bench module as a user does: ``python -m bench.NAME ARGS`` from the root."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_bench(module: str, *argv: str) -> str:
    """``python -m bench.<module>`` with ``argv``: its output, once it succeeded."""
    result = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *argv],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
