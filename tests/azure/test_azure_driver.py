"""What the driver suite does not cover for the ``azure`` driver: staged blocks resumed by
another instance, an abandoned writer's blocks never committed, distribution's
parameters, SAS redirects that Azurite honours, and a registry on the container pulled
by skopeo through those redirects. The container is Azurite's (tests/support/azure.py)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from pyregistry.app import create_app
from pyregistry.client import RegistryClient
from pyregistry.client.content import build_image
from pyregistry.embedding.options import config_from_mapping
from pyregistry.tasks.conditional_lease import ConditionalLease
from pyregistry.tasks.leases import LeaseFactory
from storage_drivers.azure import AzureDriver
from storage_drivers.azure.parameters import CHUNK_SIZE
from storage_drivers.errors import PathNotFound, StorageDriverError
from tests.storage_drivers.conditional_checks import (
    check_conditional_writes,
    check_upload_leases_are_conditional,
)
from tests.support.azure import AzuriteServer
from tests.support.server import run_server
from tests.support.skopeo import Skopeo


def _root() -> str:
    return f"/a-{uuid.uuid4().hex[:12]}"


def _pattern(size: int, seed: int) -> bytes:
    block = bytes((seed + i) % 251 for i in range(4096))
    return (block * (size // len(block) + 1))[:size]


async def test_staged_blocks_resume_on_another_instance(azurite_server: AzuriteServer) -> None:
    root = _root()
    first = AzureDriver(**azurite_server.driver_parameters(root))
    data = _pattern(2 * CHUNK_SIZE + 4321, seed=7)
    writer = await first.writer("/uploads/data")
    await writer.write(data[: CHUNK_SIZE + 10])
    await writer.close()
    with pytest.raises(PathNotFound):
        await first.stat("/uploads/data")  # staged blocks are invisible
    second = AzureDriver(**azurite_server.driver_parameters(root))
    resumed = await second.writer("/uploads/data", append=True)
    assert resumed.size == CHUNK_SIZE + 10
    await resumed.write(data[CHUNK_SIZE + 10 :])
    await resumed.commit()
    assert await second.get_content("/uploads/data") == data
    assert azurite_server.blob_names(root[1:] + "/") == [root[1:] + "/uploads/data"]
    await first.close()
    await second.close()


async def test_an_abandoned_writer_is_never_committed(azurite_server: AzuriteServer) -> None:
    driver = AzureDriver(**azurite_server.driver_parameters(_root()))
    old = await driver.writer("/file")
    await old.write(b"abandoned " * 1000)
    await old.close()
    new = await driver.writer("/file")  # not append: a new generation
    await new.write(b"kept")
    await new.commit()
    assert await driver.get_content("/file") == b"kept"
    await driver.close()


@pytest.mark.parametrize(
    ("parameters", "words"),
    [
        ({"container": "c", "accountkey": "k"}, "accountname is required"),
        ({"accountname": "a", "accountkey": "k"}, "container is required"),
        ({"accountname": "a", "container": "c"}, "accountkey is required"),
        (
            {"accountname": "a", "container": "c", "credentials": {"type": "magic"}},
            "credentials.type must be one of",
        ),
        ({"accountname": "a", "container": "c", "accountkey": "k", "zone": 1}, "unknown"),
    ],
)
def test_bad_parameters_are_refused(parameters: dict[str, Any], words: str) -> None:
    with pytest.raises(StorageDriverError) as refused:
        AzureDriver(**parameters)
    assert words in str(refused.value)


def test_the_realm_makes_the_service_url() -> None:
    driver = AzureDriver(accountname="acct", accountkey="a2V5", container="c", realm="x.cn")
    assert driver.parameters.service_url == "https://acct.blob.x.cn"


async def test_sas_redirects_read_the_blob(azurite_server: AzuriteServer) -> None:
    driver = AzureDriver(**azurite_server.driver_parameters(_root()))
    await driver.put_content("/blobs/data", b"through a signed URL")
    url = await driver.redirect_url("/blobs/data")
    assert url is not None and "sig=" in url
    async with httpx.AsyncClient() as client:
        assert (await client.get(url)).content == b"through a signed URL"
        forged = url.replace("sig=", "sig=A")
        assert (await client.get(forged)).status_code == 403
    assert await driver.redirect_url("/blobs/data", "PUT") is None
    await driver.close()


def test_a_registry_on_the_container(
    azurite_server: AzuriteServer, skopeo: Skopeo, tmp_path: Path
) -> None:
    root = _root()
    document = {"storage": {"azure": azurite_server.driver_parameters(root)}}
    image = build_image(seed="azure-registry", layers=2, layer_size=300_000)
    with run_server(create_app(config_from_mapping(document))) as url:
        with RegistryClient(url) as client:
            client.push("team/app", image, "v1")
        layer = image.layer_digests[0]
        redirected = httpx.get(f"{url}/v2/team/app/blobs/{layer}")
        assert redirected.status_code == 307  # to Azurite, with a SAS
        assert redirected.headers["location"].startswith(azurite_server.service_url)
        pulled = skopeo.pull_checked(url, "team/app:v1", image.blobs(), tmp_path / "copy")
        assert pulled == image.digest
    tag = f"{root[1:]}/docker/registry/v2/repositories/team/app/_manifests/tags/v1/current/link"
    assert tag in azurite_server.blob_names(root[1:] + "/")


async def test_azurite_honours_conditional_writes(azurite_server: AzuriteServer) -> None:
    """Upload leases on Azure without Redis are exact (one request), as on S3."""
    driver = AzureDriver(**azurite_server.driver_parameters(_root()))
    await check_conditional_writes(driver, '"0x8D0123456789ABC"')
    lease = await LeaseFactory(driver).upload_lease("team/app", str(uuid.uuid4()))
    assert isinstance(lease, ConditionalLease)
    assert await lease.acquire()
    await lease.release()
    await driver.close()


async def test_upload_writes_on_azure_hold_the_session_without_waiting(
    azurite_server: AzuriteServer,
) -> None:
    driver = AzureDriver(**azurite_server.driver_parameters(_root()))
    await check_upload_leases_are_conditional(driver)
