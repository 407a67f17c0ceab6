"""Durability: queued events outlive the registry (clean stop, SIGKILL) and are delivered
once the endpoint is back; several workers or instances deliver each event once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from pyregistry.notifications.config import ROOT_QUEUE_SUBDIR
from tests.notifications.conftest import endpoint, notifying_config, push_blob, push_image, serve
from tests.notifications.receiver import Behaviour, Receiver
from tests.support.registry_process import REPO_ROOT, free_port, wait_for_port


def down_receiver() -> Receiver:
    """A receiver whose port is known but closed (start it later to bring it up)."""
    receiver = Receiver(Behaviour()).start()
    receiver.stop()
    return receiver


def test_events_survive_a_restart(tmp_path: Path) -> None:
    receiver = down_receiver()
    entry = endpoint(receiver, threshold=1, backoff="100ms", timeout="500ms")
    config = notifying_config(tmp_path / "data", tmp_path / "queue", [entry])
    try:
        with serve(config) as url, httpx.Client(base_url=url) as client:
            digest, blobs, _ = push_image(client, "durable", "v1")
        assert receiver.snapshot() == []
        receiver.start()
        with serve(config):
            events = receiver.wait_count(4)
    finally:
        receiver.stop()
    assert [e["target"]["digest"] for e in events] == [*blobs, digest]
    assert events[-1]["target"]["tag"] == "v1"
    assert len({e["id"] for e in events}) == 4


@contextmanager
def registry_process(config_path: Path, port: int, workers: int = 1) -> Iterator[Any]:
    """The real server in its own process group (so SIGKILL takes its workers too)."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pyregistry", "serve", "--workers", str(workers)]
            + [str(config_path)],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            try:
                wait_for_port(port, 20, proc)
            except Exception as exc:  # noqa: BLE001 - the server log explains any failure
                log.seek(0)
                raise AssertionError(f"{exc}\n{log.read().decode(errors='replace')}") from None
            yield proc
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def write_config(path: Path, root: Path, port: int, receiver: Receiver) -> Path:
    path.write_text(
        "version: 0.1\n"
        "log: {level: warn, accesslog: {disabled: true}}\n"
        f"storage:\n  filesystem: {{rootdirectory: {root}}}\n  delete: {{enabled: true}}\n"
        f"http: {{addr: '127.0.0.1:{port}'}}\n"
        "notifications:\n  endpoints:\n"
        f"    - {{name: hook, url: '{receiver.url}', timeout: 500ms, threshold: 1, "
        "backoff: 100ms}\n"
    )
    return path


def test_sigkill_then_several_workers_deliver_each_event_once(tmp_path: Path) -> None:
    receiver = down_receiver()
    root = tmp_path / "data"
    port = free_port()
    config_path = write_config(tmp_path / "config.yml", root, port, receiver)
    url = f"http://127.0.0.1:{port}"
    try:
        with registry_process(config_path, port) as proc, httpx.Client(base_url=url) as client:
            first, blobs, _ = push_image(client, "killed", "v1")
            os.killpg(proc.pid, signal.SIGKILL)  # no shutdown: only what is on disk survives
            proc.wait(10)
        # the queue lives under the storage root when no queue.directory is set
        assert (root / ROOT_QUEUE_SUBDIR / "queue.sqlite3").is_file()

        receiver.start()
        fresh = httpx.Limits(max_keepalive_connections=0)  # let both workers take requests
        with (
            registry_process(config_path, port, workers=2),
            httpx.Client(base_url=url, limits=fresh) as client,
        ):
            later = [push_blob(client, "workers", f"blob {i}".encode()) for i in range(12)]
            receiver.wait_count(4 + 12, timeout=30)
            time.sleep(1.5)  # give a second deliverer every chance to send something twice
            events = receiver.delivered()
    finally:
        receiver.stop()
    assert [e["target"]["digest"] for e in events] == [*blobs, first, *later]
    assert len({e["id"] for e in events}) == len(events) == 16
    # produced by the killed process, delivered by the new one (whose two workers each
    # run a deliverer; the lease lets only one of them send)
    assert len({e["source"]["instanceID"] for e in events[:4]}) == 1
    assert events[0]["source"]["instanceID"] not in {e["source"]["instanceID"] for e in events[4:]}


def test_two_instances_on_one_storage_deliver_each_event_once(tmp_path: Path) -> None:
    """Instances sharing the storage root: with the default queue (under the root) they
    share one queue; with a queue directory each, each delivers what it produced."""
    receiver = Receiver(Behaviour()).start()
    root = tmp_path / "data"
    shared = notifying_config(root, tmp_path / "unused", [endpoint(receiver)])
    shared.notifications.pop("queue")
    own = [notifying_config(root, tmp_path / f"queue-{i}", [endpoint(receiver)]) for i in (1, 2)]
    pushed: list[str] = []
    try:
        for first, second in ((shared, shared), tuple(own)):
            with (
                serve(first) as url1,
                serve(second) as url2,
                httpx.Client(base_url=url1) as one,
                httpx.Client(base_url=url2) as two,
            ):
                for i in range(4):
                    pushed.append(push_blob(one, "shared", f"{url1} {i}".encode()))
                    pushed.append(push_blob(two, "shared", f"{url2} {i}".encode()))
                receiver.wait_count(len(pushed))
                time.sleep(1.2)  # a duplicate would have arrived by now
    finally:
        receiver.stop()
    events = receiver.delivered()
    assert sorted(e["target"]["digest"] for e in events) == sorted(pushed)
    assert len({e["id"] for e in events}) == len(events) == 16
