"""Blobs stream through a real ``pyregistry serve`` in constant memory.

A 256 MiB blob is pushed monolithically, pushed again in 16 MiB PATCHes and pulled back,
while the server's resident memory is watched: the kernel's high-water mark (VmHWM)
of the server process must stay under the 150 MiB target, far below the blob's size.
The same, smaller (the local S3 server is slow), on S3 storage, where each multipart
part is buffered. The 2 GiB figure is the bench's job: ``python -m bench --memory``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.memory import RSS_TARGET_MIB, MemoryResult, measure_memory
from bench.s3server import run_s3, unique_root
from bench.servers import filesystem_storage, run_pyregistry
from pyregistry.client.sources import MIB

BLOB_SIZE = 256 * MIB
S3_BLOB_SIZE = 96 * MIB
CHUNK_SIZE = 16 * MIB


@pytest.fixture(scope="module")
def streamed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MemoryResult]:
    work: Path = tmp_path_factory.mktemp("streaming")
    with run_pyregistry(work, filesystem_storage(work / "root"), workers=1) as registry:
        yield measure_memory(registry, BLOB_SIZE, CHUNK_SIZE)


@pytest.fixture(scope="module")
def streamed_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MemoryResult]:
    work: Path = tmp_path_factory.mktemp("streaming-s3")
    with run_s3("seaweedfs") as s3:
        storage = s3.pyregistry_storage(unique_root("memory-test"))
        with run_pyregistry(work, storage, workers=1) as registry:
            yield measure_memory(registry, S3_BLOB_SIZE, CHUNK_SIZE)


def _assert_constant_memory(result: MemoryResult, blob_size: int) -> None:
    rss = result.rss
    assert rss.processes >= 1, "the server process was never sampled"
    assert rss.peak_process_mib > 0
    assert rss.peak_process_mib < RSS_TARGET_MIB, (
        f"pyregistry peaked at {rss.peak_process_mib:.1f} MiB while streaming "
        f"{blob_size // MIB} MiB blobs (target < {RSS_TARGET_MIB:.0f} MiB)"
    )


def test_every_transfer_moved_the_whole_blob(streamed: MemoryResult) -> None:
    assert sorted(streamed.figures) == ["chunked", "monolithic", "pull"]
    for figure in streamed.figures.values():
        assert figure.amount == BLOB_SIZE / MIB
        assert figure.value > 0


def test_server_rss_stays_under_target(streamed: MemoryResult) -> None:
    _assert_constant_memory(streamed, BLOB_SIZE)
    # Constant memory: the peak grew far less than one blob over the idle size.
    assert streamed.rss.peak_process_mib - streamed.idle_tree_mib < BLOB_SIZE / MIB / 4


def test_server_rss_stays_under_target_on_s3(streamed_s3: MemoryResult) -> None:
    assert sorted(streamed_s3.figures) == ["chunked", "monolithic", "pull"]
    assert all(f.amount == S3_BLOB_SIZE / MIB for f in streamed_s3.figures.values())
    _assert_constant_memory(streamed_s3, S3_BLOB_SIZE)
