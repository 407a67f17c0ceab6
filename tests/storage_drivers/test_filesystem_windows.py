"""A blob sent in mapped windows (``storage_drivers/filesystem/sending.py``): a lone
stream's windows grow from 1 MiB to 16, the streams of a process share a budget of mapped
bytes, the chunks handed on stay views of at most 1 MiB holding the file's bytes, and a
stream leaves the budget however it ends."""

from __future__ import annotations

import gc
import hashlib
import os
from pathlib import Path

import httpx
import pytest

from pyregistry.app import create_app
from pyregistry.embedding.options import config_from_mapping
from storage_drivers.filesystem import FilesystemDriver, mapping, sending
from storage_drivers.filesystem.sending import MAPPED_BUDGET, MappedWindows
from tests.support.server import run_server

MiB = 1024 * 1024
CONTENT = os.urandom(40 * MiB + 4321)


def _sizes(windows: MappedWindows, count: int) -> list[int]:
    sizes, last = [], 0
    for _ in range(count):
        last = windows.next_size(last)
        sizes.append(last // MiB)
    return sizes


def test_a_lone_stream_doubles_its_window_up_to_the_largest() -> None:
    windows = MappedWindows()
    windows.joined()
    assert _sizes(windows, 7) == [1, 2, 4, 8, 16, 16, 16]


def test_streams_share_the_budget_in_whole_mebibytes() -> None:
    windows = MappedWindows()
    for streams, largest in ((2, 16), (3, 10), (4, 8), (8, 4), (20, 1), (500, 1)):
        while windows.streams < streams:
            windows.joined()
        assert max(_sizes(windows, 8)) == largest, streams
        assert largest * MiB * streams <= max(MAPPED_BUDGET, streams * MiB)


@pytest.fixture
async def driver(tmp_path: Path) -> FilesystemDriver:
    driver = FilesystemDriver(tmp_path / "root")
    await driver.put_content("/blob/data", CONTENT)
    assert driver.maps, f"{driver.root_directory} is on a local mount: mapped"
    return driver


async def test_windows_are_mapped_whole_and_handed_on_in_mebibytes(
    driver: FilesystemDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[int] = []
    real = mapping.map_or_read

    def recorded(fd: int, length: int, offset: int) -> bytes | memoryview:
        asked.append(length)
        return real(fd, length, offset)

    monkeypatch.setattr(sending, "map_or_read", recorded)
    chunks = [chunk async for chunk in await driver.send_reader("/blob/data")]
    assert b"".join(chunks) == CONTENT
    assert all(len(chunk) <= MiB for chunk in chunks)
    assert all(isinstance(chunk, memoryview) for chunk in chunks[:-1])
    # 1 + 2 + 4 + 8 + 16 MiB, then the 9 MiB and 4321 bytes left: six hops, not 41
    assert asked == [MiB, 2 * MiB, 4 * MiB, 8 * MiB, 16 * MiB, 9 * MiB + 4321]


@pytest.mark.parametrize(
    ("offset", "length"),
    [(MiB - 1, 3 * MiB + 2), (7 * MiB + 5, None), (len(CONTENT) - 10, None), (3, 1)],
)
async def test_ranges_across_windows_read_the_same_bytes(
    driver: FilesystemDriver, offset: int, length: int | None
) -> None:
    end = None if length is None else offset + length
    chunks = [chunk async for chunk in await driver.send_reader("/blob/data", offset, length)]
    assert b"".join(chunks) == CONTENT[offset:end]


async def test_a_stream_leaves_the_budget_however_it_ends(driver: FilesystemDriver) -> None:
    windows = driver._windows
    finished = await driver.send_reader("/blob/data")
    closed = await driver.send_reader("/blob/data")
    dropped = await driver.send_reader("/blob/data", 5)
    assert windows.streams == 3
    async for _ in finished:
        pass
    await closed.__anext__()
    await closed.aclose()  # type: ignore[attr-defined]
    await dropped.__anext__()
    del dropped
    gc.collect()
    assert windows.streams == 0


def test_a_big_blob_pulled_over_http_arrives_whole(tmp_path: Path) -> None:
    document = {"storage": {"filesystem": {"rootdirectory": str(tmp_path / "registry")}}}
    with run_server(create_app(config_from_mapping(document))) as url:
        digest = "sha256:" + hashlib.sha256(CONTENT).hexdigest()
        stored = httpx.post(
            f"{url}/v2/team/app/blobs/uploads/?digest={digest}", content=CONTENT, timeout=60
        )
        assert stored.status_code == 201, stored.text
        whole = httpx.get(f"{url}/v2/team/app/blobs/{digest}", timeout=60)
        assert whole.status_code == 200 and whole.content == CONTENT
        # across the 1, 2, 4 and 8 MiB windows' edges
        ranged = httpx.get(
            f"{url}/v2/team/app/blobs/{digest}",
            headers={"Range": f"bytes={MiB - 3}-{15 * MiB + 2}"},
            timeout=60,
        )
        assert ranged.status_code == 206 and ranged.content == CONTENT[MiB - 3 : 15 * MiB + 3]
