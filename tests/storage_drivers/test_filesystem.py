"""Filesystem-only behaviour: on-disk layout, hidden helper files, root containment,
options, and blocking calls kept off the event loop."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storage_drivers.errors import InvalidPath, PathNotFound, StorageDriverError
from storage_drivers.filesystem import FilesystemDriver
from storage_drivers.testsuite.data import leave_pending, read_all, walk_paths


def root_of(d: FilesystemDriver) -> Path:
    return Path(d.root_directory)


async def test_layout_maps_driver_paths_to_files(fs: FilesystemDriver) -> None:
    await fs.put_content("/a/b", b"content")
    assert (root_of(fs) / "a" / "b").read_bytes() == b"content"
    w = await fs.writer("/docker/registry/v2/blobs/sha256/ab/abcd/data")
    await w.write(b"blob")
    await w.commit()
    assert (root_of(fs) / "docker/registry/v2/blobs/sha256/ab/abcd/data").read_bytes() == b"blob"


async def test_existing_tree_is_served_as_is(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    link = root / "docker/registry/v2/repositories/lib/app/_layers/sha256/abc/link"
    link.parent.mkdir(parents=True)
    link.write_bytes(b"sha256:abc")
    (root / "docker/registry/v2/blobs/sha256/ab/abc").mkdir(parents=True)
    (root / "docker/registry/v2/blobs/sha256/ab/abc/data").write_bytes(b"layer")
    d = FilesystemDriver(rootdirectory=str(root))
    path = "/docker/registry/v2/repositories/lib/app/_layers/sha256/abc/link"
    assert await d.get_content(path) == b"sha256:abc"
    assert await d.list("/docker/registry/v2") == [
        "/docker/registry/v2/blobs",
        "/docker/registry/v2/repositories",
    ]
    assert await read_all(d, "/docker/registry/v2/blobs/sha256/ab/abc/data", 2) == b"yer"
    await d.close()


async def test_missing_root_is_empty_and_created_on_write(tmp_path: Path) -> None:
    d = FilesystemDriver(rootdirectory=str(tmp_path / "not" / "yet"))
    assert await d.list("/") == []
    assert await walk_paths(d, "/") == []
    with pytest.raises(PathNotFound):
        await d.stat("/x")
    await d.put_content("/x", b"1")
    assert (tmp_path / "not" / "yet" / "x").read_bytes() == b"1"
    await d.close()


async def test_writer_data_lives_in_a_hidden_sidecar(fs: FilesystemDriver) -> None:
    await leave_pending(fs, "/up/data", b"x" * 3_000_000)
    names = os.listdir(root_of(fs) / "up")
    assert len(names) == 1 and names[0].startswith(".") and names[0] != "data"
    assert (root_of(fs) / "up" / names[0]).stat().st_size == 3_000_000
    assert not (root_of(fs) / "up" / "data").exists()
    assert await fs.list("/up") == []
    w = await fs.writer("/up/data", append=True)
    await w.commit()
    assert os.listdir(root_of(fs) / "up") == ["data"]


async def test_put_content_leaves_no_temporary_files(fs: FilesystemDriver) -> None:
    for i in range(5):
        await fs.put_content("/d/f", b"v%d" % i)
    assert os.listdir(root_of(fs) / "d") == ["f"]


async def test_empty_directories_are_kept_after_delete(fs: FilesystemDriver) -> None:
    await fs.put_content("/a/b/c", b"1")
    await fs.delete("/a/b/c")
    assert (root_of(fs) / "a" / "b").is_dir()
    assert await fs.list("/a/b") == []


async def test_unaddressable_entries_are_not_listed(fs: FilesystemDriver) -> None:
    await fs.put_content("/d/ok", b"1")
    (root_of(fs) / "d" / "has space").write_bytes(b"x")
    (root_of(fs) / "d" / "tilde~").write_bytes(b"x")
    assert await fs.list("/d") == ["/d/ok"]
    assert await walk_paths(fs, "/") == ["/d", "/d/ok"]


async def test_errors_are_driver_errors(fs: FilesystemDriver) -> None:
    await fs.put_content("/file", b"1")
    with pytest.raises(StorageDriverError) as info:
        await fs.put_content("/file/below", b"2")
    assert not isinstance(info.value, InvalidPath)
    await fs.put_content("/dir/x", b"1")
    w = await fs.writer("/dir")
    await w.write(b"onto a directory")
    with pytest.raises(StorageDriverError):
        await w.commit()
    assert await fs.get_content("/dir/x") == b"1"


# --- root containment ------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    out = tmp_path / "outside"
    out.mkdir()
    (out / "secret").write_bytes(b"do not read")
    return out


async def test_symlinked_directory_out_of_root_is_refused(
    fs: FilesystemDriver, outside: Path
) -> None:
    await fs.put_content("/ok", b"1")
    (root_of(fs) / "link").symlink_to(outside, target_is_directory=True)
    attempts = [
        fs.get_content("/link/secret"),
        fs.reader("/link/secret"),
        fs.stat("/link/secret"),
        fs.stat("/link"),
        fs.list("/link"),
        walk_paths(fs, "/link"),
        fs.put_content("/link/new", b"x"),
        fs.writer("/link/new"),
        fs.writer("/link/secret", append=True),
        fs.move("/ok", "/link/moved"),
        fs.move("/link/secret", "/stolen"),
        fs.delete("/link/secret"),
        fs.delete("/link"),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidPath):
            await attempt
    assert sorted(os.listdir(outside)) == ["secret"]
    assert (outside / "secret").read_bytes() == b"do not read"
    assert await fs.list("/") == ["/ok"]
    assert await walk_paths(fs, "/") == ["/ok"]


async def test_new_directories_under_verified_ones_are_checked_too(
    fs: FilesystemDriver, outside: Path
) -> None:
    """A directory met for the first time is checked through its verified parent: a real
    directory passes, a symlink (even one deep in new real directories) does not."""
    await fs.put_content("/d/f", b"1")  # /d is now verified
    (root_of(fs) / "d" / "new" / "deeper").mkdir(parents=True)
    await fs.put_content("/d/new/deeper/g", b"2")
    assert await fs.get_content("/d/new/deeper/g") == b"2"
    (root_of(fs) / "d" / "new" / "deeper" / "away").symlink_to(outside)
    (root_of(fs) / "d" / "away").symlink_to(outside)
    for path in ("/d/away/secret", "/d/new/deeper/away/secret"):
        with pytest.raises(InvalidPath):
            await fs.get_content(path)
        with pytest.raises(InvalidPath):
            await fs.put_content(path.replace("secret", "planted"), b"x")
    assert sorted(os.listdir(outside)) == ["secret"]


async def test_missing_directories_below_a_dangling_symlink_are_refused(
    fs: FilesystemDriver, outside: Path
) -> None:
    """A directory not there yet is inside when nothing is at its path up to a verified
    ancestor; a dangling symlink on the way (its target outside, not created yet) is not."""
    await fs.put_content("/d/f", b"1")
    await fs.put_content("/d/new/deeper/g", b"2")  # several missing levels: created
    assert await fs.get_content("/d/new/deeper/g") == b"2"
    (root_of(fs) / "d" / "away").symlink_to(outside / "later", target_is_directory=True)
    for path in ("/d/away/x", "/d/away/more/x"):
        with pytest.raises(InvalidPath):
            await fs.put_content(path, b"x")
        with pytest.raises(InvalidPath):
            await fs.writer(path)
    assert sorted(os.listdir(outside)) == ["secret"]


async def test_symlinked_file_out_of_root_is_refused(fs: FilesystemDriver, outside: Path) -> None:
    (root_of(fs) / "d").mkdir(parents=True)
    (root_of(fs) / "d" / "f").symlink_to(outside / "secret")
    (root_of(fs) / "d" / "dangling").symlink_to(outside / "created")
    with pytest.raises(InvalidPath):
        await fs.get_content("/d/f")
    with pytest.raises(InvalidPath):
        await fs.put_content("/d/f", b"overwrite")
    with pytest.raises(InvalidPath):
        await fs.put_content("/d/dangling", b"x")
    w_attempt = fs.writer("/d/dangling")
    with pytest.raises(InvalidPath):
        await w_attempt
    assert sorted(os.listdir(outside)) == ["secret"]
    assert (outside / "secret").read_bytes() == b"do not read"


async def test_directory_swapped_for_an_escaping_symlink_is_refused(
    fs: FilesystemDriver, outside: Path
) -> None:
    """The containment check remembers verified directories; swapping one for a symlink
    out of the root after it was used must still be caught."""
    await fs.put_content("/d/inside", b"1")
    assert await fs.get_content("/d/inside") == b"1"  # /d is now known to be inside
    w = await fs.writer("/d/pending")
    await w.close()
    real = root_of(fs) / "d"
    for child in real.iterdir():
        child.unlink()
    real.rmdir()
    real.symlink_to(outside, target_is_directory=True)
    attempts = [
        fs.get_content("/d/secret"),
        fs.stat("/d/secret"),
        fs.put_content("/d/new", b"x"),
        fs.put_content("/d/secret", b"x"),
        fs.writer("/d/new"),
        fs.writer("/d/pending", append=True),
        fs.delete("/d/secret"),
        fs.move("/d/secret", "/stolen"),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidPath):
            await attempt
    assert sorted(os.listdir(outside)) == ["secret"]
    assert (outside / "secret").read_bytes() == b"do not read"


async def test_escaping_sidecar_symlink_is_refused(fs: FilesystemDriver, outside: Path) -> None:
    await fs.put_content("/d/x", b"1")
    (root_of(fs) / "d" / ".w~partial").symlink_to(outside / "secret")
    with pytest.raises(InvalidPath):
        await fs.writer("/d/w", append=True)
    with pytest.raises(InvalidPath):
        await fs.writer("/d/w")
    assert (outside / "secret").read_bytes() == b"do not read"


async def test_move_below_a_file_is_a_driver_error(fs: FilesystemDriver) -> None:
    await fs.put_content("/file", b"1")
    await fs.put_content("/src", b"2")
    with pytest.raises(StorageDriverError) as info:
        await fs.move("/src", "/file/below")
    assert not isinstance(info.value, (InvalidPath, PathNotFound))
    assert await fs.get_content("/src") == b"2"
    with pytest.raises(PathNotFound):
        await fs.move("/missing", "/new/place")
    await fs.move("/src", "/new/deep/place")  # missing parents are created
    assert await fs.get_content("/new/deep/place") == b"2"


async def test_symlinks_inside_root_are_followed(tmp_path: Path) -> None:
    real = tmp_path / "real-root"
    (tmp_path / "root-link").symlink_to(real, target_is_directory=True)
    d = FilesystemDriver(rootdirectory=str(tmp_path / "root-link"))
    await d.put_content("/data/f", b"inside")
    (real / "alias").symlink_to(real / "data", target_is_directory=True)
    assert await d.get_content("/alias/f") == b"inside"
    assert await d.list("/alias") == ["/alias/f"]
    assert (real / "data" / "f").read_bytes() == b"inside"
    await d.close()


# --- options ---------------------------------------------------------------------------


def test_defaults() -> None:
    d = FilesystemDriver()
    assert d.root_directory == os.path.realpath("/var/lib/registry")
    assert d.max_threads == 100


@pytest.mark.parametrize(
    ("value", "expected"),
    [(50, 50), ("50", 50), (" 200 ", 200), ("0x20", 32), (10, 25), ("3", 25), (0, 25), (-5, 25)],
)
def test_maxthreads(tmp_path: Path, value: int | str, expected: int) -> None:
    d = FilesystemDriver.from_parameters({"rootdirectory": str(tmp_path), "maxthreads": value})
    assert d.max_threads == expected


@pytest.mark.parametrize("value", ["many", "1.5", ""])
def test_bad_maxthreads_string(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValueError, match="maxthreads"):
        FilesystemDriver.from_parameters({"rootdirectory": str(tmp_path), "maxthreads": value})


@pytest.mark.parametrize("value", [1.5, True, [4]])
def test_bad_maxthreads_type(tmp_path: Path, value: object) -> None:
    with pytest.raises(TypeError, match="maxthreads"):
        FilesystemDriver.from_parameters({"rootdirectory": str(tmp_path), "maxthreads": value})


def test_unknown_parameter_is_named(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="rootdir"):
        FilesystemDriver.from_parameters({"rootdir": str(tmp_path)})


def test_empty_root_is_refused() -> None:
    with pytest.raises(ValueError, match="rootdirectory"):
        FilesystemDriver.from_parameters({"rootdirectory": ""})


async def test_writer_keeps_many_small_pieces_in_order(fs: FilesystemDriver) -> None:
    """The buffered pieces go out with writev, more than IOV_MAX of them here."""
    pieces = [bytes([i % 251]) * (i % 7 + 1) for i in range(3000)]
    writer = await fs.writer("/many")
    for piece in pieces:
        await writer.write(piece)
    await writer.write(b"z" * (1 << 20))  # past the buffer: flushed before the commit
    await writer.commit()
    assert await fs.get_content("/many") == b"".join(pieces) + b"z" * (1 << 20)


@pytest.mark.parametrize("alike", [0, 40])
async def test_delete_many_removes_unlike_siblings_and_sidecars(
    fs: FilesystemDriver, outside: Path, alike: int
) -> None:
    """A batch guesses each directory's files from its sibling's (``batch.py``): a sibling
    that differs, nests, or is a symlink is still removed exactly, and nothing outside;
    with few children of a parent (each looked up) and with many (the parent listed)."""
    names = [f"s{n}/data" for n in range(alike)]
    for name in [*names, "a/data", "b/data", "c/other", "d/x/y", "e/data", "keep/data"]:
        await fs.put_content(f"/g/{name}", b"1")
    (root_of(fs) / "g" / "e" / "more").write_bytes(b"2")
    (root_of(fs) / "g" / ".f~partial").write_bytes(b"uncommitted")
    (root_of(fs) / "g" / "inside").symlink_to(root_of(fs) / "g" / "keep")
    doomed = [f"/g/{name.split('/')[0]}" for name in names]
    doomed += ["/g/a", "/g/b", "/g/c", "/g/d", "/g/e", "/g/f", "/g/inside", "/g/none", "/g/a"]
    assert list(await fs.delete_many(doomed)) == [True] * (alike + 7) + [False, False]
    assert sorted(os.listdir(root_of(fs) / "g")) == ["keep"]
    assert (root_of(fs) / "g" / "keep" / "data").read_bytes() == b"1"
    (root_of(fs) / "g" / "away").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidPath):
        await fs.delete_many(["/g/away"])
    with pytest.raises(InvalidPath):
        await fs.delete_many(["/g/away/secret"])
    assert (outside / "secret").read_bytes() == b"do not read"
