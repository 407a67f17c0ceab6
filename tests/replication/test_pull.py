"""Pull policies (zot-like periodic sync) and the manual trigger: a local registry copies
from a remote pyregistry, filtered and renamed; a second run copies nothing; deletes at
the remote (a tag's manifest, a whole repository) are made locally; ``replication
status`` shows the executions. ``replication run`` and ``status`` run as the real CLI
beside the serving registry, on its storage."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from pyregistry.cli import main
from pyregistry.client import RegistryClient
from pyregistry.client.content import build_image
from tests.replication.sites import Site, serve_site, wait_until
from tests.support.registry_process import REPO_ROOT


def pyregistry(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pyregistry", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The same command in this process (no interpreter start-up): status, out, err."""
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def digest_at(site: Site, repository: str, reference: str) -> str | None:
    with RegistryClient(site.url) as client:
        desc = client.head_manifest(repository, reference)
        return desc.digest if desc else None


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Site]]:
    root = tmp_path_factory.mktemp("pull")
    with contextlib.ExitStack() as stack:
        hub = stack.enter_context(serve_site(root / "hub", "hub"))
        replication: dict[str, Any] = {
            "targets": [{"name": "hub", "url": hub.url}],
            "policies": [
                {
                    "name": "from-hub",
                    "target": "hub",
                    "direction": "pull",
                    "triggers": ["manual"],
                    "repositories": {"include": ["team/**"]},
                    "destination": {"naming": "add-prefix", "prefix": "hub"},
                    "deletes": True,
                },
                {
                    "name": "auto",
                    "target": "hub",
                    "direction": "pull",
                    "interval": "200ms",
                    "repositories": {"include": ["auto/*"]},
                    "tags": {"exclude": ["*-dev"]},
                },
            ],
        }
        local = stack.enter_context(serve_site(root / "local", "local", replication))
        yield hub, local


def test_interval_pull_follows_the_remote(sites: tuple[Site, Site]) -> None:
    hub, local = sites
    image, dev = build_image(seed="auto", layers=1), build_image(seed="auto-dev", layers=1)
    with RegistryClient(hub.url) as client:
        digest = client.push("auto/app", image, tag="v1")
        client.push("auto/app", dev, tag="v2-dev")
    wait_until(lambda: digest_at(local, "auto/app", "v1") == digest, what="the pull")
    assert digest_at(local, "auto/app", "v2-dev") is None  # excluded by the tag filter


def test_manual_run_copies_what_is_missing_and_syncs_deletes(
    sites: tuple[Site, Site], capsys: pytest.CaptureFixture[str]
) -> None:
    hub, local = sites
    config = str(local.root / "config.yml")
    images = {name: build_image(seed=f"pull-{name}", layers=1) for name in ("a1", "a2", "b1", "x")}
    with RegistryClient(hub.url) as client:
        a1 = client.push("team/a", images["a1"], tag="v1")
        a2 = client.push("team/a", images["a2"], tag="v2")
        b1 = client.push("team/b", images["b1"], tag="v1")
        client.push("other/x", images["x"], tag="v1")

    first = pyregistry("replication", "run", "from-hub", config)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["copied"] > 0
    assert digest_at(local, "hub/team/a", "v1") == a1
    assert digest_at(local, "hub/team/a", "v2") == a2
    assert digest_at(local, "hub/team/b", "v1") == b1
    assert digest_at(local, "hub/other/x", "v1") is None
    assert digest_at(local, "other/x", "v1") is None

    code, out, err = cli(capsys, "replication", "run", "from-hub", config)
    assert code == 0, err
    tally = json.loads(out)
    assert (tally["copied"], tally["skipped"]) == (0, 3)

    with RegistryClient(hub.url) as client:
        client.delete_manifest("team/a", a2)
        client.delete_manifest("team/b", b1)  # the whole repository goes
    code, out, err = cli(capsys, "replication", "run", "from-hub", config)
    assert code == 0, err
    assert json.loads(out)["deleted"] == 2
    assert digest_at(local, "hub/team/a", "v1") == a1
    assert digest_at(local, "hub/team/a", a2) is None
    assert digest_at(local, "hub/team/b", b1) is None

    code, out, err = cli(capsys, "replication", "status", config, "--json")
    assert code == 0, err
    executions = json.loads(out)["policies"]["from-hub"]["executions"]
    assert [e["trigger"] for e in executions[:3]] == ["manual"] * 3
    assert all(e["status"] == "succeeded" and e["ended"] >= e["started"] for e in executions)
    text = pyregistry("replication", "status", config)
    assert "from-hub: pull hub" in text.stdout


def test_unknown_policy_is_a_usage_error(
    sites: tuple[Site, Site], capsys: pytest.CaptureFixture[str]
) -> None:
    _, local = sites
    code, _, err = cli(capsys, "replication", "run", "nope", str(local.root / "config.yml"))
    assert code == 2
    assert "no policy named 'nope'" in err
