"""What the s3 driver asks of the server: counted by an observer on the driver's
backend, against SeaweedFS (signatures checked)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from pyregistry.storage import Digest, Registry
from storage_drivers.errors import PathNotFound
from storage_drivers.s3 import S3Driver
from tests.support.s3 import S3Server

REPO = Path(__file__).resolve().parents[2]

Factory = Callable[..., Awaitable[S3Driver]]
MiB = 1024 * 1024
KiB = 1024
MULTIPART = {
    "CreateMultipartUpload",
    "ListMultipartUploads",
    "AbortMultipartUpload",
    "UploadPart",
    "ListParts",
    "CompleteMultipartUpload",
}


def count_calls(driver: S3Driver) -> list[str]:
    """S3 operation names (``GetObject``) of every request the driver makes from now on."""
    calls: list[str] = []

    def record(operation: str) -> None:
        calls.append("".join(word.title() for word in operation.split("_")))

    driver._backend.add_observer(record)
    return calls


def _uploads(server: S3Server, driver: S3Driver) -> list[str]:
    page = server.client().list_multipart_uploads(
        Bucket=server.bucket, Prefix=driver.options.rootdirectory + "/"
    )
    return [u["Key"] for u in page.get("Uploads", [])]


async def test_small_blob_committed_in_its_session_is_one_put(s3_driver_factory: Factory) -> None:
    driver = await s3_driver_factory()
    calls = count_calls(driver)
    writer = await driver.writer("/blobs/small/data")
    await writer.write(os.urandom(4 * KiB))
    await writer.commit()
    assert calls == ["HeadObject", "PutObject"]  # the look for an older writer, the data
    assert len(await driver.get_content("/blobs/small/data")) == 4 * KiB


async def test_small_upload_closed_before_commit_resumes_elsewhere_without_multipart(
    s3_driver_factory: Factory, seaweedfs_server: S3Server
) -> None:
    first = await s3_driver_factory()
    root = first.options.rootdirectory
    calls = count_calls(first)
    writer = await first.writer("/up/id/data")
    await writer.close()  # an empty session must already be resumable
    writer = await first.writer("/up/id/data", append=True)
    assert writer.size == 0
    await writer.write(b"a" * 3000)
    await writer.close()
    second = await s3_driver_factory(rootdirectory=root)
    second_calls = count_calls(second)
    writer = await second.writer("/up/id/data", append=True)
    assert writer.size == 3000
    await writer.close()  # nothing changed: nothing written
    writer = await second.writer("/up/id/data", append=True)
    await writer.write(b"b" * 1000)
    await writer.commit()
    assert await first.get_content("/up/id/data") == b"a" * 3000 + b"b" * 1000
    assert not MULTIPART & set(calls + second_calls), (calls, second_calls)
    assert calls.count("PutObject") == 2  # the empty state, the 3000-byte state
    # resume (GET), close without change (nothing), resume, commit (PUT), drop the state
    assert second_calls == ["GetObject", "GetObject", "PutObject", "DeleteObjects"]
    with pytest.raises(PathNotFound):
        await first.writer("/up/id/data", append=True)
    listed = seaweedfs_server.client().list_objects_v2(
        Bucket=seaweedfs_server.bucket, Prefix=root + "/"
    )
    assert [o["Key"] for o in listed["Contents"]] == [f"{root}/up/id/data"]


async def test_big_upload_is_reachable_from_its_state_object_after_a_crash(
    s3_driver_factory: Factory, seaweedfs_server: S3Server
) -> None:
    """A writer that shipped a part and then died (never closed) still left a state
    object naming its upload: another instance resumes from the parts, and a delete of
    the directory aborts the upload."""
    first = await s3_driver_factory(chunksize=5 * MiB)
    root = first.options.rootdirectory
    writer = await first.writer("/r/_uploads/u/data")
    await writer.write(b"x" * (2 * MiB))
    await writer.close()
    writer = await first.writer("/r/_uploads/u/data", append=True)
    await writer.write(b"y" * (4 * MiB))  # 6 MiB: one 5 MiB part goes out, 1 MiB waits
    assert _uploads(seaweedfs_server, first) == [f"{root}/r/_uploads/u/data"]
    del writer  # the crash: the 1 MiB in memory is lost, the part is not
    second = await s3_driver_factory(rootdirectory=root, chunksize=5 * MiB)
    resumed = await second.writer("/r/_uploads/u/data", append=True)
    assert resumed.size == 5 * MiB
    await resumed.write(b"z" * 10)
    await resumed.close()
    again = await first.writer("/r/_uploads/u/data", append=True)
    assert again.size == 5 * MiB + 10
    await again.close()
    calls = count_calls(second)
    await second.put_content("/r/_uploads/u/startedat", b"now")
    await second.delete("/r/_uploads/u")
    assert "ListMultipartUploads" not in calls
    assert _uploads(seaweedfs_server, first) == []
    with pytest.raises(PathNotFound):
        await first.writer("/r/_uploads/u/data", append=True)
    listed = seaweedfs_server.client().list_objects_v2(
        Bucket=seaweedfs_server.bucket, Prefix=root + "/"
    )
    assert listed.get("Contents", []) == []


async def test_big_upload_completes_with_its_resumed_tail(s3_driver_factory: Factory) -> None:
    first = await s3_driver_factory(chunksize=5 * MiB)
    root = first.options.rootdirectory
    data = os.urandom(11 * MiB + 5)
    writer = await first.writer("/big")
    await writer.write(data[: 3 * MiB])
    await writer.close()  # no upload yet: 3 MiB in the state object
    second = await s3_driver_factory(rootdirectory=root, chunksize=5 * MiB)
    calls = count_calls(second)
    writer = await second.writer("/big", append=True)
    await writer.write(data[3 * MiB : 8 * MiB])  # crosses a part: the upload starts now
    await writer.close()
    writer = await first.writer("/big", append=True)
    assert writer.size == 8 * MiB
    await writer.write(data[8 * MiB :])
    await writer.commit()
    assert hashlib.sha256(await first.get_content("/big")).digest() == (
        hashlib.sha256(data).digest()
    )
    assert calls.count("CreateMultipartUpload") == 1
    assert "ListMultipartUploads" not in calls


async def test_fresh_writer_discards_an_older_multipart_session(
    s3_driver_factory: Factory, seaweedfs_server: S3Server
) -> None:
    driver = await s3_driver_factory(chunksize=5 * MiB)
    writer = await driver.writer("/f")
    await writer.write(b"o" * (6 * MiB))
    await writer.close()
    assert len(_uploads(seaweedfs_server, driver)) == 1
    writer = await driver.writer("/f")
    assert _uploads(seaweedfs_server, driver) == []  # aborted at once
    with_state = await driver.writer("/f", append=True)
    assert with_state.size == 0
    await with_state.close()
    await writer.write(b"new")
    await writer.commit()
    assert await driver.get_content("/f") == b"new"


async def test_new_session_writer_is_created_not_looked_for(s3_driver_factory: Factory) -> None:
    """An upload session's writer: its empty state object is written on condition that
    none is there, so no HEAD first and nothing more at close."""
    driver = await s3_driver_factory()
    assert await driver.conditional_writes()  # SeaweedFS takes If-None-Match
    calls = count_calls(driver)
    writer = await driver.start_writer("/up/new/data", {"/up/new/startedat": b"now"})
    await writer.close()
    assert calls == ["PutObject", "PutObject"]  # the marker, the state object
    resumed = await driver.writer("/up/new/data", append=True)
    assert resumed.size == 0
    await resumed.write(b"abc")
    await resumed.commit()
    assert await driver.get_content("/up/new/data") == b"abc"


async def test_new_session_writer_discards_an_older_one_there(
    s3_driver_factory: Factory, seaweedfs_server: S3Server
) -> None:
    """Where a state object is already there, the condition fails and the writer starts
    as any fresh writer does: the older one (here with a multipart upload) is dropped."""
    driver = await s3_driver_factory(chunksize=5 * MiB)
    older = await driver.writer("/up/old/data")
    await older.write(b"o" * (6 * MiB))
    await older.close()
    assert len(_uploads(seaweedfs_server, driver)) == 1
    writer = await driver.start_writer("/up/old/data", {})
    assert writer.size == 0
    assert _uploads(seaweedfs_server, driver) == []
    await writer.close()
    resumed = await driver.writer("/up/old/data", append=True)
    assert resumed.size == 0
    await resumed.write(b"new")
    await resumed.commit()
    assert await driver.get_content("/up/old/data") == b"new"


async def test_move_of_a_just_written_small_object_needs_no_head(
    s3_driver_factory: Factory,
) -> None:
    driver = await s3_driver_factory()
    await driver.put_content("/up/startedat", b"now")
    writer = await driver.writer("/up/data")
    await writer.write(b"content")
    await writer.commit()
    assert await driver.emptied_folders.linger()  # SeaweedFS: asked before counting
    calls = count_calls(driver)
    await driver.move("/up/data", "/blobs/data")
    # copy, delete the source, one look at its folder (not empty: no marker to delete)
    assert calls == ["CopyObject", "DeleteObjects", "ListObjectsV2"]
    assert await driver.get_content("/blobs/data") == b"content"
    with pytest.raises(PathNotFound):
        await driver.stat("/up/data")
    calls.clear()
    await driver.put_content("/other", b"1")
    await driver.move("/other", "/moved")  # unknown size: asks first
    assert calls == ["PutObject", "HeadObject", "CopyObject", "DeleteObjects"]
    with pytest.raises(PathNotFound):
        await driver.move("/gone", "/anywhere")


async def test_registry_small_blob_push_makes_no_multipart_calls(
    s3_driver_factory: Factory,
) -> None:
    driver = await s3_driver_factory()
    registry = Registry(driver)
    repo = registry.repository("calls/small")
    await repo.blobs.put(b"an earlier layer")  # the repository already has content
    assert await driver.conditional_writes()  # probed once per driver, before counting
    assert await driver.emptied_folders.linger()  # the same
    calls = count_calls(driver)
    data = os.urandom(4 * KiB)
    digest = Digest("sha256", hashlib.sha256(data).hexdigest())
    session = await repo.uploads.create()

    async def body() -> Any:
        yield data

    await session.commit(digest, body())
    assert not MULTIPART & set(calls), calls
    assert "CopyObject" not in calls, calls  # its bytes go straight to the blob store
    commit = calls[calls.index("GetObject") :]  # from the session's state read back
    assert commit[:3] == ["GetObject", "HeadObject", "PutObject"], "a HEAD asks for the blob"
    # the session's folder, listed once and deleted with the writer's state object in
    # one request (no look for other writers in it: its one writer was just committed);
    # then whether its parent and grandparent are left empty
    assert calls.count("ListObjectsV2") == 3, calls
    assert calls[calls.index("ListObjectsV2") + 1] == "DeleteObjects", calls
    assert "HeadObject" not in calls[: calls.index("GetObject")]  # created, not looked for
    # 30 before the state-object writer, 14 before 2026-12-06, 12 before 2026-12-07
    assert len(calls) <= 11, calls
    assert calls.count("DeleteObjects") <= 3, calls  # only markers of emptied folders
    backend = driver._backend
    pending = await backend.call("list_objects_v2", "/", Prefix=backend.tail_key("/"))
    assert pending.get("KeyCount", 0) == 0, pending.get("Contents")  # no writer state left
    assert b"".join([c async for c in await repo.blobs.open(digest)]) == data
    await registry.close()


async def test_blob_stat_is_one_head(s3_driver_factory: Factory) -> None:
    """A blob's HEAD or GET asks its data's size with a HEAD, not a listing."""
    driver = await s3_driver_factory()
    registry = Registry(driver)
    repo = registry.repository("calls/stat")
    descriptor = await repo.blobs.put(b"a layer")
    calls = count_calls(driver)
    assert await registry.stat_blob(descriptor.digest) == descriptor
    assert calls == ["HeadObject"]
    calls.clear()
    assert await registry.stat_blob(Digest("sha256", "0" * 64)) is None
    assert calls == ["HeadObject"]
    await registry.close()


def test_payload_is_signed_over_http_only(seaweedfs_server: S3Server) -> None:
    http = S3Driver.from_parameters(seaweedfs_server.driver_parameters("/p"))
    https = S3Driver.from_parameters(
        seaweedfs_server.driver_parameters("/p", regionendpoint="https://127.0.0.1:1")
    )
    assert http._backend._make_client().meta.config.s3["payload_signing_enabled"] is True
    assert https._backend._make_client().meta.config.s3["payload_signing_enabled"] is False
    http._backend.close()
    https._backend.close()


_FIRST_CALL = """
import asyncio, json, sys
import botocore.loaders
from storage_drivers.s3 import S3Driver

driver = S3Driver.from_parameters(json.loads(sys.argv[1]))
loaded = []
real = botocore.loaders.JSONFileLoader.load_file

def load_file(self, path):
    loaded.append(path)
    return real(self, path)

botocore.loaders.JSONFileLoader.load_file = load_file
asyncio.run(driver.list("/"))
print(json.dumps(loaded))
"""


def test_a_new_process_first_call_parses_nothing(seaweedfs_server: S3Server) -> None:
    """The client is built with the driver (while the registry starts): botocore's data,
    parsed holding the GIL, once stalled the event loop serving the first request (0.7 s
    seen on a loaded machine)."""
    params = json.dumps(seaweedfs_server.driver_parameters("/first"))
    run = subprocess.run(
        [sys.executable, "-c", _FIRST_CALL, params],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout) == [], "botocore data was parsed by the first call"


def test_drivers_build_their_clients_from_data_parsed_once(seaweedfs_server: S3Server) -> None:
    """botocore's S3 model and endpoint rules are megabytes of JSON: parsed again for each
    driver, a driver's first call spent ~0.12 s of CPU holding the GIL (the event loop's
    too). Parsed once per process, a further driver's client costs a few milliseconds."""
    first = S3Driver.from_parameters(seaweedfs_server.driver_parameters("/p"))
    second = S3Driver.from_parameters(seaweedfs_server.driver_parameters("/q"))
    first._backend._make_client()
    started = time.thread_time()
    second._backend._make_client()
    spent = time.thread_time() - started
    first._backend.close()
    second._backend.close()
    assert spent < 0.05, f"a second driver's client took {spent:.3f}s of CPU to build"


async def test_stat_past_siblings_sharing_the_prefix(s3_moto_driver_factory: Factory) -> None:
    """AWS lists ``x-0/...`` before ``x/...``: a page full of siblings falls back to
    HEAD + a listing of the directory (moto lists in AWS's byte order)."""
    driver = await s3_moto_driver_factory()
    for i in range(20):
        await driver.put_content(f"/s/x-{i:02d}/f", b"1")
    with pytest.raises(PathNotFound):
        await driver.stat("/s/x")
    await driver.put_content("/s/x/child", b"2")
    assert (await driver.stat("/s/x")).is_dir
    await driver.delete("/s/x")
    await driver.put_content("/s/x", b"file")
    info = await driver.stat("/s/x")
    assert (info.is_dir, info.size) == (False, 4)
    assert (await driver.stat("/s/x-03")).is_dir
    calls = count_calls(driver)
    await driver.stat("/s/x-03/f")
    assert calls == ["ListObjectsV2"]


async def test_slow_request_is_logged_with_its_wait_for_a_thread(
    s3_driver_factory: Factory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A request slower than SLOW_CALL_SECONDS is logged (a stalled S3 server or a busy
    pool would otherwise show only as a slow answer); a quick one is not."""
    from storage_drivers.s3 import backend

    driver = await s3_driver_factory()
    await driver.put_content("/quick/data", b"x")
    assert not [r for r in caplog.records if "took" in r.getMessage()]
    monkeypatch.setattr(backend, "SLOW_CALL_SECONDS", 0.2)
    driver._backend.add_observer(lambda operation: time.sleep(0.3))  # on the pool's thread
    assert await driver.get_content("/quick/data") == b"x"
    slow = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(
        "s3 get_object of /quick/data took" in m and "waiting for one of the driver's" in m
        for m in slow
    ), slow
