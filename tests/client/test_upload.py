"""Blob uploads over real sockets: chunked with resume after a connection is cut in the
middle of a chunk, cross-repository mounts and their upload fallback, and checked
reads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pyregistry import EmbeddedRegistry
from pyregistry.client import (
    AsyncRegistryClient,
    BlobSource,
    NotFoundError,
    RegistryClient,
    RepeatedBlob,
)
from pyregistry.client.blobs import UPLOAD_RETRIES
from tests.client.proxy import TcpProxy

MIB = 1024 * 1024


@pytest.mark.parametrize("cut_in", ["first", "third"])
async def test_chunked_upload_resumes_after_a_cut_chunk(
    open_registry: EmbeddedRegistry, proxy_to: Callable[[str], TcpProxy], cut_in: str
) -> None:
    proxy = proxy_to(open_registry.url)
    blob = RepeatedBlob(5 * MIB + 123, seed=11 if cut_in == "first" else 12)
    start = 0 if cut_in == "first" else 2 * MIB
    # the connection drops after the PATCH's headers and 300 kB of its chunk
    proxy.arm_cut(f"Content-Range: {start}-".encode(), 300_000)
    async with AsyncRegistryClient(proxy.url) as client:
        digest = await client.push_blob("upload/resume", blob.source(), chunk_size=MIB)
        assert digest == blob.digest
        assert proxy.cuts_done == 1
        # the client asked the session where it stood, then went on from there
        statuses = [p for p in proxy.paths("GET") if "/blobs/uploads/" in p]
        # (once, or again when the registry was still storing the cut chunk's bytes as
        # it answered: the next PATCH then gets a 416 and the client asks anew)
        assert 1 <= len(statuses) <= UPLOAD_RETRIES, proxy.requests
        # the cut PATCH, then the rest from the offset the registry reported (what it
        # kept of the cut chunk counts): at least six in all
        assert len(proxy.paths("PATCH")) >= 6
        assert proxy.paths("PUT") and "digest=" in proxy.paths("PUT")[-1]
        received = 0
        async for chunk in client.stream_blob("upload/resume", digest):
            received += len(chunk)
        assert received == blob.size


def test_monolithic_and_chunked_uploads_of_files(
    open_registry: EmbeddedRegistry, tmp_path: Path
) -> None:
    data = RepeatedBlob(3 * MIB + 5, seed=3)
    path = tmp_path / "blob.bin"
    with path.open("wb") as handle:
        for piece in data.pieces():
            handle.write(piece)
    source = BlobSource.from_opener(data.digest, data.size, lambda: path.open("rb"))
    with RegistryClient(open_registry.url) as client:
        assert client.push_blob("upload/file", source) == data.digest
        assert client.push_blob("upload/file-chunked", source, chunk_size=MIB) == data.digest
        for repository in ("upload/file", "upload/file-chunked"):
            head = client.head_blob(repository, data.digest)
            assert head is not None and head.size == data.size
            assert b"".join(client.stream_blob(repository, data.digest)) == path.read_bytes()
        assert client.head_blob("upload/file", "sha256:" + "0" * 64) is None
        with pytest.raises(NotFoundError) as missing:
            client.get_blob("upload/file", "sha256:" + "0" * 64)
        assert missing.value.code == "BLOB_UNKNOWN"


async def test_mount_and_its_upload_fallback(
    open_registry: EmbeddedRegistry, proxy_to: Callable[[str], TcpProxy]
) -> None:
    proxy = proxy_to(open_registry.url)
    data = b"mounted layer " * 1000
    other = b"never in the source repository " * 100
    async with AsyncRegistryClient(proxy.url) as client:
        digest = await client.push_blob("mount/source", data)
        pushed_before = len(proxy.paths("PUT"))
        assert await client.push_blob("mount/target", data, mount_from="mount/source") == digest
        assert len(proxy.paths("PUT")) == pushed_before  # mounted: no bytes sent
        assert any("mount=" in p and "from=mount%2Fsource" in p for p in proxy.paths("POST"))
        assert await client.get_blob("mount/target", digest) == data

        # the source lacks the blob: the registry opens an upload session (202) instead
        fallback = await client.push_blob("mount/target", other, mount_from="mount/source")
        assert len(proxy.paths("PUT")) == pushed_before + 1
        assert await client.get_blob("mount/target", fallback) == other
        # mount_blob tells the two answers apart
        assert await client.mount_blob("mount/third", digest, "mount/source") is None
        session = await client.mount_blob("mount/third", fallback, "mount/source")
        assert session is not None and "/v2/mount/third/blobs/uploads/" in str(session)
