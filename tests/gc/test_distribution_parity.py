"""Same root, same result: distribution 2.8's ``garbage-collect`` and ours, file by file.

One root with the scenario is copied twice; Debian's ``docker-registry garbage-collect``
collects one copy, ``pyregistry garbage-collect`` the other, and the two trees must hold
the same files, except for pyregistry's documented, deliberate differences:

* Links in ``_layers`` to blobs that were collected: distribution leaves them dangling,
  we remove them (they name nothing; a cache answering for them is distribution #4269).
* Our referrers index (``_manifests/referrers``, unknown to distribution): the entries of
  collected referrers go with them.
* With ``--delete-untagged`` only: distribution 2.8 deletes the untagged children of a
  tagged index and their configs and layers (distribution #3178, #3004: the index no
  longer pulls), and untagged referrers of tagged manifests. We keep both.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pyregistry.storage import Digest, Registry
from storage_drivers import create_driver
from tests.gc.scenario import Scenario, build_scenario
from tests.support.command import find_tool
from tests.support.registry_process import REPO_ROOT

V2 = "docker/registry/v2"


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _config(root: Path) -> Path:
    path = root.parent / f"{root.name}.yml"
    path.write_text(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {root}\n")
    return path


def _blob_file(digest: Digest) -> str:
    return f"{V2}/blobs/{digest.algorithm}/{digest.hex[:2]}/{digest.hex}/data"


def _revision_file(repository: str, digest: Digest) -> str:
    return (
        f"{V2}/repositories/{repository}/_manifests/revisions/{digest.algorithm}/{digest.hex}/link"
    )


async def _build(root: Path) -> Scenario:
    registry = Registry(create_driver("filesystem", {"rootdirectory": str(root)}))
    try:
        return await build_scenario(registry)
    finally:
        await registry.close()


def _explained(path: str, dist: dict[str, bytes], kept_by_us: set[str]) -> bool:
    parts = path.split("/")
    if "_layers" in parts and path.endswith("/link"):
        # A dangling link distribution leaves: its blob is gone from both trees.
        digest = Digest(parts[-3], parts[-2])
        return path in dist and _blob_file(digest) not in dist
    if "_manifests" in parts and parts[parts.index("_manifests") + 1] == "referrers":
        return path in dist  # an entry of a collected referrer
    return path in kept_by_us


@pytest.mark.parametrize("delete_untagged", [False, True], ids=["default", "delete-untagged"])
def test_pyregistry_deletes_what_distribution_deletes(
    tmp_path: Path, delete_untagged: bool
) -> None:
    binary = find_tool("docker-registry")
    source = tmp_path / "source"
    scenario = asyncio.run(_build(source))
    original = _files(source)
    dist_root, py_root = tmp_path / "dist", tmp_path / "py"
    shutil.copytree(source, dist_root, symlinks=True)
    shutil.copytree(source, py_root, symlinks=True)
    flags = ["--delete-untagged"] if delete_untagged else []

    done = subprocess.run(
        [binary, "garbage-collect", str(_config(dist_root)), *flags],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ours = subprocess.run(
        [sys.executable, "-m", "pyregistry", "garbage-collect", str(_config(py_root)), *flags],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
    )
    assert ours.returncode == 0, ours.stdout + ours.stderr

    dist, py = _files(dist_root), _files(py_root)
    assert dist != original and py != original  # both collected something
    kept_by_us: set[str] = set()
    if delete_untagged:
        for name in ("amd64", "arm64", "sig"):
            kept_by_us.add(_revision_file("lib/multi", scenario[name]))
            kept_by_us.update(_blob_file(d) for d in scenario.blobs[name])
        kept_by_us.add(_blob_file(scenario["sig"]))
    only_dist = set(dist) - set(py)
    only_py = set(py) - set(dist)
    unexplained = sorted(p for p in only_dist | only_py if not _explained(p, dist, kept_by_us))
    assert unexplained == [], "\n".join(unexplained)
    assert only_py == {p for p in kept_by_us if p not in dist}
    for path in set(dist) & set(py):
        assert dist[path] == py[path], path
    # The deliberate differences are real ones in this root, not vacuous.
    assert any("/_layers/" in p for p in only_dist)
    if delete_untagged:
        assert _revision_file("lib/multi", scenario["amd64"]) in only_py
        assert _revision_file("lib/multi", scenario["sig"]) in only_py
        assert _blob_file(next(iter(scenario.blobs["amd64"]))) in only_py
