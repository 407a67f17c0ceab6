"""Saved hash states: the chunks of one upload reach two registries sharing a root (two
workers, two instances), and each takes up the running hash the other saved, in
distribution's format, instead of the commit hashing the whole upload again."""

from __future__ import annotations

import hashlib
import random
import struct
from pathlib import Path

import httpx
import pytest

from pyregistry.storage import Digest
from pyregistry.storage.hash_states import STATE_EVERY
from pyregistry.storage.resumable_hash import ResumableHash, fed, new_running_hash, restore
from tests.support.pyregistry_target import run_pyregistry

MIB = 1024 * 1024
SIZES = (0, 1, 55, 63, 64, 65, 111, 127, 128, 129, 4095, 100_003)


def _data(seed: str, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
@pytest.mark.parametrize("size", SIZES)
def test_a_state_taken_up_hashes_on_as_if_never_saved(algorithm: str, size: int) -> None:
    first, more = _data(f"a{size}", size), _data(f"b{size}", 1000)
    hasher = new_running_hash(algorithm)
    assert isinstance(hasher, ResumableHash), "libcrypto's SHA functions must load here"
    hasher.update(first)
    assert hasher.hexdigest() == hashlib.new(algorithm, first).hexdigest()
    hasher.update(b"")  # hexdigest did not end the hash
    state = hasher.state()
    assert fed(state) == size
    taken = restore(algorithm, state)
    assert taken is not None
    taken.update(more)
    assert taken.hexdigest() == hashlib.new(algorithm, first + more).hexdigest()
    assert restore("sha512" if algorithm == "sha256" else "sha256", state) is None


def test_the_state_is_laid_out_as_go_writes_it() -> None:
    hasher = new_running_hash("sha256")
    assert isinstance(hasher, ResumableHash)
    hasher.update(b"abc")
    state = hasher.state()
    # "sha\x03", the eight chaining words (the initial ones: no block is complete), the
    # pending block padded to 64 bytes, the byte count; all big-endian
    assert len(state) == 108
    assert state[:4] == b"sha\x03"
    assert struct.unpack(">8I", state[4:36])[0] == 0x6A09E667
    assert state[36:100] == b"abc".ljust(64, b"\0")
    assert struct.unpack(">Q", state[100:]) == (3,)
    wide = new_running_hash("sha512")
    assert isinstance(wide, ResumableHash)
    assert len(wide.state()) == 204 and wide.state()[:4] == b"sha\x07"
    assert restore("sha256", state[:-1]) is None
    assert restore("sha256", b"sha\x02" + state[4:]) is None


def _on(url: str, location: str) -> httpx.URL:
    """The upload's ``location`` (an absolute URL, of the registry that answered) on the
    registry at ``url``."""
    return httpx.URL(url).join(httpx.URL(location).raw_path.decode())


def _patch(client: httpx.Client, url: str, location: str, data: bytes, start: int) -> str:
    sent = client.patch(
        _on(url, location),
        content=data,
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{start}-{start + len(data) - 1}",
        },
    )
    assert sent.status_code == 202, sent.text
    return str(sent.headers["location"])


def _states(root: Path, repository: str) -> list[int]:
    uploads = root / "docker/registry/v2/repositories" / repository / "_uploads"
    return sorted(int(path.name) for path in uploads.glob("*/hashstates/sha256/*"))


def test_chunks_alternating_between_two_registries_take_up_each_others_hash(
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    chunks = [_data(f"c{n}", 5 * MIB) for n in range(3)]
    last = _data("last", 100_000)
    digest = Digest.from_bytes(b"".join(chunks) + last)
    with (
        run_pyregistry(root) as (_, a),
        run_pyregistry(root) as (_, b),
        httpx.Client(timeout=60) as client,
    ):
        location = client.post(f"{a}/v2/team/app/blobs/uploads/").headers["location"]
        offset = 0
        for chunk, server in zip(chunks, (a, b, a), strict=True):
            location = _patch(client, server, location, chunk, offset)
            offset += len(chunk)
            assert _states(root, "team/app")[-1] == offset  # each saved where it stopped
        done = client.put(_on(b, location), params={"digest": str(digest)}, content=last)
        assert done.status_code == 201, done.text
        got = client.get(f"{a}/v2/team/app/blobs/{digest}")
        assert got.content == b"".join(chunks) + last
    assert _states(root, "team/app") == []  # gone with the session


def test_the_commit_hashes_from_the_saved_state_and_ignores_a_broken_one(
    tmp_path: Path,
) -> None:
    """A state of other bytes, put where the first registry saved its own, makes the
    second registry's commit refuse the right digest: the commit took up the state rather
    than reading the upload again. A state that is not one is ignored."""
    root = tmp_path / "root"
    data = _data("data", STATE_EVERY + 4096)
    digest = Digest.from_bytes(data)
    other = new_running_hash("sha256")
    assert isinstance(other, ResumableHash)
    other.update(_data("other", len(data)))
    with (
        run_pyregistry(root) as (_, a),
        run_pyregistry(root) as (_, b),
        httpx.Client(timeout=60) as client,
    ):
        for state, status in ((other.state(), 400), (b"not a state", 201)):
            location = client.post(f"{a}/v2/team/app/blobs/uploads/").headers["location"]
            location = _patch(client, a, location, data, 0)
            (saved,) = (root / "docker/registry/v2/repositories/team/app/_uploads").glob(
                f"*/hashstates/sha256/{len(data)}"
            )
            saved.write_bytes(state)
            done = client.put(_on(b, location), params={"digest": str(digest)})
            assert done.status_code == status, done.text
            if status == 400:
                assert done.json()["errors"][0]["code"] == "DIGEST_INVALID"
                assert client.head(f"{b}/v2/team/app/blobs/{digest}").status_code == 404
        assert client.get(f"{a}/v2/team/app/blobs/{digest}").content == data


def test_a_small_upload_saves_no_state(tmp_path: Path) -> None:
    root = tmp_path / "root"
    data = _data("small", STATE_EVERY - 1)
    with run_pyregistry(root) as (_, a), httpx.Client(timeout=60) as client:
        location = client.post(f"{a}/v2/team/app/blobs/uploads/").headers["location"]
        _patch(client, a, location, data, 0)
        assert _states(root, "team/app") == []


def test_a_commit_hashes_only_the_bytes_after_the_latest_state(tmp_path: Path) -> None:
    """A chunk too small to save a state leaves the latest one below the session's size:
    the other registry's commit starts from it and reads only the bytes after it (shown
    as above: a state of other bytes there makes it refuse the right digest)."""
    root = tmp_path / "root"
    first, second = _data("first", STATE_EVERY), _data("second", 100_000)
    digest = Digest.from_bytes(first + second)
    other = new_running_hash("sha256")
    assert isinstance(other, ResumableHash)
    other.update(bytes(len(first)))
    with (
        run_pyregistry(root) as (_, a),
        run_pyregistry(root) as (_, b),
        httpx.Client(timeout=60) as client,
    ):
        for tampered in (False, True):
            location = client.post(f"{a}/v2/team/app/blobs/uploads/").headers["location"]
            location = _patch(client, a, location, first, 0)
            location = _patch(client, a, location, second, len(first))
            (saved,) = (root / "docker/registry/v2/repositories/team/app/_uploads").glob(
                "*/hashstates/sha256/*"
            )
            assert saved.name == str(len(first))  # none at the end: too little since
            if tampered:
                saved.write_bytes(other.state())
            done = client.put(_on(b, location), params={"digest": str(digest)})
            assert done.status_code == (400 if tampered else 201), done.text
