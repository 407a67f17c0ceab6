"""A 256 MiB blob goes up (streamed PUT, then 16 MiB PATCHes) and comes back streamed
and verified, while the client process stays far below the blob's size in memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyregistry import EmbeddedRegistry

BLOB_SIZE = 256 * 1024 * 1024
#: The client's peak over its resident size before the transfers: buffers, not the blob.
GROWTH_LIMIT_MIB = 32
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_client_streams_a_large_blob_in_constant_memory(open_registry: EmbeddedRegistry) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    result = subprocess.run(
        [sys.executable, "-m", "tests.client.stream_worker", open_registry.url, str(BLOB_SIZE)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["pulled"] == [BLOB_SIZE, BLOB_SIZE]
    growth_mib = (report["peak_kib"] - report["baseline_kib"]) / 1024
    assert growth_mib < GROWTH_LIMIT_MIB, (
        f"the client grew by {growth_mib:.1f} MiB moving a {BLOB_SIZE >> 20} MiB blob"
    )
