"""Writers on multipart uploads: parts, durable tails, resume from another process."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from storage_drivers.errors import PathNotFound, WriterClosed
from storage_drivers.s3 import S3Driver
from tests.support.s3 import S3Server

Factory = Callable[..., Awaitable[S3Driver]]
MiB = 1024 * 1024
KiB = 1024
REPO = Path(__file__).resolve().parents[2]


def _uploads(server: S3Server, driver: S3Driver) -> list[str]:
    page = server.client().list_multipart_uploads(
        Bucket=server.bucket, Prefix=driver.options.rootdirectory + "/"
    )
    return [u["Key"] for u in page.get("Uploads", [])]


async def test_multipart_writer_spans_several_parts(
    s3_driver_factory: Factory, seaweedfs_server: S3Server
) -> None:
    driver = await s3_driver_factory(chunksize=5 * MiB)
    data = os.urandom(12 * MiB + 123)
    writer = await driver.writer("/uploads/u1/data")
    for i in range(0, len(data), 3 * MiB):
        assert await writer.write(data[i : i + 3 * MiB]) == len(data[i : i + 3 * MiB])
    assert writer.size == len(data)
    with pytest.raises(PathNotFound):  # invisible before commit
        await driver.stat("/uploads/u1/data")
    with pytest.raises(PathNotFound):
        await driver.list("/uploads")
    await writer.commit()
    assert await driver.get_content("/uploads/u1/data") == data
    head = seaweedfs_server.client().head_object(
        Bucket=seaweedfs_server.bucket,
        Key=f"{driver.options.rootdirectory}/uploads/u1/data",
    )
    assert head["ETag"].strip('"').endswith("-3")  # 5 MiB + 5 MiB + the 2 MiB tail
    assert _uploads(seaweedfs_server, driver) == []
    with pytest.raises(WriterClosed):
        await writer.write(b"more")
    await writer.close()  # closing after commit is harmless (async with)


async def test_small_writes_resume_from_new_driver_instances(
    s3_driver_factory: Factory, seaweedfs_server: S3Server
) -> None:
    """100 x 64 KiB with a close and a resume by a fresh driver every 10 writes."""
    first = await s3_driver_factory(chunksize=5 * MiB)
    root = first.options.rootdirectory
    digest = hashlib.sha256()
    writer = await first.writer("/up/data")
    for i in range(100):
        chunk = bytes([i]) * (64 * KiB)
        digest.update(chunk)
        await writer.write(chunk)
        if i % 10 == 9:
            expected = writer.size
            await writer.close()
            other = await s3_driver_factory(rootdirectory=root, chunksize=5 * MiB)
            writer = await other.writer("/up/data", append=True)
            assert writer.size == expected
    # the hidden tail object never shows up in the tree
    assert [i.path async for i in first.walk("/")] == []
    with pytest.raises(PathNotFound):
        await first.stat("/up")
    assert await first.list("/") == []
    await writer.commit()
    content = await first.get_content("/up/data")
    assert len(content) == 100 * 64 * KiB
    assert hashlib.sha256(content).hexdigest() == digest.hexdigest()
    assert [i.path async for i in first.walk("/")] == ["/up", "/up/data"]
    listed = seaweedfs_server.client().list_objects_v2(
        Bucket=seaweedfs_server.bucket, Prefix=root + "/"
    )
    assert [o["Key"] for o in listed["Contents"]] == [f"{root}/up/data"]  # no tail left
    with pytest.raises(PathNotFound):
        await first.writer("/up/data", append=True)


_CHILD = """
import asyncio, json, sys
from storage_drivers.s3 import S3Driver

async def main():
    args = json.loads(sys.argv[1])
    driver = S3Driver.from_parameters(args["params"])
    writer = await driver.writer("/shared/data", append=True)
    before = writer.size
    await writer.write(bytes.fromhex(args["hex"]))
    await writer.close()
    await driver.close()
    print(before)

asyncio.run(main())
"""


async def test_resume_from_another_process(
    s3_driver_factory: Factory, seaweedfs_server: S3Server
) -> None:
    driver = await s3_driver_factory(chunksize=5 * MiB)
    root = driver.options.rootdirectory
    writer = await driver.writer("/shared/data")
    await writer.write(b"A" * (6 * MiB))  # one 5 MiB part + 1 MiB in memory
    await writer.close()  # the 1 MiB (< 5 MiB, too small for a part) becomes the tail
    params = seaweedfs_server.driver_parameters(root, chunksize=str(5 * MiB))
    payload = json.dumps({"params": params, "hex": (b"B" * 100).hex()})
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _CHILD,
        payload,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode == 0, stderr.decode()
    assert int(stdout.decode().strip()) == 6 * MiB
    writer = await driver.writer("/shared/data", append=True)
    assert writer.size == 6 * MiB + 100
    await writer.write(b"C")
    await writer.commit()
    assert await driver.get_content("/shared/data") == b"A" * (6 * MiB) + b"B" * 100 + b"C"


async def test_cancel_and_fresh_writer_discard_uncommitted_data(
    s3_driver_factory: Factory, seaweedfs_server: S3Server
) -> None:
    driver = await s3_driver_factory()
    await driver.put_content("/f", b"committed")
    writer = await driver.writer("/f")
    await writer.write(b"x" * 1000)
    await writer.cancel()
    assert await driver.get_content("/f") == b"committed"
    with pytest.raises(PathNotFound):
        await driver.writer("/f", append=True)
    with pytest.raises(WriterClosed):
        await writer.commit()
    writer = await driver.writer("/f")
    await writer.write(b"old session")
    await writer.close()
    writer = await driver.writer("/f")  # not append: starts afresh
    assert writer.size == 0
    await writer.write(b"new")
    await writer.commit()
    assert await driver.get_content("/f") == b"new"
    assert _uploads(seaweedfs_server, driver) == []


async def test_empty_commit_and_delete_aborts_uncommitted_writers(
    s3_driver_factory: Factory, seaweedfs_server: S3Server
) -> None:
    driver = await s3_driver_factory()
    async with await driver.writer("/e/empty") as writer:
        await writer.commit()
    assert await driver.get_content("/e/empty") == b""
    writer = await driver.writer("/r/_uploads/id/data")
    await writer.write(b"partial")
    await writer.close()
    await driver.put_content("/r/_uploads/id/startedat", b"now")
    await driver.delete("/r/_uploads/id")
    assert _uploads(seaweedfs_server, driver) == []
    with pytest.raises(PathNotFound):
        await driver.writer("/r/_uploads/id/data", append=True)
    listed = seaweedfs_server.client().list_objects_v2(
        Bucket=seaweedfs_server.bucket, Prefix=driver.options.rootdirectory + "/"
    )
    assert [o["Key"] for o in listed.get("Contents", [])] == [
        f"{driver.options.rootdirectory}/e/empty"
    ]
    # only an uncommitted writer below a path still counts as something to delete
    writer = await driver.writer("/only/pending")
    await writer.close()
    await driver.delete("/only")
    with pytest.raises(PathNotFound):
        await driver.delete("/only")
