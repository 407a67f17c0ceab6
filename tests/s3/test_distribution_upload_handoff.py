"""A chunked upload distribution started on S3 goes on through pyregistry on the same
bucket and root (a rolling switch: both behind one address).

distribution (Debian's 2.8, its S3 driver) keeps an unfinished upload as a multipart
upload on the ``data`` key and ships what it buffers as a part at the end of each PATCH
(2.8: each PATCH's bytes as one part), so the last part may be under S3's 5 MiB minimum
(taken over by completing the upload) or not (its parts taken over as they are).
pyregistry finds the upload by listing, as distribution does, and the client's status
request, its next PATCH and its final PUT work with no restart of the blob.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import pyregistry
from tests.support.distribution import DistributionRegistry, run_distribution
from tests.support.s3 import S3Server

MiB = 1024 * 1024


@pytest.fixture
def root() -> str:
    return f"/handoff-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def distribution(seaweedfs_server: S3Server, root: str) -> Iterator[DistributionRegistry]:
    params = seaweedfs_server.driver_parameters(root)
    params.pop("forcepathstyle")  # 2.8 has no such parameter (it always uses paths)
    with run_distribution(options={"storage": {"s3": params}}) as registry:
        yield registry


@pytest.fixture
def pyregistry_url(seaweedfs_server: S3Server, root: str) -> Iterator[str]:
    storage: dict[str, Any] = {"s3": seaweedfs_server.driver_parameters(root)}
    with pyregistry.serve(storage=storage) as registry:
        yield registry.url


def _started(distribution: DistributionRegistry, *chunks: bytes) -> str:
    """An upload session distribution opened and took ``chunks`` into, a PATCH each: its
    path (the ``_state`` query, distribution's own, means nothing to pyregistry)."""
    with httpx.Client(base_url=distribution.url, timeout=60) as client:
        location = client.post("/v2/team/app/blobs/uploads/").headers["location"]
        start = 0
        for chunk in chunks:
            location = _patch(client, location, chunk, start)  # with the next _state
            start += len(chunk)
    return httpx.URL(location).path


def _patch(client: httpx.Client, location: str, chunk: bytes, start: int) -> str:
    """PATCH ``chunk`` at ``start``; the session then holds everything up to its end.
    Where the next request goes."""
    end = start + len(chunk) - 1
    patched = client.patch(
        location,
        content=chunk,
        headers={"Content-Type": "application/octet-stream", "Content-Range": f"{start}-{end}"},
    )
    assert patched.status_code == 202, patched.text
    assert patched.headers["range"] == f"0-{end}"
    return str(client.base_url.join(patched.headers["location"]))


@pytest.mark.parametrize(
    "sizes",
    [(3 * MiB, 2 * MiB), (12 * MiB + 17, 7 * MiB), (3 * MiB, 3 * MiB, 2 * MiB)],
    ids=["last-part-under-5-mib", "last-part-over-5-mib", "two-patches-on-distribution"],
)
def test_a_chunked_upload_goes_on_through_pyregistry(
    distribution: DistributionRegistry, pyregistry_url: str, sizes: tuple[int, ...]
) -> None:
    """All but the last chunk go to distribution (its second PATCH has completed and
    restarted its own upload after a small part), the last to pyregistry."""
    data = random.Random(str(sizes)).randbytes(sum(sizes))
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    cuts = [sum(sizes[:i]) for i in range(len(sizes) + 1)]
    chunks = [data[a:b] for a, b in zip(cuts, cuts[1:], strict=False)]
    path = _started(distribution, *chunks[:-1])
    held = cuts[-2]
    with httpx.Client(base_url=pyregistry_url, timeout=60, follow_redirects=True) as client:
        status = client.get(path)
        assert status.status_code == 204, status.text
        assert status.headers["range"] == f"0-{held - 1}"
        _patch(client, path, chunks[-1], held)
        done = client.put(path, params={"digest": digest})
        assert done.status_code == 201, done.text
        assert client.get(f"/v2/team/app/blobs/{digest}").content == data


def test_distribution_data_completed_by_a_put_alone(
    distribution: DistributionRegistry, pyregistry_url: str
) -> None:
    """docker's flow: one PATCH with the whole layer, then a PUT with the digest."""
    data = random.Random("put-alone").randbytes(11 * MiB + 5)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = _started(distribution, data)
    with httpx.Client(base_url=pyregistry_url, timeout=60, follow_redirects=True) as client:
        done = client.put(path, params={"digest": digest})
        assert done.status_code == 201, done.text
        assert client.get(f"/v2/team/app/blobs/{digest}").content == data
