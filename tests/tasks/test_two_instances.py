"""Two real ``pyregistry serve`` processes on one storage run a job once at a time, and
the job moves to the survivor when its holder is ``kill -9``-ed.

The job comes from a ``pyregistry.jobs`` entry point (``probe_job``) and logs every run
to a shared file; the test reads the runs back as time spans and fails on any overlap.
Once on a shared filesystem root alone (the lease is an object in storage), once with
Redis configured (the lease is a Redis key).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.redis import RedisServer
from tests.support.registry_process import REPO_ROOT, RegistryProcess, free_port, write_config
from tests.tasks import probe_job
from tests.tasks.probe_job import LOG_ENV, TTL_ENV

TTL = 2.0
#: The job leases' settle time (``leases.LeaseFactory``) plus slack for a loaded machine.
CLAIM_SECONDS = 1.0 + 3.0
#: A Redis database of its own.
PROBE_DB = 13


@dataclass(frozen=True)
class Run:
    pid: int
    start: float
    end: float | None


def read_runs(log: Path) -> list[Run]:
    """The runs in ``log``, in start order; a run cut short has no end."""
    open_runs: dict[int, float] = {}
    runs: list[Run] = []
    for line in log.read_text().splitlines():
        event, pid, moment, _ = line.split()
        if event == "start":
            open_runs[int(pid)] = float(moment)
        else:
            runs.append(Run(int(pid), open_runs.pop(int(pid)), float(moment)))
    runs.extend(Run(pid, start, None) for pid, start in open_runs.items())
    return sorted(runs, key=lambda r: r.start)


def wait_for(condition: Any, within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@contextlib.contextmanager
def two_instances(tmp_path: Path, **sections: Any) -> Iterator[list[RegistryProcess]]:
    plugins = probe_job.install(tmp_path / "plugins")
    env = {
        LOG_ENV: str(tmp_path / "runs.log"),
        TTL_ENV: str(TTL),
        "PYTHONPATH": os.pathsep.join([str(plugins), str(REPO_ROOT)]),
    }
    storage = {
        "filesystem": {"rootdirectory": str(tmp_path / "shared-root")},
        "maintenance": {"uploadpurging": {"enabled": False}},
    }
    with contextlib.ExitStack() as stack:
        processes = []
        for name in ("a", "b"):
            port = free_port()
            workdir = tmp_path / name
            workdir.mkdir()
            config = write_config(workdir, port, storage=storage, **sections)
            process = RegistryProcess(["serve", str(config)], port=port, env=env)
            processes.append(stack.enter_context(process))
        yield processes


def check_failover(tmp_path: Path, processes: list[RegistryProcess]) -> None:
    log = tmp_path / "runs.log"
    wait_for(lambda: log.exists() and len(read_runs(log)) >= 5, within=30)
    pids = {p.proc.pid: p for p in processes if p.proc is not None}
    holder = read_runs(log)[-1].pid
    assert holder in pids, "the job ran in neither instance"
    survivor = next(pid for pid in pids if pid != holder)
    pids[holder].send_signal(signal.SIGKILL)
    killed_at = time.time()
    pids[holder].wait(10)

    def survivor_ran() -> bool:
        return any(r.pid == survivor and r.start > killed_at for r in read_runs(log))

    wait_for(survivor_ran, within=TTL + TTL / 3 + CLAIM_SECONDS)
    wait_for(lambda: sum(r.pid == survivor for r in read_runs(log)) >= 3, within=30)
    runs = read_runs(log)
    for before, after in zip(runs, runs[1:], strict=False):
        end = before.end if before.end is not None else killed_at
        assert after.start >= end, f"two instances ran the job at once: {before} and {after}"
    assert {r.pid for r in runs} <= set(pids)


@pytest.mark.slow
def test_job_once_at_a_time_on_a_shared_root_and_moves_when_killed(tmp_path: Path) -> None:
    with two_instances(tmp_path) as processes:
        check_failover(tmp_path, processes)


@pytest.mark.slow
def test_job_once_at_a_time_with_redis_and_moves_when_killed(
    tmp_path: Path, redis_server_process: RedisServer
) -> None:
    with redis_server_process.client(db=PROBE_DB) as client:
        client.flushdb()
    redis = {"addr": redis_server_process.addr, "db": PROBE_DB}
    with two_instances(tmp_path, redis=redis) as processes:
        check_failover(tmp_path, processes)
        with redis_server_process.client(db=PROBE_DB) as client:
            assert client.exists("pyregistry:lease:job:overlap-probe")
