"""Interop with distribution 2.8 (Debian's ``docker-registry``), the registry pyregistry
replaces: the same client pushes, resumes, mounts, lists and deletes there, over plain
HTTP and over TLS with a CA file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from pyregistry.client import AsyncRegistryClient, NotFoundError, RegistryClient, RepeatedBlob
from pyregistry.client.content import build_image, build_multiarch
from pyregistry.client.media import DOCKER_MANIFEST, sha256_digest
from tests.client.proxy import TcpProxy
from tests.client.tls import make_server_cert
from tests.support.distribution import DistributionFactory, DistributionRegistry

MIB = 1024 * 1024


async def test_push_pull_list_delete_on_distribution(
    distribution_registry: DistributionRegistry,
) -> None:
    index = build_multiarch(seed="dist-index")
    docker = build_image(seed="dist-docker", docker=True)
    async with AsyncRegistryClient(distribution_registry.url) as client:
        assert await client.ping() == 200
        assert await client.push("dist/app", index, "multi") == index.digest
        assert await client.push("dist/app", docker, "docker") == docker.digest
        for tag in ("a", "b", "c"):
            await client.push("dist/app", docker, tag)
        # 2.8 answers tags unpaginated and unsorted; the client takes either
        assert sorted(await client.tags("dist/app", page_size=2)) == [
            "a",
            "b",
            "c",
            "docker",
            "multi",
        ]
        for name in ("dist/x", "dist/y"):
            await client.push(name, docker, "v1")
        assert await client.catalog(page_size=1) == ["dist/app", "dist/x", "dist/y"]
        served = await client.get_manifest("dist/app", "docker")
        assert (served.media_type, served.digest) == (DOCKER_MANIFEST, docker.digest)
        head = await client.head_manifest("dist/app", "multi")
        assert head is not None and head.digest == index.digest
        assert await client.get_blob("dist/app", docker.config_digest) == docker.config

        await client.delete_manifest("dist/x", docker.digest)
        with pytest.raises(NotFoundError) as gone:
            await client.get_manifest("dist/x", docker.digest)
        assert gone.value.code == "MANIFEST_UNKNOWN"


async def test_resume_and_mount_on_distribution(
    distribution_registry: DistributionRegistry, proxy_to: Callable[[str], TcpProxy]
) -> None:
    proxy = proxy_to(distribution_registry.url)
    blob = RepeatedBlob(4 * MIB + 7, seed=21)
    proxy.arm_cut(f"Content-Range: {MIB}-".encode(), 200_000)
    async with AsyncRegistryClient(proxy.url) as client:
        assert await client.push_blob("dist/big", blob.source(), chunk_size=MIB) == blob.digest
        assert proxy.cuts_done == 1
        # the client asked where the session stood; 2.8 drops a session once part of a
        # cut chunk is stored (its signed state no longer matches the bytes), so the
        # answer is 404 and the upload starts over in a new session
        assert [p for p in proxy.paths("GET") if "/blobs/uploads/" in p]
        assert len(proxy.paths("POST")) in (1, 2)
        head = await client.head_blob("dist/big", blob.digest)
        assert head is not None and head.size == blob.size

        puts = len(proxy.paths("PUT"))
        source = blob.source()
        assert await client.push_blob("dist/mounted", source, mount_from="dist/big")
        assert len(proxy.paths("PUT")) == puts  # mounted, nothing uploaded
        other = b"only here" * 99
        digest = await client.push_blob("dist/mounted", other, mount_from="dist/big")
        assert len(proxy.paths("PUT")) == puts + 1  # 202: uploaded instead
        assert digest == sha256_digest(other)
        assert await client.get_blob("dist/mounted", digest) == other


def test_tls_with_a_ca_file_or_without_verification(
    distribution_registry_factory: DistributionFactory, tmp_path: Path
) -> None:
    cert = make_server_cert(tmp_path)
    registry = distribution_registry_factory(
        options={"http": {"tls": {"certificate": str(cert.certificate), "key": str(cert.key)}}}
    )
    url = f"https://{registry.host}"
    image = build_image(seed="dist-tls", layers=1)
    with RegistryClient(url, ca_file=str(cert.ca_file)) as client:
        assert client.push("tls/app", image, "v1") == image.digest
        layer = image.layers[0]
        assert client.get_blob("tls/app", layer.digest) == layer.gzipped  # rawget over TLS
    with RegistryClient(url, insecure=True) as client:
        assert client.get_manifest("tls/app", "v1").digest == image.digest
        assert client.get_blob("tls/app", layer.digest) == layer.gzipped
    with RegistryClient(url) as client, pytest.raises(httpx.ConnectError, match="CERTIFICATE"):
        client.ping()
    with RegistryClient(url) as client, pytest.raises(httpx.ConnectError, match="CERTIFICATE"):
        client.get_blob("tls/app", layer.digest)
