"""One chunked upload, its requests spread over two instances sharing S3 and Redis.

The S3 driver keeps an upload in a multipart upload (parts of at least 5 MiB) plus a
durable tail object for what is too small to be a part; both must be found by the other
instance, and the instance that completes the upload must hash bytes it never saw.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from tests.multi_instance.http_client import (
    complete_upload,
    error_codes,
    patch_chunk,
    start_upload,
)
from tests.multi_instance.instances import Instance, RegistryPair
from tests.support.images import sha256_digest

MIB = 1024 * 1024


def _data(seed: str, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _assert_blob_on(pair: RegistryPair, instance: Instance, repo: str, data: bytes) -> None:
    digest = sha256_digest(data)
    head = pair.client.head(instance.url(f"/v2/{repo}/blobs/{digest}"))
    assert head.status_code == 200, f"{instance.name}: HEAD {head.status_code}"
    assert head.headers["content-length"] == str(len(data))
    assert head.headers["docker-content-digest"] == digest
    got = pair.client.get(instance.url(f"/v2/{repo}/blobs/{digest}"))
    assert got.status_code == 200, f"{instance.name}: GET {got.status_code}"
    assert got.content == data, f"{instance.name} served other bytes than were pushed"


def _upload_status(pair: RegistryPair, instance: Instance, location: str) -> str:
    response = pair.client.get(instance.url(location))
    assert response.status_code == 204, response.text
    return str(response.headers["range"])


def test_large_chunks_alternate_between_instances(proxied_pair: RegistryPair) -> None:
    """Chunk 1 on A, chunk 2 on B (from A's Location), chunk 3 and the PUT on A."""
    pair, a, b = proxied_pair, proxied_pair.a, proxied_pair.b
    repo = "multi/chunked-large"
    # Chunk 2 is larger than the driver's 10 MiB chunksize: B ships a part while it writes
    # and leaves a tail that A must pick up.
    chunks = [_data("c1", 5 * MIB), _data("c2", 11 * MIB), _data("c3", 300 * 1024)]
    data = b"".join(chunks)

    location = start_upload(pair.client, a, repo)
    assert _upload_status(pair, b, location) == "0-0"
    location = patch_chunk(pair.client, a, location, 0, chunks[0])
    assert _upload_status(pair, b, location) == f"0-{len(chunks[0]) - 1}"
    location = patch_chunk(pair.client, b, location, len(chunks[0]), chunks[1])
    offset = len(chunks[0]) + len(chunks[1])
    assert _upload_status(pair, a, location) == f"0-{offset - 1}"
    location = patch_chunk(pair.client, a, location, offset, chunks[2])

    done = complete_upload(pair.client, a, location, sha256_digest(data))
    assert done.status_code == 201, done.text
    assert done.headers["docker-content-digest"] == sha256_digest(data)
    _assert_blob_on(pair, b, repo, data)
    _assert_blob_on(pair, a, repo, data)
    # The session is over on both instances.
    for instance in (a, b):
        gone = pair.client.get(instance.url(location))
        assert gone.status_code == 404
        assert error_codes(gone) == ["BLOB_UPLOAD_UNKNOWN"]


def test_small_chunks_live_in_the_tail_across_instances(proxied_pair: RegistryPair) -> None:
    """Chunks under 5 MiB (the S3 part minimum) go A, B, A, B and the last one with the
    PUT on A: each instance must pick up the tail the other one stored."""
    pair, a, b = proxied_pair, proxied_pair.a, proxied_pair.b
    repo = "multi/chunked-small"
    sizes = [100 * 1024, 1 * MIB, 3 * MIB + 7, 2 * MIB, 1]
    chunks = [_data(f"s{i}", size) for i, size in enumerate(sizes)]
    last = _data("last", 512 * 1024)
    data = b"".join(chunks) + last

    location = start_upload(pair.client, b, repo)
    offset = 0
    for index, chunk in enumerate(chunks):
        instance = (a, b)[index % 2]
        location = patch_chunk(pair.client, instance, location, offset, chunk)
        offset += len(chunk)

    done = complete_upload(pair.client, a, location, sha256_digest(data), last, offset)
    assert done.status_code == 201, done.text
    _assert_blob_on(pair, b, repo, data)


def test_out_of_order_chunk_on_the_other_instance(proxied_pair: RegistryPair) -> None:
    """B refuses a chunk that does not start where A left the session, with 416 and the
    true Range; the session still completes afterwards, and a wrong digest is refused."""
    pair, a, b = proxied_pair, proxied_pair.a, proxied_pair.b
    repo = "multi/chunked-order"
    first, second = _data("o1", 200 * 1024), _data("o2", 64 * 1024)

    location = start_upload(pair.client, a, repo)
    location = patch_chunk(pair.client, a, location, 0, first)
    wrong = pair.client.patch(
        b.url(location),
        content=second,
        headers={"Content-Range": f"{len(first) + 10}-{len(first) + 10 + len(second) - 1}"},
    )
    assert wrong.status_code == 416, wrong.text
    assert wrong.headers["range"] == f"0-{len(first) - 1}"
    location = patch_chunk(pair.client, b, location, len(first), second)

    bad = complete_upload(pair.client, a, location, sha256_digest(b"something else"))
    assert bad.status_code == 400, bad.text
    assert error_codes(bad) == ["DIGEST_INVALID"]

    # A digest mismatch ends the session (as in distribution): a new one completes.
    location = start_upload(pair.client, b, repo)
    location = patch_chunk(pair.client, b, location, 0, first)
    location = patch_chunk(pair.client, a, location, len(first), second)
    done = complete_upload(pair.client, b, location, sha256_digest(first + second))
    assert done.status_code == 201, done.text
    _assert_blob_on(pair, a, repo, first + second)


def test_cancel_on_one_instance_ends_the_session_on_both(proxied_pair: RegistryPair) -> None:
    pair, a, b = proxied_pair, proxied_pair.a, proxied_pair.b
    location = start_upload(pair.client, a, "multi/chunked-cancel")
    location = patch_chunk(pair.client, a, location, 0, _data("x", 1000))
    cancelled = pair.client.delete(b.url(location))
    assert cancelled.status_code == 204, cancelled.text
    for instance in (a, b):
        late = pair.client.patch(instance.url(location), content=b"more")
        assert late.status_code == 404
        assert error_codes(late) == ["BLOB_UPLOAD_UNKNOWN"]


def test_streamed_chunk_without_content_range_on_the_other_instance(
    proxied_pair: RegistryPair,
) -> None:
    """docker's way: POST, one PATCH with ``Transfer-Encoding: chunked`` and no
    Content-Range, an empty PUT; here POST on A, PATCH on B, PUT on A."""
    pair, a, b = proxied_pair, proxied_pair.a, proxied_pair.b
    repo = "multi/chunked-stream"
    pieces = [_data(f"t{i}", 700 * 1024) for i in range(9)]  # 6.2 MiB in 700 KiB writes
    data = b"".join(pieces)

    def body() -> Iterator[bytes]:
        yield from pieces

    location = start_upload(pair.client, a, repo)
    patched = pair.client.patch(b.url(location), content=body())
    assert patched.status_code == 202, patched.text
    assert patched.headers["range"] == f"0-{len(data) - 1}"
    done = complete_upload(pair.client, a, patched.headers["location"], sha256_digest(data))
    assert done.status_code == 201, done.text
    _assert_blob_on(pair, b, repo, data)


def test_same_blob_pushed_through_both_instances_at_once(proxied_pair: RegistryPair) -> None:
    """Two clients push one layer at the same time, one through each instance (two CI
    jobs sharing a base image): both uploads succeed and the stored blob is intact."""
    pair, a, b = proxied_pair, proxied_pair.a, proxied_pair.b
    data = _data("shared-layer", 6 * MIB + 123)
    digest = sha256_digest(data)
    jobs = [
        (a, "multi/race-one"),
        (b, "multi/race-two"),
        (b, "multi/race-one"),
        (a, "multi/race-two"),
    ]

    def push(job: tuple[Instance, str]) -> int:
        instance, repo = job
        location = start_upload(pair.client, instance, repo)
        half = len(data) // 2
        location = patch_chunk(pair.client, instance, location, 0, data[:half])
        return complete_upload(
            pair.client, instance, location, digest, data[half:], half
        ).status_code

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        statuses = list(pool.map(push, jobs))
    assert statuses == [201] * len(jobs)
    for instance, repo in jobs:
        _assert_blob_on(pair, instance, repo, data)
