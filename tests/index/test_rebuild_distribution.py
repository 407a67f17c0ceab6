"""``pyregistry index rebuild`` on a root that distribution 2.8 wrote: the rebuilt index
lists what distribution listed. Also the documented limits: what another program writes
while pyregistry serves is not seen until a rebuild, or the next check of
``index.checkinterval``; what it wrote while no pyregistry ran is found by the check at
start-up."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.index.helpers import index_directory, push_tagged, view
from tests.support.distribution import run_distribution
from tests.support.registry_process import REPO_ROOT, RegistryProcess, free_port, write_config

PUSHES = {
    "lib/hello": ["v1", "stable", "latest"],
    "lib/hello/sub": ["1"],
    "lib-hello": ["x"],
    "other": ["a", "b"],
}


def _listings(base: str) -> tuple[list[str], dict[str, list[str]]]:
    with httpx.Client(base_url=base, timeout=30) as client:
        catalog: list[str] = client.get("/v2/_catalog").json()["repositories"]
        tags = {name: client.get(f"/v2/{name}/tags/list").json()["tags"] for name in catalog}
    return catalog, tags


def _push_with_distribution(
    root: Path, pushes: dict[str, list[str]]
) -> tuple[list[str], dict[str, list[str]]]:
    """Push with distribution; its listings (tags sorted: 2.8 lists them unsorted)."""
    with run_distribution(root) as dist, httpx.Client(base_url=dist.url, timeout=30) as client:
        for name, tags in pushes.items():
            push_tagged(client, name, tags, f"dist-{name}")
        catalog, listed = _listings(dist.url)
    return catalog, {name: sorted(tags) for name, tags in listed.items()}


def _rebuild(config: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "pyregistry", "index", "rebuild", str(config)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.slow
def test_rebuild_lists_what_distribution_wrote(tmp_path: Path) -> None:
    root = tmp_path / "data"
    catalog, tags = _push_with_distribution(root, PUSHES)
    assert sorted(catalog) == sorted(PUSHES)
    port = free_port()
    config = write_config(tmp_path, port, storage={"filesystem": {"rootdirectory": str(root)}})

    result = _rebuild(config)
    assert "index rebuild: 4 repositories scanned" in result.stderr
    assert "done" in result.stderr
    state = view(index_directory(root))
    assert state is not None and state.ready and not state.dirty and not state.intents
    assert state.repositories == catalog
    assert state.tags == tags
    assert not (root / "docker" / "registry" / "v2" / "_pyregistry").exists()

    base = f"http://127.0.0.1:{port}"
    with RegistryProcess(["serve", str(config)], port=port):
        assert _listings(base) == (catalog, tags)
        # distribution writes to the root while pyregistry serves it: not seen ...
        later, later_tags = _push_with_distribution(root, {"late/comer": ["v1"], "other": ["c"]})
        assert _listings(base)[0] == catalog
        # ... until a rebuild, which may run while the server serves.
        _rebuild(config)
        assert _listings(base) == (later, later_tags)

    # Written while no pyregistry ran: the check at start-up finds and repairs it.
    last, last_tags = _push_with_distribution(root, {"while/down": ["1"], "other": ["d"]})
    with RegistryProcess(["serve", str(config)], port=port):
        deadline = time.monotonic() + 20
        while _listings(base) != (last, last_tags) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _listings(base) == (last, last_tags)


def test_check_interval_sees_what_distribution_writes_while_serving(tmp_path: Path) -> None:
    """``index.checkinterval``: one instance compares the index with storage every
    interval, so a root distribution writes to beside a serving pyregistry (a rolling
    switch) has its listings repaired within it, with no rebuild."""
    root = tmp_path / "data"
    catalog, tags = _push_with_distribution(root, {"first/repo": ["v1"]})
    port = free_port()
    config = write_config(
        tmp_path,
        port,
        storage={"filesystem": {"rootdirectory": str(root)}},
        index={"checkinterval": "1s"},
    )
    base = f"http://127.0.0.1:{port}"
    with RegistryProcess(["serve", str(config)], port=port) as served:
        deadline = time.monotonic() + 30
        while _listings(base) != (catalog, tags) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _listings(base) == (catalog, tags)
        state = view(index_directory(root))
        assert state is not None and state.ready  # the index, not storage, answers

        later, later_tags = _push_with_distribution(
            root, {"late/comer": ["v1"], "first/repo": ["v2"]}
        )
        deadline = time.monotonic() + 30
        while _listings(base) != (later, later_tags) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _listings(base) == (later, later_tags)
        state = view(index_directory(root))
        assert state is not None and state.repositories == later
        assert "compared with storage every 1s" in served.stderr
