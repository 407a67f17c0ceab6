"""Online collection racing pushers, on a real ``pyregistry serve`` (two workers).

Eight pushers push, mount, tag, untag and delete while ``storage.maintenance.gc`` collects
in a loop (``deleteuntagged`` on, a short grace period). On the filesystem, pushing lasts
until collection runs have deleted content while the pushers were at work (not a fixed
time: how soon that happens depends on the machine). Afterwards every tag a pusher kept
pulls completely through the HTTP API, no push failed, and the blobs of deleted images
are gone. The object store and two-instance variants are marked slow;
``PYREGISTRY_GC_RACE_SECONDS`` makes every variant push for at least that long.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyregistry.client import AsyncRegistryClient
from tests.gc.online_workload import Outcome, pull_everything, run_pushers
from tests.support.registry_process import RegistryProcess, free_port, write_config
from tests.support.s3 import S3Server

PUSHERS = 8
GRACE_SECONDS = 6.0


def gc_section(*, enabled: bool = True) -> dict[str, Any]:
    return {
        "enabled": enabled,
        "interval": "300ms",
        "grace": f"{GRACE_SECONDS:g}s",
        "deleteuntagged": True,
    }


def storage_section(driver: dict[str, Any], *, gc: bool = True) -> dict[str, Any]:
    return {
        **driver,
        "delete": {"enabled": True},
        "cache": {"blobdescriptor": "inmemory"},
        "maintenance": {"uploadpurging": {"enabled": False}, "gc": gc_section(enabled=gc)},
    }


@contextlib.contextmanager
def serve(directory: Path, storage: dict[str, Any], **sections: Any) -> Iterator[RegistryProcess]:
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = write_config(directory, port, storage=storage, log={"level": "info"}, **sections)
    with RegistryProcess(
        ["serve", str(config)], port=port, env={"PYREGISTRY_WORKERS": "2"}
    ) as process:
        yield process


def base_url(process: RegistryProcess) -> str:
    return f"http://127.0.0.1:{process.port}"


async def _still_there(url: str, outcome: Outcome) -> list[tuple[str, str]]:
    async with AsyncRegistryClient(url) as client:
        return [
            (repository, digest)
            for repository, digest in sorted(outcome.deleted_blobs)
            if await client.blob_exists(repository, digest)
        ]


#: On the filesystem, pushing lasts until this many collection runs deleted something
#: while the pushers were at work: proof that sweeps (not only marking) interleaved with
#: uploads, mounts and manifest pushes. Nothing is deletable before the grace period (plus
#: the guard's clock-skew allowance) has passed, so that takes some 15-20 s.
DELETING_RUNS = 1
#: How long the filesystem variant may push to see them before the test fails.
MOST_SECONDS = 90.0
#: Set it (e.g. ``PYREGISTRY_GC_RACE_SECONDS=180``) to push for at least that long.
LEAST_SECONDS = float(os.environ.get("PYREGISTRY_GC_RACE_SECONDS", "0"))
#: How long the object store variants push (a collection run there takes seconds).
S3_SECONDS = max(LEAST_SECONDS, 25.0)

_DELETED = re.compile(r"(\d+) manifests, (\d+) layer links and (\d+) blobs deleted")


def deleting_runs(log: str) -> int:
    """Collection runs whose summary in ``log`` says they deleted something."""
    return sum(1 for found in _DELETED.finditer(log) if any(int(n) for n in found.groups()))


def race(
    push_url: str,
    collector: RegistryProcess,
    *,
    least: float,
    most: float,
    deleting: int = 0,
    settle: float = 30,
) -> None:
    """Push through ``push_url`` while ``collector`` collects, for ``least`` seconds and
    until ``deleting`` runs deleted something (at most ``most`` seconds); then check
    (giving the collector the grace period plus ``settle`` seconds to catch up)."""
    started = time.monotonic()

    def keep_pushing() -> bool:
        elapsed = time.monotonic() - started
        if elapsed < least:
            return True
        return elapsed < most and deleting_runs(collector.stderr) < deleting

    outcome = asyncio.run(run_pushers(push_url, PUSHERS, keep_pushing))
    assert outcome.failures == [], outcome.failures[:5]
    assert outcome.pushes >= PUSHERS * 3, f"only {outcome.pushes} pushes"
    runs_during = collector.stderr.count("garbage collection: ")
    assert runs_during >= 3, f"the collector ran {runs_during} times while pushing"
    deleted_during = deleting_runs(collector.stderr)
    assert deleted_during >= deleting, f"{deleted_during} runs deleted while pushing"
    assert asyncio.run(pull_everything(push_url, outcome)) == []
    # Past the grace period the deleted images' blobs go too (the collector did collect).
    deadline = time.monotonic() + GRACE_SECONDS + settle
    left = asyncio.run(_still_there(push_url, outcome))
    while left and time.monotonic() < deadline:
        time.sleep(1)
        left = asyncio.run(_still_there(push_url, outcome))
    assert outcome.deleted and not left, f"{len(left)} blobs of deleted images remain"
    assert asyncio.run(pull_everything(push_url, outcome)) == []


def test_filesystem(tmp_path: Path) -> None:
    storage = storage_section({"filesystem": {"rootdirectory": str(tmp_path / "data")}})
    with serve(tmp_path / "a", storage) as process:
        race(
            base_url(process),
            process,
            least=LEAST_SECONDS,
            most=MOST_SECONDS,
            deleting=DELETING_RUNS,
        )


def _s3(server: S3Server, root: str) -> dict[str, Any]:
    return {
        "s3": {
            "regionendpoint": server.endpoint,
            "bucket": server.bucket,
            "region": server.region,
            "forcepathstyle": True,
            "accesskey": server.access_key,
            "secretkey": server.secret_key,
            "secure": False,
            "rootdirectory": root,
        }
    }


@pytest.mark.slow
def test_s3(tmp_path: Path, seaweedfs_server: S3Server, redis_server_process: Any) -> None:
    storage = storage_section(_s3(seaweedfs_server, f"/gc-online-{tmp_path.name}"))
    storage["redirect"] = {"disable": True}
    # Upload sessions and the job take their leases in Redis (see the report: the storage
    # lease refuses a session's next write under heavy load).
    with redis_server_process.client(db=10) as client:
        client.flushdb()
    redis = {"addr": redis_server_process.addr, "db": 10}
    with serve(tmp_path / "a", storage, redis=redis) as process:
        race(base_url(process), process, least=S3_SECONDS, most=S3_SECONDS, settle=150)


@pytest.mark.slow
def test_two_instances_on_s3(
    tmp_path: Path, seaweedfs_server: S3Server, redis_server_process: Any
) -> None:
    """A collects, every push goes through B; one bucket, one Redis (cache and leases)."""
    root = f"/gc-pair-{tmp_path.name}"
    redis = {"addr": redis_server_process.addr, "db": 9}
    with redis_server_process.client(db=9) as client:
        client.flushdb()
    sections = {"redis": redis, "http": {"secret": "gc-pair-secret"}}
    a_storage = storage_section(_s3(seaweedfs_server, root))
    b_storage = storage_section(_s3(seaweedfs_server, root), gc=False)
    for storage in (a_storage, b_storage):
        storage["cache"] = {"blobdescriptor": "redis"}
        storage["redirect"] = {"disable": True}
    with (
        serve(tmp_path / "a", a_storage, **sections) as collector,
        serve(tmp_path / "b", b_storage, **sections) as pushing,
    ):
        race(base_url(pushing), collector, least=S3_SECONDS, most=S3_SECONDS, settle=150)
