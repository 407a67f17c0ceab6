"""The OCI layout the README's pytest example preloads (examples/images/demo-layout) is
what scripts/make_example_layout.py writes, byte for byte, and stays small."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.docs.sandbox import LAYOUT, REPO


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_shipped_layout_is_the_scripts_output(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make_example_layout.py"), str(tmp_path / "out")],
        check=True,
        env=env,
        capture_output=True,
    )
    assert files(tmp_path / "out") == files(LAYOUT)
    assert sum(len(content) for content in files(LAYOUT).values()) < 8 * 1024
