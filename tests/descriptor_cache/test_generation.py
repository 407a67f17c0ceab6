"""The in-memory cache's generation: a delete through one cache empties the others."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pyregistry.descriptor_cache.factory import worker_generation
from pyregistry.descriptor_cache.generation import (
    GENERATION_FILE_ENV,
    FileGeneration,
    create_generation_file,
)
from pyregistry.storage.cache import InMemoryBlobDescriptorCache, LocalGeneration
from pyregistry.storage.descriptors import BlobDescriptor
from pyregistry.storage.digest import Digest

DIGEST = Digest.from_bytes(b"cached")
OTHER = Digest.from_bytes(b"other")


def test_counter_file_is_shared_between_processes(tmp_path: Path) -> None:
    path = create_generation_file(str(tmp_path))
    generation = FileGeneration(path)
    assert generation.value() == 0
    assert generation.bump() == 1
    script = (
        "import sys; from pyregistry.descriptor_cache.generation import FileGeneration;"
        "g = FileGeneration(sys.argv[1]); print(g.value()); [g.bump() for _ in range(5)]"
    )
    child = subprocess.run(
        [sys.executable, "-c", script, path], capture_output=True, text=True, check=True
    )
    assert child.stdout.strip() == "1"
    assert generation.value() == 6
    generation.close()


async def test_delete_in_one_cache_empties_the_other(tmp_path: Path) -> None:
    path = create_generation_file(str(tmp_path))
    first = InMemoryBlobDescriptorCache(100, FileGeneration(path))
    second = InMemoryBlobDescriptorCache(100, FileGeneration(path))
    for cache in (first, second):
        await cache.set("repo", BlobDescriptor(DIGEST, 6))
        await cache.set("repo", BlobDescriptor(OTHER, 5))
    await first.delete("repo", DIGEST)
    assert await second.get("repo", DIGEST) is None
    assert await second.get("repo", OTHER) is None  # all of it: it cannot know what changed
    # the deleting cache keeps what it knows is still true
    assert await first.get("repo", OTHER) == BlobDescriptor(OTHER, 5)
    assert await first.get("repo", DIGEST) is None


async def test_deleting_a_blob_forgets_it_in_every_repository() -> None:
    cache = InMemoryBlobDescriptorCache(100, LocalGeneration())
    for repo in ("one", "two", None):
        await cache.set(repo, BlobDescriptor(DIGEST, 6))
    await cache.set("one", BlobDescriptor(OTHER, 5))
    await cache.delete(None, DIGEST)
    for repo in ("one", "two", None):
        assert await cache.get(repo, DIGEST) is None
    assert await cache.get("one", OTHER) == BlobDescriptor(OTHER, 5)


def test_workers_use_the_supervisors_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert isinstance(worker_generation({}), LocalGeneration)
    path = create_generation_file(str(tmp_path))
    assert isinstance(worker_generation({GENERATION_FILE_ENV: path}), FileGeneration)
    # a file that cannot be opened: no in-memory cache rather than an incoherent one
    assert worker_generation({GENERATION_FILE_ENV: str(tmp_path / "gone")}) is None
    assert "caching disabled" in caplog.text


async def test_a_fill_racing_a_delete_is_not_kept(tmp_path: Path) -> None:
    """Worker one misses and reads storage; worker two deletes; another request of worker
    one notices the delete; the late fill from before the delete must not be kept."""
    path = create_generation_file(str(tmp_path))
    one = InMemoryBlobDescriptorCache(100, FileGeneration(path))
    two = InMemoryBlobDescriptorCache(100, FileGeneration(path))
    assert await one.get("repo", DIGEST) is None  # request A misses, reads the link...
    await two.delete("repo", DIGEST)  # ...which worker two deletes meanwhile
    assert await one.get("repo", OTHER) is None  # request B of worker one syncs
    await one.set("repo", BlobDescriptor(DIGEST, 6))  # request A's late fill
    assert await one.get("repo", DIGEST) is None
    # a fill whose miss came after the delete is kept
    await one.set("repo", BlobDescriptor(DIGEST, 6))
    assert await one.get("repo", DIGEST) == BlobDescriptor(DIGEST, 6)
