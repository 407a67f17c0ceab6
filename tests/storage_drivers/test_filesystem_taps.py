"""A writer's batch and its tap (an upload's running hash): where cores are to spare a big
batch is hashed on a thread of its own while it is written, a small one (and every batch
on fewer cores) on the writer's thread; either way the tap has seen every piece, in
order, by the time the write returns, even a failed one."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import httpx
import pytest

from pyregistry.workers import default_workers
from storage_drivers.cpus import usable_cores
from storage_drivers.filesystem import FilesystemDriver, taps
from storage_drivers.filesystem.taps import GROUP_SIZE, SPLIT_SIZE, THREAD_NAME, tap_and_write


@pytest.fixture
def split(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine with cores to spare (this one may have two)."""
    monkeypatch.setattr(taps, "split_allowed", True)


@pytest.fixture
def unsplit(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine with fewer than :data:`taps.SPLIT_CORES` cores."""
    monkeypatch.setattr(taps, "split_allowed", False)


class Recorder:
    """A tap that hashes what it is shown and notes the threads it ran on."""

    def __init__(self) -> None:
        self.hasher = hashlib.sha256()
        self.threads: set[str] = set()
        self.seen = 0

    def __call__(self, piece: bytes) -> None:
        self.threads.add(threading.current_thread().name)
        self.hasher.update(piece)
        self.seen += 1


def pieces(count: int, size: int) -> list[bytes]:
    return [os.urandom(size) for _ in range(count)]


def written(path: Path, data: list[bytes], tap: Recorder, tapped: int = 0) -> None:
    """``tap_and_write`` of ``data`` to a new file at ``path``; the file holds the data and
    the tap hashed all of it (with what it was shown before, ``tapped`` pieces)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        tap_and_write(fd, data, tap, tapped)
    finally:
        os.close(fd)
    assert path.read_bytes() == b"".join(data)
    assert tap.hasher.hexdigest() == hashlib.sha256(b"".join(data)).hexdigest()


@pytest.mark.usefixtures("split")
@pytest.mark.parametrize(
    ("count", "size", "on_pool"),
    [(4, SPLIT_SIZE // 2, True), (1, SPLIT_SIZE, True), (3, GROUP_SIZE // 4, False)],
)
def test_every_piece_is_seen_in_order_and_written(
    tmp_path: Path, count: int, size: int, on_pool: bool
) -> None:
    tap = Recorder()
    written(tmp_path / "blob", pieces(count, size), tap)
    pooled = {name for name in tap.threads if name.startswith(THREAD_NAME)}
    assert bool(pooled) == on_pool, tap.threads
    if not on_pool:
        assert tap.threads == {threading.current_thread().name}


@pytest.mark.usefixtures("unsplit")
def test_on_few_cores_a_big_batch_is_seen_on_the_writers_thread(tmp_path: Path) -> None:
    tap = Recorder()
    written(tmp_path / "blob", pieces(4, SPLIT_SIZE), tap)
    assert tap.threads == {threading.current_thread().name}


@pytest.mark.usefixtures("split")
def test_pieces_the_tap_has_seen_are_written_not_shown_again(tmp_path: Path) -> None:
    data = pieces(3, SPLIT_SIZE)
    tap = Recorder()
    tap(data[0])  # seen on the loop earlier
    written(tmp_path / "blob", data, tap, tapped=1)
    assert tap.seen == 3


@pytest.mark.usefixtures("split")
def test_a_failed_write_raises_after_the_tap_is_done(tmp_path: Path) -> None:
    data = pieces(8, SPLIT_SIZE)
    tap = Recorder()
    fd = os.open(tmp_path / "blob", os.O_RDONLY | os.O_CREAT)  # a write fails: EBADF
    try:
        with pytest.raises(OSError, match="Bad file descriptor"):
            tap_and_write(fd, data, tap, 0)
        seen_when_raised = tap.seen
    finally:
        os.close(fd)
    assert seen_when_raised == len(data)


@pytest.mark.usefixtures("split")
async def test_a_big_upload_is_hashed_beside_its_writes(fs: FilesystemDriver) -> None:
    """Through the driver's writer: 1 MiB pieces (a mirror's) hash on the tap pool."""
    data = pieces(6, 1024 * 1024)
    tap = Recorder()
    writer = await fs.writer("/w/data")
    assert writer.observe(tap)
    for piece in data:
        await writer.write(piece)
    await writer.observed()
    await writer.commit()
    assert tap.hasher.hexdigest() == hashlib.sha256(b"".join(data)).hexdigest()
    assert any(name.startswith(THREAD_NAME) for name in tap.threads), tap.threads
    assert await fs.get_content("/w/data") == b"".join(data)


@pytest.mark.usefixtures("split")
def test_pushes_over_http_are_verified_by_the_split_hash(
    fs_registry_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real server (filesystem storage): a big push is hashed on the tap pool, lands
    under its digest, and one sent under the wrong digest is refused."""
    shown: list[int] = []
    show = taps._show

    def counting(tap: taps.Tap, batch: list[bytes]) -> None:
        shown.append(sum(map(len, batch)))
        show(tap, batch)

    monkeypatch.setattr(taps, "_show", counting)
    data = os.urandom(8 * 1024 * 1024)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with httpx.Client(base_url=fs_registry_server, timeout=60) as client:
        for sent_as in ("sha256:" + "0" * 64, digest):
            started = client.post("/v2/taps/big/blobs/uploads/")
            assert started.status_code == 202
            done = client.put(started.headers["location"], params={"digest": sent_as}, content=data)
            if sent_as != digest:
                assert done.status_code == 400
                assert done.json()["errors"][0]["code"] == "DIGEST_INVALID"
        assert done.status_code == 201
        assert client.get(f"/v2/taps/big/blobs/{digest}").content == data
    assert sum(shown) >= 2 * (len(data) - SPLIT_SIZE)  # both pushes, all but their tails


def test_split_where_cores_are_to_spare_quota_counted() -> None:
    """The default: split from :data:`taps.SPLIT_CORES` usable cores (affinity, capped
    by a container's CPU quota, as the worker count is)."""
    assert taps.split_allowed == (usable_cores() >= taps.SPLIT_CORES)
    assert usable_cores() == default_workers()
