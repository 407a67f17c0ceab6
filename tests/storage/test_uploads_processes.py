"""Upload sessions shared by real processes over one filesystem root.

Each step runs in its own interpreter (``tests.storage.upload_worker``), so nothing but
the storage itself is shared: no running hash, no lock, no driver object.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pyregistry.storage import BlobUnknown, BlobUploadUnknown, Digest, Registry
from storage_drivers import create_driver
from tests.storage.helpers import stream
from tests.storage.upload_worker import part
from tests.support.command import run

REPO_ROOT = Path(__file__).resolve().parents[2]
REPOSITORY = "shared/app"


def worker(root: Path, action: str, *args: object) -> list[str]:
    """Run one worker step to completion; its output line, split."""
    argv = [sys.executable, "-m", "tests.storage.upload_worker", str(root), REPOSITORY, action]
    out = run([*argv, *map(str, args)], env={"PYTHONPATH": str(REPO_ROOT)}, cwd=REPO_ROOT)
    return out.split()


def start_session(root: Path, size: int, seed: int) -> str:
    kind, upload_id, written = worker(root, "start", size, seed)
    assert (kind, int(written)) == ("session", size)
    return upload_id


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "shared-root"


@pytest.fixture
async def registry(root: Path) -> AsyncIterator[Registry]:
    reg = Registry(create_driver("filesystem", {"rootdirectory": str(root)}))
    yield reg
    await reg.close()


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
async def test_started_in_one_process_finished_in_another(
    root: Path, registry: Registry, algorithm: str
) -> None:
    first, middle, last = part(300_000, 1), part(200_000, 2), part(150_001, 3)
    data = first + middle + last
    digest = Digest(algorithm, hashlib.new(algorithm, data).hexdigest())
    upload_id = start_session(root, len(first), 1)  # process A

    repo = registry.repository(REPOSITORY)
    session = await repo.uploads.resume(upload_id)  # this process, which never saw A's bytes
    assert await session.size() == len(first)
    assert await session.append(stream(middle), offset=len(first)) == len(first) + len(middle)
    with pytest.raises(BlobUnknown):
        await repo.blobs.stat(digest)

    line = worker(root, "finish", upload_id, len(first) + len(middle), len(last), 3, digest)
    assert line == ["committed", str(digest), str(len(data))]  # process B

    assert await repo.blobs.stat(digest) == (await registry.stat_blob(digest))
    assert b"".join([c async for c in await repo.blobs.open(digest)]) == data
    with pytest.raises(BlobUploadUnknown):
        await repo.uploads.resume(upload_id)
    with pytest.raises(BlobUploadUnknown):
        await session.append(stream(b"late"))
    hexdir = f"{digest.algorithm}/{digest.hex[:2]}/{digest.hex}"
    assert files_under(root) == [
        f"docker/registry/v2/blobs/{hexdir}/data",
        f"docker/registry/v2/repositories/{REPOSITORY}/_layers/{algorithm}/{digest.hex}/link",
    ]


async def test_failed_commit_in_another_process_leaves_nothing(
    root: Path, registry: Registry
) -> None:
    first, last = part(250_000, 4), part(10, 5)
    claimed = Digest("sha256", hashlib.sha256(b"something else").hexdigest())
    upload_id = start_session(root, len(first), 4)
    line = worker(root, "finish", upload_id, len(first), len(last), 5, claimed)
    assert line == ["error", "DIGEST_INVALID"]

    repo = registry.repository(REPOSITORY)
    actual = Digest("sha256", hashlib.sha256(first + last).hexdigest())
    for digest in (claimed, actual):
        with pytest.raises(BlobUnknown):
            await repo.blobs.stat(digest)
        assert await registry.stat_blob(digest) is None
    with pytest.raises(BlobUploadUnknown):
        await repo.uploads.resume(upload_id)
    assert files_under(root) == []


async def test_wrong_offset_in_another_process_changes_nothing(
    root: Path, registry: Registry
) -> None:
    first, last = part(120_000, 6), part(5_000, 7)
    upload_id = start_session(root, len(first), 6)
    line = worker(root, "finish", upload_id, len(first) - 1, len(last), 7, "sha256:" + "0" * 64)
    assert line == ["error", "BLOB_UPLOAD_INVALID"]

    session = await registry.repository(REPOSITORY).uploads.resume(upload_id)
    assert await session.size() == len(first)
    digest = Digest("sha256", hashlib.sha256(first + last).hexdigest())
    descriptor = await session.commit(digest, stream(last), offset=len(first))
    assert descriptor.size == len(first) + len(last)
