"""Issue 11 item 4: a session's writes are exclusive across workers and instances.

Before the fix, two PATCHes with ``Content-Range: 0-3145727`` on one session were both
answered 202 in 15 of 40 trials with ``--workers 2``, and with one worker once more
than ``MAX_TRACKED_UPLOADS`` other sessions pushed the in-flight session's lock out of
its cache. Each test here fails on any double acknowledgement.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from pyregistry.app import create_app
from pyregistry.config import config_from_document
from pyregistry.storage import context
from tests.abuse.race import CHUNK, race_once
from tests.multi_instance.instances import Instance, instance_config, run_pair
from tests.support.redis import RedisServer
from tests.support.registry_process import RegistryProcess, free_port, write_config
from tests.support.s3 import S3Server
from tests.support.server import run_server

TRIALS = 40
#: A Redis database of its own (the multi-instance pairs use 7 and 8).
RACE_DB = 11


def on(base: str) -> Callable[[str], str]:
    """Path or absolute Location -> the same path and query on ``base``."""

    def url(path: str) -> str:
        parts = httpx.URL(path)
        return str(httpx.URL(base).copy_with(path=parts.path, query=parts.query or None))

    return url


@pytest.mark.slow
def test_racing_patches_across_two_workers(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, port, log={"level": "warn"})
    with RegistryProcess(["serve", "--workers", "2", str(config)], port=port):
        url = on(f"http://127.0.0.1:{port}")
        winners = [race_once(trial, url, url, "race/workers") for trial in range(TRIALS)]
    assert len(winners) == TRIALS


@pytest.mark.slow
def test_racing_patches_across_two_instances_on_s3_and_redis(
    tmp_path: Path, seaweedfs_server: S3Server, redis_server_process: RedisServer
) -> None:
    with run_pair(
        tmp_path,
        s3=seaweedfs_server,
        redis_server=redis_server_process,
        redis_db=RACE_DB,
        redirect=False,
    ) as pair:
        for trial in range(TRIALS):
            race_once(trial, pair.a.url, pair.b.url, "race/instances")


@contextlib.contextmanager
def _s3_pair_without_redis(
    work: Path, s3: S3Server, redis_server: RedisServer
) -> Iterator[tuple[Instance, Instance]]:
    """A and B on one bucket root, nothing else shared (the pair's config without its
    ``redis`` section and cache): the storage lease decides."""
    root = f"/race-{time.time_ns()}"
    with contextlib.ExitStack() as stack:
        instances = []
        for name in ("a", "b"):
            port = free_port()
            settings = instance_config(
                port=port,
                s3=s3,
                rootdirectory=root,
                redis_server=redis_server,
                redis_db=0,
                redirect=False,
            )
            settings.pop("redis")
            storage = settings["storage"]
            assert isinstance(storage, dict)
            storage.pop("cache")
            path = work / f"config-{name}.yml"
            path.write_text(yaml.safe_dump(settings))
            process = stack.enter_context(RegistryProcess(["serve", str(path)], port=port))
            instances.append(Instance(name.upper(), port, process))
        yield instances[0], instances[1]


@pytest.mark.slow
def test_racing_patches_across_two_instances_on_s3_alone(
    tmp_path: Path, seaweedfs_server: S3Server, redis_server_process: RedisServer
) -> None:
    with _s3_pair_without_redis(tmp_path, seaweedfs_server, redis_server_process) as (a, b):
        for trial in range(TRIALS // 4):
            race_once(trial, a.url, b.url, "race/storage-lease")


def test_in_flight_session_survives_more_sessions_than_tracked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One worker: while a PATCH streams, more sessions than the tracked cap are opened;
    a second PATCH on the first session must still be refused."""
    monkeypatch.setattr(context, "MAX_TRACKED_UPLOADS", 8)
    app = create_app(
        config_from_document(
            {"version": "0.1", "storage": {"filesystem": {"rootdirectory": str(tmp_path)}}}
        )
    )
    streaming, release = threading.Event(), threading.Event()

    def slow_body() -> Iterator[bytes]:
        # The headers are out: the server checks the offset (0, still right) and waits.
        streaming.set()
        release.wait(30)
        yield b"a" * CHUNK

    headers = {"Content-Type": "application/octet-stream", "Content-Range": f"0-{CHUNK - 1}"}
    with run_server(app) as base, httpx.Client(base_url=base, timeout=60) as client:
        location = client.post("/v2/race/one/blobs/uploads/").headers["location"]
        result: list[httpx.Response] = []

        def first() -> None:
            with httpx.Client(base_url=base, timeout=60) as other:
                result.append(other.patch(location, content=slow_body(), headers=headers))

        writer = threading.Thread(target=first)
        writer.start()
        assert streaming.wait(30)
        time.sleep(0.3)  # the first PATCH's handler holds the session
        for _ in range(3 * context.MAX_TRACKED_UPLOADS):
            extra = client.post("/v2/race/others/blobs/uploads/")
            assert client.patch(extra.headers["location"], content=b"x").status_code == 202
        second = client.patch(location, content=b"b" * CHUNK, headers=headers)
        release.set()
        writer.join(30)
        assert second.status_code == 416, second.text
        assert [e["code"] for e in second.json()["errors"]] == ["BLOB_UPLOAD_INVALID"]
        assert result[0].status_code == 202, result[0].text
        assert client.get(location).headers["range"] == f"0-{CHUNK - 1}"
