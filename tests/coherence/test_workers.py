"""Write through one worker of ``pyregistry serve --workers 2``, read through the other.

Every worker keeps an in-memory blob descriptor cache (and a cache of manifest content);
a delete answered by one worker must be seen by the other at once, for every cached
thing: blob descriptors and links, manifests, tags. Each test holds one connection to
each worker (identified through ``/proc``) and warms both workers before the change.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import pytest

from tests.coherence.registry_calls import call, push_blob, push_image, tags_of
from tests.support.registry_process import RegistryProcess, free_port, write_config
from tests.support.workers import connection_per_worker

Connections = tuple[http.client.HTTPConnection, http.client.HTTPConnection]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    directory = tmp_path_factory.mktemp("workers")
    port = free_port()
    config = write_config(
        directory,
        port,
        storage={
            "filesystem": {"rootdirectory": str(directory / "data")},
            "cache": {"blobdescriptor": "inmemory"},
            "delete": {"enabled": True},
        },
    )
    with RegistryProcess(["serve", "--workers", "2", str(config)], port=port) as process:
        yield process


@pytest.fixture(params=["first writes", "second writes"])
def workers(request: pytest.FixtureRequest, registry: RegistryProcess) -> Iterator[Connections]:
    """(writer, reader): connections held by two different workers, both directions."""
    assert registry.proc is not None
    connections = list(connection_per_worker(registry.port, registry.proc.pid).values())
    assert len(connections) == 2
    writer, reader = connections if request.param == "first writes" else connections[::-1]
    yield writer, reader
    for connection in connections:
        connection.close()


def test_blob_delete_is_seen_by_the_other_worker(
    workers: Connections, registry: RegistryProcess, request: pytest.FixtureRequest
) -> None:
    writer, reader = workers
    repo = f"coherence/blob-{request.node.callspec.id.replace(' ', '-')}"
    digest = push_blob(writer, repo, b"a blob both workers will cache " + repo.encode())
    path = f"/v2/{repo}/blobs/{digest}"
    for connection in (writer, reader, writer, reader):  # both caches now hold it
        assert call(connection, "HEAD", path)[0] == 200
        assert call(connection, "GET", path)[0] == 200
    assert call(writer, "DELETE", path)[0] == 202
    for connection in (reader, writer):
        assert call(connection, "HEAD", path)[0] == 404
        assert call(connection, "GET", path)[0] == 404
    # the reproduction: many new connections, whichever worker takes each
    for _ in range(40):
        connection = http.client.HTTPConnection("127.0.0.1", registry.port, timeout=30)
        try:
            assert call(connection, "HEAD", path)[0] == 404
            assert call(connection, "GET", path)[0] == 404
        finally:
            connection.close()
    # linked again through the reader: the writer sees it back
    push_blob(reader, repo, b"a blob both workers will cache " + repo.encode())
    assert call(writer, "HEAD", path)[0] == 200


def test_blob_deleted_in_one_repository_stays_in_another(workers: Connections) -> None:
    writer, reader = workers
    content = b"shared between two repositories"
    digest = push_blob(writer, "coherence/one", content)
    push_blob(writer, "coherence/two", content)
    for connection in (writer, reader):
        for repo in ("coherence/one", "coherence/two"):
            assert call(connection, "HEAD", f"/v2/{repo}/blobs/{digest}")[0] == 200
    assert call(writer, "DELETE", f"/v2/coherence/one/blobs/{digest}")[0] == 202
    assert call(reader, "HEAD", f"/v2/coherence/one/blobs/{digest}")[0] == 404
    assert call(reader, "HEAD", f"/v2/coherence/two/blobs/{digest}")[0] == 200
    push_blob(writer, "coherence/one", content)  # as it was, for the other direction


def test_manifest_delete_is_seen_by_the_other_worker(
    workers: Connections, request: pytest.FixtureRequest
) -> None:
    writer, reader = workers
    repo = f"coherence/manifest-{request.node.callspec.id.replace(' ', '-')}"
    digest = push_image(writer, repo, "v1", repo.encode())
    for connection in (writer, reader, writer, reader):
        for reference in ("v1", digest):
            status, headers, _ = call(connection, "GET", f"/v2/{repo}/manifests/{reference}")
            assert status == 200 and headers["docker-content-digest"] == digest
        assert call(connection, "HEAD", f"/v2/{repo}/manifests/{digest}")[0] == 200
    assert call(writer, "DELETE", f"/v2/{repo}/manifests/{digest}")[0] == 202
    for connection in (reader, writer):
        for reference in ("v1", digest):
            assert call(connection, "GET", f"/v2/{repo}/manifests/{reference}")[0] == 404
            assert call(connection, "HEAD", f"/v2/{repo}/manifests/{reference}")[0] == 404
        assert tags_of(connection, repo) == []


def test_tag_moves_and_deletes_are_seen_by_the_other_worker(
    workers: Connections, request: pytest.FixtureRequest
) -> None:
    writer, reader = workers
    repo = f"coherence/tag-{request.node.callspec.id.replace(' ', '-')}"
    first = push_image(writer, repo, "latest", b"first " + repo.encode())
    for connection in (writer, reader):
        status, headers, _ = call(connection, "GET", f"/v2/{repo}/manifests/latest")
        assert status == 200 and headers["docker-content-digest"] == first
        assert tags_of(connection, repo) == ["latest"]
    second = push_image(writer, repo, "latest", b"second " + repo.encode())
    push_image(writer, repo, "extra", b"second " + repo.encode())
    status, headers, _ = call(reader, "GET", f"/v2/{repo}/manifests/latest")
    assert status == 200 and headers["docker-content-digest"] == second
    assert tags_of(reader, repo) == ["extra", "latest"]
    assert call(writer, "DELETE", f"/v2/{repo}/manifests/extra")[0] == 202
    assert tags_of(reader, repo) == ["latest"]
    assert call(reader, "GET", f"/v2/{repo}/manifests/extra")[0] == 404
    # the first manifest is untagged but still there by digest, on both
    for connection in (writer, reader):
        assert call(connection, "GET", f"/v2/{repo}/manifests/{first}")[0] == 200
