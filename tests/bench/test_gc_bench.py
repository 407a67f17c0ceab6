"""``python -m bench.gc`` runs end to end on a tiny store (figures are not judged here).

Both collectors must succeed and leave exactly the same files on both targets: the bench
itself checks the two copies against each other and exits 1 when they differ.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEBIAN_DISTRIBUTION = "/usr/bin/docker-registry"


def test_gc_bench_collects_both_copies_alike(tmp_path: Path) -> None:
    out = tmp_path / "gc.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYREGISTRY_BENCH_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    argv = ["--manifests", "20", "--blobs", "110", "--json", str(out), "--root-dir"]
    result = subprocess.run(
        [sys.executable, "-m", "bench.gc", *argv, str(tmp_path)],
        cwd=REPO_ROOT,
        env=env | {"PYREGISTRY_BENCH_DISTRIBUTION": DEBIAN_DISTRIBUTION},
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, f"bench failed:\n{result.stdout}\n{result.stderr}"
    document = json.loads(out.read_text())
    assert document["store"]["garbage_blobs"] == 60  # 10 deleted images x 5, 10 never used
    rows = {row["target"]: row for row in document["rows"]}
    assert set(rows) == {"fs", "s3"}
    for row in rows.values():
        assert row["same_result"], row
        # 10 kept manifests and 50 kept blobs remain, with their links
        assert row["left_files"] == 140, row
        for collector in ("pyregistry", "distribution"):
            assert row[collector]["status"] == 0 and row[collector]["seconds"] > 0
            assert row[collector]["peak_mib"] > 0
    assert "distribution 2.8" in result.stdout
