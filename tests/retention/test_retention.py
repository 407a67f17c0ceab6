"""Retention policies on a filesystem root: what goes, why, and what must stay.

Push times are storage's (link modification times), so the root is built through the
storage layer and then aged with ``os.utime``, as if pushed days ago; the command runs
in a process of its own, like a restarted registry.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyregistry.app import create_app
from pyregistry.client.content import build_image, build_index
from pyregistry.config import load_config
from pyregistry.retention.apply import RetentionResult, _apply
from pyregistry.retention.job import RetentionJob
from pyregistry.retention.plan import plan_repository
from pyregistry.retention.policy import RetentionSettings, retention_settings
from pyregistry.storage import Digest, Registry, paths
from storage_drivers import create_driver
from tests.gc.scenario import push
from tests.support.registry_process import REPO_ROOT
from tests.support.server import run_server

DAY = 86400.0
POLICY = """
    retention:
      policies:
        - repositories: ["team/*"]
          keeptags: 2
          keeppatterns: ["release-.*"]
          keepwithin: 96h
          untaggedolderthan: 48h
"""


def _age(root: Path, path: str, days: float) -> None:
    when = time.time() - days * DAY
    os.utime(root / path.lstrip("/"), (when, when))


async def _build(root: Path) -> dict[str, Digest]:
    registry = Registry(create_driver("filesystem", {"rootdirectory": str(root)}))
    d: dict[str, Digest] = {}
    try:
        app = registry.repository("team/app")
        ages = {"t1": 10, "t2": 9, "t3": 5, "t4": 1, "t5": 0, "release-1.0": 20}
        for tag, days in ages.items():
            d[tag] = await push(app, build_image(seed=tag), tag)
            _age(root, paths.tag_current_link_path("team/app", tag), days)
            _age(root, paths.manifest_revision_link_path("team/app", d[tag]), days)
        d["old-untagged"] = await push(app, build_image(seed="old-untagged"))
        _age(root, paths.manifest_revision_link_path("team/app", d["old-untagged"]), 3)
        d["new-untagged"] = await push(app, build_image(seed="new-untagged"))
        amd, arm = build_image(seed="amd"), build_image(seed="arm", architecture="arm64")
        d["multi"] = await push(app, build_index([amd, arm]), "multi")
        for name, child in (("amd", amd), ("arm", arm)):
            d[name] = Digest.parse(child.digest)
            _age(root, paths.manifest_revision_link_path("team/app", d[name]), 3)
        d["other"] = await push(registry.repository("other/x"), build_image(seed="x"), "old")
        _age(root, paths.tag_current_link_path("other/x", "old"), 30)
    finally:
        await registry.close()
    return d


def _setup(tmp_path: Path) -> tuple[Path, Path, dict[str, Digest]]:
    root = tmp_path / "root"
    digests = asyncio.run(_build(root))
    config = tmp_path / "config.yml"
    config.write_text(
        f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {root}\n"
        f"  delete:\n    enabled: true\n  maintenance:{POLICY}"
    )
    return root, config, digests


def _retention(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyregistry", "retention", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file()}


async def _state(root: Path) -> tuple[set[str], set[Digest]]:
    registry = Registry(create_driver("filesystem", {"rootdirectory": str(root)}))
    try:
        app = registry.repository("team/app")
        tags = set(await app.tags.list())
        revisions = root / "docker/registry/v2/repositories/team/app/_manifests/revisions/sha256"
        manifests = {
            Digest.parse(f"sha256:{entry.name}")
            for entry in revisions.iterdir()
            if (entry / "link").exists()
        }
        return tags, manifests
    finally:
        await registry.close()


def test_dry_run_says_what_would_go_and_why_and_changes_nothing(tmp_path: Path) -> None:
    root, config, d = _setup(tmp_path)
    before = _tree(root)
    result = _retention(str(config), "--dry-run")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "team/app: 3 of 7 tags and 4 of 5 manifests" in out
    for tag in ("t1", "t2", "t3"):
        assert f"untag {tag} ({d[tag]})" in out
    for tag in ("t4", "t5", "multi", "release-1.0"):
        assert f"untag {tag} " not in out
    assert "not among the 2 most recently pushed" in out and "matches no keep pattern" in out
    assert f"delete {d['old-untagged']}" in out and "untagged, pushed 3d ago, over 2d" in out
    assert f"delete {d['new-untagged']}" not in out
    assert f"delete {d['amd']}" not in out and f"delete {d['arm']}" not in out
    assert "other/x" not in out
    assert "nothing was changed" in out
    assert _tree(root) == before


def test_applies_the_policy(tmp_path: Path) -> None:
    root, config, d = _setup(tmp_path)
    result = _retention(str(config))
    assert result.returncode == 0, result.stderr
    assert "3 tags removed, 4 manifests deleted" in result.stdout
    tags, manifests = asyncio.run(_state(root))
    assert tags == {"t4", "t5", "multi", "release-1.0"}
    gone = {d[n] for n in ("t1", "t2", "t3", "old-untagged")}
    assert not gone & manifests
    kept = {d[n] for n in ("t4", "t5", "multi", "release-1.0", "new-untagged", "amd", "arm")}
    assert kept <= manifests
    assert (root / "docker/registry/v2/repositories/other/x/_manifests/tags/old").exists()


def test_a_tag_pushed_again_after_planning_stays(tmp_path: Path) -> None:
    root, config, d = _setup(tmp_path)
    settings: RetentionSettings = retention_settings(load_config(str(config)))

    async def scenario() -> RetentionResult:
        registry = Registry(create_driver("filesystem", {"rootdirectory": str(root)}))
        try:
            policy = settings.policy_for("team/app")
            assert policy is not None
            plan = await plan_repository(registry, "team/app", policy)
            assert "t1" in {r.tag for r in plan.tags}
            await asyncio.sleep(1.5)
            await registry.repository("team/app").tags.tag("t1", d["t1"])  # pushed again
            result = RetentionResult()
            await _apply(registry, plan, result)
            assert await registry.repository("team/app").tags.get("t1") == d["t1"]
            return result
        finally:
            await registry.close()

    result = asyncio.run(scenario())
    assert result.tags_removed == 2 and result.skipped >= 1


@pytest.mark.parametrize(
    ("policy", "key"),
    [
        ('        - repositories: ["a"]\n          keeppatterns: ["("]\n', "policies[0]"),
        ("        - keeptags: 2\n", "repositories"),
        ('        - repositories: ["a"]\n          keeptags: -1\n', "keeptags"),
    ],
)
def test_bad_policies_are_configuration_errors(tmp_path: Path, policy: str, key: str) -> None:
    config = tmp_path / "config.yml"
    config.write_text(
        f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {tmp_path}\n"
        f"  maintenance:\n    retention:\n      policies:\n{policy}"
    )
    result = _retention(str(config), "--dry-run")
    assert result.returncode == 2, result.stdout
    assert "configuration error" in result.stderr and key in result.stderr


def test_the_job_runs_on_the_scheduler(tmp_path: Path) -> None:
    """Enabled, the policies are applied in the background (here every 200ms)."""
    root, config, d = _setup(tmp_path)
    text = config.read_text().replace(
        "    retention:\n", "    retention:\n      enabled: true\n      interval: 200ms\n"
    )
    config.write_text(text)
    app = create_app(load_config(str(config)))
    assert isinstance(app.state.retention, RetentionJob)
    with run_server(app):
        deadline = time.monotonic() + 20
        while app.state.retention.last is None and time.monotonic() < deadline:
            time.sleep(0.1)
    tags, manifests = asyncio.run(_state(root))
    assert tags == {"t4", "t5", "multi", "release-1.0"}
    assert d["old-untagged"] not in manifests
