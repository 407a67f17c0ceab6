"""Blobs sent from mappings of their files (``storage_drivers/filesystem/mapping.py``):
the chunks of ``send_reader`` are views of the page cache on a local mount, the same
bytes as ``reader``'s, ranges included; a file that shrank is read, not mapped; a mount
the table calls a network filesystem (or does not name) is never mapped; and a blob
pulled over HTTP from a real server arrives whole."""

from __future__ import annotations

import hashlib
import mmap
import os
from pathlib import Path

import httpx
import pytest

from pyregistry.app import create_app
from pyregistry.embedding.options import config_from_mapping
from storage_drivers.filesystem import FilesystemDriver, mounts
from tests.support.server import run_server

MiB = 1024 * 1024
CONTENT = os.urandom(3 * MiB + 12345)


async def _collect(driver: FilesystemDriver, offset: int = 0, length: int | None = None) -> list:
    chunks = await driver.send_reader("/blob/data", offset, length)
    return [chunk async for chunk in chunks]


@pytest.fixture
async def driver(tmp_path: Path) -> FilesystemDriver:
    driver = FilesystemDriver(tmp_path / "root")
    await driver.put_content("/blob/data", CONTENT)
    return driver


async def test_big_chunks_are_views_of_the_file(driver: FilesystemDriver) -> None:
    assert driver.maps, f"{driver.root_directory} is on a local mount: mapped"
    chunks = await _collect(driver)
    assert any(isinstance(chunk, memoryview) for chunk in chunks)
    assert b"".join(chunks) == CONTENT
    plain = [chunk async for chunk in await driver.reader("/blob/data")]
    assert all(isinstance(chunk, bytes) for chunk in plain)  # reader() still copies


@pytest.mark.parametrize(
    ("offset", "length"), [(1, None), (MiB - 7, 2 * MiB + 3), (3 * MiB, None), (5, 10)]
)
async def test_ranges_read_the_same_bytes(
    driver: FilesystemDriver, offset: int, length: int | None
) -> None:
    end = None if length is None else offset + length
    assert b"".join(await _collect(driver, offset, length)) == CONTENT[offset:end]


async def test_a_file_that_shrank_is_read_not_mapped(driver: FilesystemDriver) -> None:
    chunks = await driver.send_reader("/blob/data")
    first = await chunks.__anext__()
    assert isinstance(first, memoryview) and first == CONTENT[:MiB]
    os.truncate(Path(driver.root_directory) / "blob/data", MiB + 100)
    rest = [chunk async for chunk in chunks]
    assert all(isinstance(chunk, bytes) for chunk in rest)  # past the end: pread
    assert b"".join(rest) == CONTENT[MiB : MiB + 100]


def test_network_and_unknown_mounts_are_not_mapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    device = os.stat(tmp_path).st_dev
    major, minor = os.major(device), os.minor(device)
    table = tmp_path / "mountinfo"
    monkeypatch.setattr(mounts, "MOUNTINFO", str(table))
    line = f"36 35 {major}:{minor} / {tmp_path} rw,relatime shared:1 - {{}} server:/x rw\n"
    for fstype, mapped in (("nfs4", False), ("fuse.s3fs", False), ("xfs", True)):
        table.write_text(line.format(fstype))
        assert mounts.maps_safely(str(tmp_path)) is mapped, fstype
        assert FilesystemDriver(tmp_path / "root").maps is mapped, fstype
    table.write_text("")  # a mount the table does not name
    assert not mounts.maps_safely(str(tmp_path))


def test_a_blob_pulled_over_http_arrives_whole(tmp_path: Path) -> None:
    document = {"storage": {"filesystem": {"rootdirectory": str(tmp_path / "registry")}}}
    with run_server(create_app(config_from_mapping(document))) as url:
        digest = "sha256:" + hashlib.sha256(CONTENT).hexdigest()
        started = httpx.post(f"{url}/v2/team/app/blobs/uploads/?digest={digest}", content=CONTENT)
        assert started.status_code == 201, started.text
        whole = httpx.get(f"{url}/v2/team/app/blobs/{digest}", timeout=30)
        assert whole.status_code == 200 and whole.content == CONTENT
        ranged = httpx.get(
            f"{url}/v2/team/app/blobs/{digest}", headers={"Range": "bytes=1000-2200000"}
        )
        assert ranged.status_code == 206 and ranged.content == CONTENT[1000:2200001]


async def test_a_refused_mapping_is_read_instead(
    driver: FilesystemDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(mmap, "mmap", refuse)  # the kernel says no
    chunks = await _collect(driver)
    assert all(isinstance(chunk, bytes) for chunk in chunks)
    assert b"".join(chunks) == CONTENT
