"""``pyregistry garbage-collect`` as a real process: flags, output, exit status, dry run."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from pyregistry.storage import Registry, paths
from storage_drivers import create_driver
from tests.gc.scenario import Scenario, build_scenario
from tests.support.registry_process import REPO_ROOT


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _setup(tmp_path: Path) -> tuple[Path, Path, Scenario]:
    root = tmp_path / "root"

    async def build() -> Scenario:
        registry = Registry(create_driver("filesystem", {"rootdirectory": str(root)}))
        try:
            return await build_scenario(registry)
        finally:
            await registry.close()

    scenario = asyncio.run(build())
    config = tmp_path / "config.yml"
    config.write_text(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {root}\n")
    return root, config, scenario


def _gc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyregistry", "garbage-collect", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )


def test_dry_run_lists_what_would_go_and_changes_no_byte(tmp_path: Path) -> None:
    root, config, scenario = _setup(tmp_path)
    before = _tree(root)
    # pflag's forms, as distribution's command takes them: flags before CONFIG, =true.
    done = _gc("--dry-run", str(config), "--delete-untagged=true")
    assert done.returncode == 0, done.stderr
    assert _tree(root) == before
    assert f"manifest eligible for deletion: scratch@{scenario['untagged']}" in done.stdout
    assert f"blob eligible for deletion: {scenario['orphan']}" in done.stdout
    assert "5 manifests, 13 layer links and 19 blobs" in done.stdout
    assert "would be deleted" in done.stdout and "nothing was changed" in done.stdout
    # Not a terminal: progress comes as plain lines, one per phase at least.
    for phase in ("mark:", "sweep manifests:", "sweep layer links:", "sweep blobs:"):
        assert phase in done.stderr


def test_collects_and_summarises(tmp_path: Path) -> None:
    root, config, scenario = _setup(tmp_path)
    done = _gc(str(config), "-m")
    assert done.returncode == 0, done.stderr
    assert "5 manifests, 13 layer links and 19 blobs" in done.stdout
    assert "blobs deleted;" in done.stdout and "freed" in done.stdout
    assert not (root / paths.blob_data_path(scenario["orphan"]).lstrip("/")).exists()
    again = _gc(str(config), "-m", "--quiet")
    assert again.returncode == 0
    assert again.stderr == ""
    assert "eligible" not in again.stdout
    assert "0 manifests, 0 layer links and 0 blobs deleted" in again.stdout


def test_an_unreadable_manifest_fails_the_command_and_deletes_nothing(tmp_path: Path) -> None:
    root, config, scenario = _setup(tmp_path)
    data = root / paths.blob_data_path(scenario["old"]).lstrip("/")
    data.write_bytes(b"\x00 not a manifest")
    before = _tree(root)
    done = _gc(str(config), "--delete-untagged", "-q")
    assert done.returncode == 1
    assert f"app@{scenario['old']}" in done.stderr
    assert "nothing was deleted" in done.stderr
    assert _tree(root) == before


def test_a_bad_config_is_a_usage_error(tmp_path: Path) -> None:
    done = _gc(str(tmp_path / "missing.yml"))
    assert done.returncode == 2
    assert "missing.yml" in done.stderr
