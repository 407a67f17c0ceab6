"""``python -m bench --quick`` still runs end to end and prints a full table.

The figures themselves are not judged here (speed targets live in the bench, not in
timed tests); only that every row produced a positive number for every target and that
the ratio column is filled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
ROWS = ("monolithic", "chunked", "pull", "manifest", "images")
TIMEOUT = 180


def run_bench(tmp_path: Path, *args: str) -> tuple[dict[str, Any], str]:
    """Run the bench CLI in a subprocess; its JSON document and stdout."""
    out = tmp_path / "figures.json"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(out), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, f"bench failed:\n{result.stdout}\n{result.stderr}"
    return json.loads(out.read_text()), result.stdout


def test_quick_bench_filesystem_against_distribution(tmp_path: Path) -> None:
    document, stdout = run_bench(tmp_path, "--targets", "fs,dist", "--workers", "2")
    assert document["errors"] == {}
    for target in ("fs", "dist"):
        figures = document["results"][target]
        assert sorted(figures) == sorted(ROWS)
        for row, figure in figures.items():
            assert figure["value"] > 0, (target, row, figure)
    assert document["results"]["fs"]["pull"]["unit"] == "MiB/s"
    assert document["results"]["fs"]["manifest"]["unit"] == "req/s"
    # Every printed row carries a pyregistry/distribution ratio.
    table = stdout.split("fs/dist", 1)[1]
    for label in document["labels"].values():
        line = next(line for line in table.splitlines() if line.startswith(label))
        assert float(line.split()[-1]) > 0, line


def test_quick_bench_on_s3(tmp_path: Path) -> None:
    document, stdout = run_bench(
        tmp_path, "--targets", "s3", "--workers", "1", "--rows", "monolithic,chunked,pull"
    )
    assert document["errors"] == {}
    figures = document["results"]["s3"]
    assert sorted(figures) == ["chunked", "monolithic", "pull"]
    assert all(figure["value"] > 0 for figure in figures.values())
    assert "pull 8 MiB" in stdout


def test_bench_refuses_unknown_targets(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--targets", "fs,nginx"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert "nginx" in result.stderr


def test_startup_bench_reports_both_figures() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--startup", "--quick"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    # The exit status is the 0.5 s verdict, which belongs to the bench, not to CI.
    assert result.returncode in (0, 1), result.stderr
    lines = result.stdout.splitlines()
    assert any(line.strip().startswith("first, with imports") for line in lines), result.stdout
    assert any(line.strip().startswith("later, in the same process") for line in lines)
