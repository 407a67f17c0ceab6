"""``pyregistry serve`` without ``--workers``: one worker per usable core, and it still
starts, serves, drains on SIGTERM and stops cleanly."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from pyregistry.workers import cgroup_cpu_limit, default_workers, usable_cpus
from tests.support.registry_process import RegistryProcess, free_port, write_config
from tests.support.workers import worker_pids


def test_cgroup_quota_in_whole_cpus(tmp_path: Path) -> None:
    cpu_max = tmp_path / "cpu.max"
    for text, expected in [
        ("max 100000\n", None),
        ("150000 100000\n", 2),
        ("50000 100000\n", 1),
        ("400000 100000\n", 4),
        ("nonsense\n", None),
    ]:
        cpu_max.write_text(text)
        assert cgroup_cpu_limit(str(cpu_max)) == expected, text
    missing = str(tmp_path / "missing")
    assert cgroup_cpu_limit(missing, missing, missing) is None
    # cgroup v1: quota and period in two files, -1 for no quota
    quota, period = tmp_path / "cfs_quota_us", tmp_path / "cfs_period_us"
    period.write_text("100000\n")
    for text, expected in [("-1\n", None), ("250000\n", 3), ("100000\n", 1)]:
        quota.write_text(text)
        assert cgroup_cpu_limit(missing, str(quota), str(period)) == expected, text


def test_default_is_the_usable_cores() -> None:
    assert usable_cpus() == len(os.sched_getaffinity(0))
    limit = cgroup_cpu_limit()
    expected = usable_cpus() if limit is None else min(usable_cpus(), limit)
    assert default_workers() == expected >= 1


def slow_body(first: bytes, rest: list[bytes], sent_first: threading.Event) -> Iterator[bytes]:
    yield first
    sent_first.set()
    for piece in rest:
        time.sleep(0.15)
        yield piece


def test_default_workers_serve_and_drain_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, port, http={"draintimeout": "30s"})
    base = f"http://127.0.0.1:{port}"
    pieces = [bytes([i]) * 65536 for i in range(8)]
    digest = "sha256:" + hashlib.sha256(b"".join(pieces)).hexdigest()
    expected = default_workers()
    process = RegistryProcess(
        ["serve", str(config)], port=port, env={"PYREGISTRY_WORKERS": None}
    ).start()
    try:
        assert process.proc is not None
        if expected > 1:
            deadline = time.monotonic() + 20
            while len(worker_pids(process.proc.pid)) < expected and time.monotonic() < deadline:
                time.sleep(0.1)
            assert len(worker_pids(process.proc.pid)) == expected
        for _ in range(10):
            assert httpx.get(f"{base}/v2/", headers={"connection": "close"}).status_code == 200
        start = httpx.post(f"{base}/v2/drain/blobs/uploads/")
        assert start.status_code == 202
        location = httpx.URL(base).join(start.headers["location"])
        sent_first = threading.Event()
        result: dict[str, httpx.Response | BaseException] = {}

        def put() -> None:
            try:
                result["response"] = httpx.put(
                    location,
                    params={"digest": digest},
                    content=slow_body(pieces[0], pieces[1:], sent_first),
                    headers={"content-type": "application/octet-stream"},
                    timeout=30,
                )
            except BaseException as exc:  # noqa: BLE001 - reported below
                result["response"] = exc

        uploader = threading.Thread(target=put)
        uploader.start()
        assert sent_first.wait(10)
        time.sleep(0.2)  # a worker is reading the body now
        process.send_signal(signal.SIGTERM)
        uploader.join(30)
        response = result["response"]
        assert isinstance(response, httpx.Response), response
        assert response.status_code == 201, response.text
        assert process.wait(30) == 0
    finally:
        process.stop()
    worker_word = "worker processes" if expected > 1 else "worker process,"
    assert f"{expected} {worker_word}" in process.stderr
    assert process.stderr.count("Application startup complete") == expected
    with RegistryProcess(["serve", str(config)], port=port) as again:
        assert httpx.head(f"{base}/v2/drain/blobs/{digest}").status_code == 200
        assert again.stop() == 0
