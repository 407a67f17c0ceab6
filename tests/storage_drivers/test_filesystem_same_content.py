"""``put_content`` of what a file already holds: the file is kept and its time moves.

A manifest or tag pushed again, a blob mounted again, write link files that hold the
same bytes already; the driver then skips the new file, fsync and rename, but the
modification time still moves, since collection's grace and retention's "pushed at"
read it.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import httpx

from storage_drivers.filesystem import FilesystemDriver
from storage_drivers.filesystem.ops import SAME_CONTENT_LIMIT
from tests.api.helpers import push_image

OLD = 1_000_000_000.0  # 2001: any time this test writes is later


def _aged(path: Path) -> os.stat_result:
    os.utime(path, (OLD, OLD))
    return path.stat()


async def test_same_content_keeps_the_file_and_moves_its_time(fs: FilesystemDriver) -> None:
    await fs.put_content("/a/link", b"sha256:abc")
    path = Path(fs.root_directory) / "a" / "link"
    before = _aged(path)
    await fs.put_content("/a/link", b"sha256:abc")
    after = path.stat()
    assert after.st_ino == before.st_ino
    assert after.st_mtime > time.time() - 60
    assert abs((await fs.stat("/a/link")).mod_time.timestamp() - after.st_mtime) < 0.001
    assert path.read_bytes() == b"sha256:abc"


async def test_other_content_of_the_same_size_is_written(fs: FilesystemDriver) -> None:
    await fs.put_content("/a/link", b"sha256:abc")
    path = Path(fs.root_directory) / "a" / "link"
    before = _aged(path)
    await fs.put_content("/a/link", b"sha256:abd")
    assert path.read_bytes() == b"sha256:abd"
    assert path.stat().st_ino != before.st_ino


async def test_longer_and_shorter_content_is_written(fs: FilesystemDriver) -> None:
    await fs.put_content("/a/link", b"sha256:abc")
    path = Path(fs.root_directory) / "a" / "link"
    await fs.put_content("/a/link", b"sha256:abcd")
    assert path.read_bytes() == b"sha256:abcd"
    await fs.put_content("/a/link", b"sha256:ab")
    assert path.read_bytes() == b"sha256:ab"


async def test_large_content_is_written_again(fs: FilesystemDriver) -> None:
    big = b"m" * (SAME_CONTENT_LIMIT + 1)
    await fs.put_content("/a/big", big)
    path = Path(fs.root_directory) / "a" / "big"
    before = _aged(path)
    await fs.put_content("/a/big", big)
    assert path.stat().st_ino != before.st_ino
    assert path.read_bytes() == big


async def test_a_fifo_at_the_path_is_replaced_not_waited_on(fs: FilesystemDriver) -> None:
    await fs.put_content("/a/link", b"x")
    path = Path(fs.root_directory) / "a" / "link"
    path.unlink()
    os.mkfifo(path)
    await asyncio.wait_for(fs.put_content("/a/link", b"sha256:abc"), 10)
    assert path.is_file() and path.read_bytes() == b"sha256:abc"


async def test_same_content_in_put_contents_too(fs: FilesystemDriver) -> None:
    await fs.put_contents({"/r/one": b"1", "/r/two": b"2"})
    root = Path(fs.root_directory)
    one, two = _aged(root / "r" / "one"), _aged(root / "r" / "two")
    await fs.put_contents({"/r/one": b"1", "/r/two": b"3", "/r/three": b"3"})
    assert (root / "r" / "one").stat().st_ino == one.st_ino
    assert (root / "r" / "one").stat().st_mtime > OLD
    assert (root / "r" / "two").stat().st_ino != two.st_ino
    assert [(root / "r" / n).read_bytes() for n in ("one", "two", "three")] == [b"1", b"3", b"3"]


def test_a_manifest_pushed_again_renews_its_links(fs_registry_server: str, tmp_path: Path) -> None:
    """Over a real socket: the second PUT of the same manifest and tag answers 201, keeps
    the link files and moves their times (what collection and retention read)."""
    repository = tmp_path / "storage" / "docker/registry/v2/repositories/same/app"
    with httpx.Client(base_url=fs_registry_server) as client:
        digest, manifest = push_image(client, "same/app", "v1")
        algorithm, hex_digest = digest.split(":")
        links = [
            repository / "_manifests/revisions" / algorithm / hex_digest / "link",
            repository / "_manifests/tags/v1/current/link",
            repository / "_manifests/tags/v1/index" / algorithm / hex_digest / "link",
        ]
        before = [_aged(link) for link in links]
        again = client.put(
            "/v2/same/app/manifests/v1",
            content=manifest,
            headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
        )
        assert again.status_code == 201, again.text
        assert again.headers["docker-content-digest"] == digest
        after = [link.stat() for link in links]
        assert [s.st_ino for s in after] == [s.st_ino for s in before]
        assert all(s.st_mtime > time.time() - 60 for s in after)
        assert all(link.read_bytes() == digest.encode() for link in links)
        pulled = client.get(
            "/v2/same/app/manifests/v1",
            headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        )
        assert pulled.status_code == 200 and pulled.content == manifest
