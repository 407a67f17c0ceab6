"""``pyregistry du``: sizes per repository and project, shared blobs counted once per total."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from pyregistry.client.content import Built, build_image, random_layer
from pyregistry.storage import Registry
from storage_drivers import create_driver
from tests.gc.scenario import push
from tests.support.registry_process import REPO_ROOT


def _sizes(*images: Built) -> dict[str, int]:
    """digest -> size of every blob (manifest included) of ``images``."""
    found = {}
    for image in images:
        found[image.digest] = len(image.manifest)
        found.update({d: len(data) for d, data in image.blobs().items()})
    return found


def _setup(tmp_path: Path) -> tuple[Path, dict[str, Built], int, int]:
    root = tmp_path / "root"
    shared = random_layer("du-shared", size=5000)
    images: dict[str, Built] = {
        name: build_image(seed=name, base_layers=[shared], layers=1, layer_size=700)
        for name in ("proj/a", "proj/b", "other/c")
    }
    garbage = b"nothing links me" * 50

    async def build() -> None:
        registry = Registry(create_driver("filesystem", {"rootdirectory": str(root)}))
        try:
            for name, image in images.items():
                await push(registry.repository(name), image, "latest")
            scratch = registry.repository("scratch")
            stored = await scratch.blobs.put(garbage)
            await scratch.blobs.delete(stored.digest)
        finally:
            await registry.close()

    asyncio.run(build())
    config = tmp_path / "config.yml"
    config.write_text(
        f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {root}\n"
        "  delete:\n    enabled: true\n"
    )
    return config, images, len(garbage), len(shared.gzipped)


def _du(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyregistry", "du", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )


def test_shared_blobs_count_once_per_project_and_registry(tmp_path: Path) -> None:
    config, images, garbage, shared = _setup(tmp_path)
    result = _du(str(config), "--json")
    assert result.returncode == 0, result.stderr
    usage = json.loads(result.stdout)
    per_repo = {r["name"]: r["bytes"] for r in usage["repositories"]}
    for name, image in images.items():
        assert per_repo[name] == sum(_sizes(image).values()), name
    projects = {p["name"]: p for p in usage["projects"]}
    proj = _sizes(images["proj/a"], images["proj/b"])
    assert projects["proj"]["bytes"] == sum(proj.values())
    assert projects["proj"]["linked_bytes"] == per_repo["proj/a"] + per_repo["proj/b"]
    assert projects["proj"]["linked_bytes"] - projects["proj"]["bytes"] == shared
    assert projects["other"]["bytes"] == per_repo["other/c"]
    everything = _sizes(*images.values())
    assert usage["bytes"] == sum(everything.values())
    assert usage["linked_bytes"] == sum(per_repo.values())
    assert usage["linked_bytes"] - usage["bytes"] == 2 * shared  # counted thrice, stored once
    assert usage["unreferenced_bytes"] == garbage
    assert usage["stored_bytes"] == usage["bytes"] + garbage


def test_table_shows_both_figures(tmp_path: Path) -> None:
    config, images, _, _ = _setup(tmp_path)
    result = _du(str(config))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["REPOSITORY", "SIZE", "BYTES", "BLOBS"]
    assert any(line.startswith("proj/a ") for line in lines)
    project_header = next(line for line in lines if line.startswith("PROJECT"))
    assert "SUM OF REPOSITORIES" in project_header
    assert any(
        line.startswith("registry: ") and "summed over repositories" in line for line in lines
    )


def test_a_bad_config_is_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: 3\n  bogus: 1\n")
    result = _du(str(config))
    assert result.returncode == 2, result.stdout
    assert "configuration error" in result.stderr
