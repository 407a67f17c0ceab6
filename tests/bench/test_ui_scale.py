"""``python -m bench.ui_scale`` runs end to end at a tiny size (pyregistry only; the
distribution side is the same ``run_distribution`` the main bench's smoke test covers).
Figures are not judged here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_ui_scale_bench_runs(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYREGISTRY_BENCH_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    argv = ["--repos", "60", "--tags", "180", "--samples", "3", "--duration", "0.3"]
    argv += ["--connections", "2", "--workers", "1", "--no-distribution", "--json", str(out)]
    result = subprocess.run(
        [sys.executable, "-m", "bench.ui_scale", *argv, "--root-dir", str(tmp_path)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    report = json.loads(out.read_text())
    py = report["pyregistry"]
    assert py["first_page"]["total"] == 60 and py["first_page"]["items"] == 50
    assert py["project_search"]["total"] == 1  # project42/ holds one of 60
    assert py["by_tags"]["items"] == 50 and py["catalog_rps"] > 0
    assert "first_page" in result.stdout
