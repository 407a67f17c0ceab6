"""Online collection racing pushers, on real ``pyregistry serve`` processes (two workers).

Eight pushers push, mount, tag, untag and delete for minutes (150 s by default) while
``storage.maintenance.gc`` collects in a loop (``deleteuntagged`` on, a short grace
period): on the filesystem, and on S3 with two instances sharing the bucket, where one
collects and the pushers take turns at both. On the filesystem pushing also lasts until
collection runs have deleted content while the pushers were at work. Afterwards every tag
a pusher kept pulls completely, through the HTTP API of every instance and with ``skopeo
sync`` (every blob checked against its digest), no push failed, and the blobs of deleted
images are gone. The S3 variant is marked slow; ``PYREGISTRY_GC_RACE_SECONDS`` sets how
long every variant pushes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from pyregistry.client import AsyncRegistryClient
from tests.gc.online_workload import Outcome, pull_everything, run_pushers
from tests.support.registry_process import RegistryProcess, free_port, write_config
from tests.support.s3 import S3Server
from tests.support.skopeo import Skopeo

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


#: Every variant pushes at least this long (seconds): minutes of uploads, mounts, tags,
#: deletes and manifest pushes against collection runs every 0.3 s.
#: ``PYREGISTRY_GC_RACE_SECONDS`` sets it (0 for a quick look).
LEAST_SECONDS = float(os.environ.get("PYREGISTRY_GC_RACE_SECONDS", "150"))
#: On the filesystem, pushing also lasts until this many collection runs deleted something
#: while the pushers were at work: proof that sweeps (not only marking) interleaved with
#: uploads, mounts and manifest pushes. Nothing is deletable before the grace period (plus
#: the guard's clock-skew allowance) has passed, so that takes some 15-20 s.
DELETING_RUNS = 1
#: How long the filesystem variant may push to see them before the test fails.
MOST_SECONDS = max(LEAST_SECONDS, 90.0)
#: How long the object store variant pushes (a collection run there takes seconds).
S3_SECONDS = max(LEAST_SECONDS, 25.0)

_DELETED = re.compile(r"(\d+) manifests, (\d+) layer links and (\d+) blobs deleted")


def deleting_runs(log: str) -> int:
    """Collection runs whose summary in ``log`` says they deleted something."""
    return sum(1 for found in _DELETED.finditer(log) if any(int(n) for n in found.groups()))


def skopeo_problems(skopeo: Skopeo, url: str, outcome: Outcome, directory: Path) -> list[str]:
    """Every repository a pusher kept tags in, pulled whole by ``skopeo sync`` (four at
    once): where its tags or their digests differ from what was pushed (empty: all
    pulled)."""
    host = url.removeprefix("http://")

    def sync(repository: str) -> str:
        pushed = {tag: digest for (name, tag), digest in outcome.kept.items() if name == repository}
        pulled = skopeo.sync_repository(f"{host}/{repository}", directory / repository)
        if pulled == pushed:
            return ""
        differ = sorted(set(pulled.items()) ^ set(pushed.items()))
        return f"{repository}: skopeo pulled other tags or digests: {differ[:5]}"

    with ThreadPoolExecutor(4) as pool:
        found = pool.map(sync, sorted({repository for repository, _ in outcome.kept}))
        return [problem for problem in found if problem]


#: Warnings of a loaded S3 server's client that say nothing about a failure.
_NOISE = re.compile(r"Connection pool is full")


def logged_trouble(servers: Sequence[RegistryProcess], failures: list[str]) -> str:
    """``failures`` and the last warnings and errors each server logged, for the report
    of a failed push (a ReadTimeout says only that an answer took too long)."""
    lines = [f"failures: {failures}"]
    for number, server in enumerate(servers):
        trouble = [
            line
            for line in server.stderr.splitlines()
            if re.search(r"level=(warning|error)", line) and not _NOISE.search(line)
        ]
        runs = [line for line in server.stderr.splitlines() if "garbage collection: " in line]
        lines.append(f"server {number}: {len(trouble)} warnings and errors; the last ones:")
        lines.extend(trouble[-15:])
        lines.extend(runs[-3:])  # the collector's last runs, with their durations
    return "\n".join(lines)


def race(
    urls: Sequence[str],
    collector: RegistryProcess,
    skopeo: Skopeo,
    pulled: Path,
    *,
    least: float,
    most: float,
    deleting: int = 0,
    settle: float = 30,
    others: Sequence[RegistryProcess] = (),
) -> None:
    """Push through ``urls`` (pushers take turns) while ``collector`` collects, for
    ``least`` seconds and until ``deleting`` runs deleted something (at most ``most``
    seconds); then check through every one of them (giving the collector the grace period
    plus ``settle`` seconds to catch up). A failed push is reported with what the
    servers (``collector`` and ``others``) logged as warnings and errors."""
    started = time.monotonic()

    def keep_pushing() -> bool:
        elapsed = time.monotonic() - started
        if elapsed < least:
            return True
        return elapsed < most and deleting_runs(collector.stderr) < deleting

    outcome = asyncio.run(run_pushers(urls, PUSHERS, keep_pushing))
    assert outcome.failures == [], logged_trouble([collector, *others], outcome.failures[:5])
    assert outcome.pushes >= PUSHERS * 3, f"only {outcome.pushes} pushes"
    runs_during = collector.stderr.count("garbage collection: ")
    assert runs_during >= 3, f"the collector ran {runs_during} times while pushing"
    deleted_during = deleting_runs(collector.stderr)
    assert deleted_during >= deleting, f"{deleted_during} runs deleted while pushing"
    for url in urls:
        assert asyncio.run(pull_everything(url, outcome)) == [], url
    # Past the grace period the deleted images' blobs go too (the collector did collect),
    # and every registry (its cache) says so.
    deadline = time.monotonic() + GRACE_SECONDS + settle

    def still_there() -> list[tuple[str, str]]:
        return [left for url in urls for left in asyncio.run(_still_there(url, outcome))]

    left = still_there()
    while left and time.monotonic() < deadline:
        time.sleep(1)
        left = still_there()
    assert outcome.deleted and not left, f"{len(left)} blobs of deleted images remain"
    # Then once more: skopeo through the last, the HTTP API through the others.
    assert skopeo_problems(skopeo, urls[-1], outcome, pulled) == []
    for url in urls[:-1]:
        assert asyncio.run(pull_everything(url, outcome)) == [], url


def test_filesystem(tmp_path: Path, skopeo: Skopeo) -> None:
    storage = storage_section({"filesystem": {"rootdirectory": str(tmp_path / "data")}})
    with serve(tmp_path / "a", storage) as process:
        race(
            [base_url(process)],
            process,
            skopeo,
            tmp_path / "pulled",
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
def test_s3_collecting_on_one_instance_pushing_through_both(
    tmp_path: Path, seaweedfs_server: S3Server, redis_server_process: Any, skopeo: Skopeo
) -> None:
    """A collects and takes half the pushers, B (no collector) the other half: one
    bucket, one Redis (cache and leases). So pushes race the collection in its own
    process and in another instance at once."""
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
        serve(tmp_path / "b", b_storage, **sections) as other,
    ):
        urls = [base_url(collector), base_url(other)]
        pulled = tmp_path / "pulled"
        race(
            urls,
            collector,
            skopeo,
            pulled,
            least=S3_SECONDS,
            most=S3_SECONDS,
            settle=150,
            others=[other],
        )
