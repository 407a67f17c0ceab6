"""Two instances of two workers each on one storage and one Redis: a change made through
any one of the four processes is seen by the three others on their next request.

Each instance's connections are pinned to its workers (identified through ``/proc``), so
every write goes through a known process and every read through each of the others.
"""

from __future__ import annotations

import http.client
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.coherence.registry_calls import call, push_blob, push_image, tags_of
from tests.multi_instance.instances import RegistryPair, run_pair
from tests.support.redis import RedisServer
from tests.support.s3 import S3Server
from tests.support.workers import connection_per_worker

#: The Redis database of this pair (conftest's pairs use 7 and 8).
COHERENCE_DB = 9


@pytest.fixture(scope="module")
def pair(seaweedfs_server: S3Server, redis_server_process: RedisServer) -> Iterator[RegistryPair]:
    with (
        tempfile.TemporaryDirectory(prefix="pyregistry-coherence-") as work,
        run_pair(
            Path(work),
            s3=seaweedfs_server,
            redis_server=redis_server_process,
            redis_db=COHERENCE_DB,
            redirect=False,
            workers=2,
        ) as pair,
    ):
        yield pair


@pytest.fixture
def processes(pair: RegistryPair) -> Iterator[list[http.client.HTTPConnection]]:
    """One connection to each of the four workers: A's two, then B's two."""
    connections: list[http.client.HTTPConnection] = []
    for instance in (pair.a, pair.b):
        assert instance.process.proc is not None
        by_pid = connection_per_worker(instance.port, instance.process.proc.pid)
        connections.extend(by_pid.values())
    assert len(connections) == 4
    yield connections
    for connection in connections:
        connection.close()


@pytest.mark.parametrize("writer", range(4))
def test_blob_delete_through_any_process(
    processes: list[http.client.HTTPConnection], writer: int
) -> None:
    repo = f"coherence/blob-{writer}"
    content = f"blob written through process {writer}".encode()
    digest = push_blob(processes[writer], repo, content)
    path = f"/v2/{repo}/blobs/{digest}"
    for connection in processes:  # every process has answered (and cached) it
        assert call(connection, "HEAD", path)[0] == 200
        assert call(connection, "GET", path)[2] == content
    assert call(processes[writer], "DELETE", path)[0] == 202
    for connection in processes:
        assert call(connection, "HEAD", path)[0] == 404
        assert call(connection, "GET", path)[0] == 404
    push_blob(processes[(writer + 1) % 4], repo, content)
    for connection in processes:
        assert call(connection, "HEAD", path)[0] == 200


@pytest.mark.parametrize("writer", range(4))
def test_manifest_and_tag_changes_through_any_process(
    processes: list[http.client.HTTPConnection], writer: int
) -> None:
    repo = f"coherence/image-{writer}"
    first = push_image(processes[writer], repo, "latest", f"first {writer}".encode())
    for connection in processes:
        for reference in ("latest", first):
            status, headers, _ = call(connection, "GET", f"/v2/{repo}/manifests/{reference}")
            assert status == 200 and headers["docker-content-digest"] == first
        assert tags_of(connection, repo) == ["latest"]
    # the tag moves, a second tag comes and goes
    second = push_image(processes[writer], repo, "latest", f"second {writer}".encode())
    push_image(processes[writer], repo, "extra", f"second {writer}".encode())
    for connection in processes:
        status, headers, _ = call(connection, "GET", f"/v2/{repo}/manifests/latest")
        assert status == 200 and headers["docker-content-digest"] == second
        assert tags_of(connection, repo) == ["extra", "latest"]
    assert call(processes[writer], "DELETE", f"/v2/{repo}/manifests/extra")[0] == 202
    for connection in processes:
        assert tags_of(connection, repo) == ["latest"]
        assert call(connection, "GET", f"/v2/{repo}/manifests/extra")[0] == 404
    # the manifest is deleted: gone by digest and by tag everywhere
    assert call(processes[writer], "DELETE", f"/v2/{repo}/manifests/{second}")[0] == 202
    for connection in processes:
        for reference in ("latest", second):
            assert call(connection, "GET", f"/v2/{repo}/manifests/{reference}")[0] == 404
            assert call(connection, "HEAD", f"/v2/{repo}/manifests/{reference}")[0] == 404
        assert tags_of(connection, repo) == []
        assert call(connection, "GET", f"/v2/{repo}/manifests/{first}")[0] == 200
