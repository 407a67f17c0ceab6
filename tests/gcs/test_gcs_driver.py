"""What the driver suite does not cover for the ``gcs`` driver: segments composed past
GCS's 32 sources a call (and streamed past its 1,024 components), distribution's
parameters, signed redirect URLs, and a registry on the bucket, pushed to and pulled from
by skopeo. The bucket is gcp-storage-emulator's (tests/support/gcs.py)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pyregistry.app import create_app
from pyregistry.client import RegistryClient
from pyregistry.client.content import build_image
from pyregistry.embedding.options import config_from_mapping
from storage_drivers.errors import PathNotFound, StorageDriverError
from storage_drivers.gcs import GCSDriver
from storage_drivers.gcs import writer as gcs_writer
from storage_drivers.gcs.parameters import MIN_CHUNK_SIZE
from tests.support.gcs import GCSServer
from tests.support.server import run_server
from tests.support.skopeo import Skopeo


def _root() -> str:
    return f"/g-{uuid.uuid4().hex[:12]}"


def _driver(server: GCSServer, root: str, **extra: Any) -> GCSDriver:
    return GCSDriver(**server.driver_parameters(root, **extra))


def _pattern(size: int, seed: int) -> bytes:
    block = bytes((seed + i) % 251 for i in range(4096))
    return (block * (size // len(block) + 1))[:size]


async def test_many_segments_compose_across_instances(gcs_server: GCSServer) -> None:
    root = _root()
    first = _driver(gcs_server, root, chunksize=MIN_CHUNK_SIZE)
    data = _pattern(40 * MIN_CHUNK_SIZE + 1234, seed=3)
    writer = await first.writer("/blobs/data")
    await writer.write(data[: 25 * MIN_CHUNK_SIZE + 7])  # 25 segments, a tail buffered
    await writer.close()  # the tail becomes a segment: 26
    second = _driver(gcs_server, root, chunksize=MIN_CHUNK_SIZE)  # another process
    resumed = await second.writer("/blobs/data", append=True)
    assert resumed.size == 25 * MIN_CHUNK_SIZE + 7
    await resumed.write(data[25 * MIN_CHUNK_SIZE + 7 :])
    await resumed.commit()  # 41 segments: two compose calls
    assert await second.get_content("/blobs/data") == data
    prefix = root.lstrip("/") + "/blobs/"
    assert gcs_server.object_names(prefix) == [prefix + "data"]  # no segment left
    with pytest.raises(PathNotFound):
        await second.writer("/blobs/data", append=True)  # committed: nothing to resume
    await first.close()
    await second.close()


async def test_past_the_component_limit_segments_are_streamed(
    gcs_server: GCSServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gcs_writer, "COMPONENTS_MAX", 4)  # GCS's is 1,024 (256 MiB here)
    driver = _driver(gcs_server, _root(), chunksize=MIN_CHUNK_SIZE)
    data = _pattern(6 * MIN_CHUNK_SIZE + 99, seed=5)
    writer = await driver.writer("/big")
    await writer.write(data)
    await writer.commit()
    assert await driver.get_content("/big") == data
    assert [c async for c in await driver.reader("/big", 5 * MIN_CHUNK_SIZE)] != []
    await driver.close()


@pytest.mark.parametrize(
    ("parameters", "words"),
    [
        ({}, "bucket is required"),
        ({"bucket": "b", "chunksize": 1000}, "multiple of 262144"),
        ({"bucket": "b", "chunksize": "many"}, "chunksize must be an integer"),
        ({"bucket": "b", "regionendpoint": "x"}, "unknown parameters: regionendpoint"),
        ({"bucket": "b", "credentials": "secret"}, "credentials must be a mapping"),
    ],
)
def test_bad_parameters_are_refused(parameters: dict[str, Any], words: str) -> None:
    with pytest.raises(StorageDriverError) as refused:
        GCSDriver.from_parameters(parameters)
    assert words in str(refused.value)


def _service_account(path: Path) -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "pyregistry-test",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "registry@pyregistry-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path.write_text(json.dumps(info))
    return info


async def test_signed_redirects_need_a_service_account(
    gcs_server: GCSServer, tmp_path: Path
) -> None:
    anonymous = _driver(gcs_server, "/r")
    assert await anonymous.redirect_url("/docker/blob/data") is None
    keyfile = tmp_path / "key.json"
    info = _service_account(keyfile)
    for signer in (
        _driver(gcs_server, "/r", keyfile=str(keyfile)),
        _driver(gcs_server, "/r", credentials=info),
    ):
        url = await signer.redirect_url("/docker/blob/data")  # signed offline
        assert url is not None
        assert "/pyregistry-test/r/docker/blob/data?" in url
        assert "X-Goog-Signature=" in url and "X-Goog-Expires=1200" in url
        assert await signer.redirect_url("/docker/blob/data", "PUT") is None
        await signer.close()
    await anonymous.close()


def test_a_registry_on_the_bucket(gcs_server: GCSServer, skopeo: Skopeo, tmp_path: Path) -> None:
    root = _root()
    document = {"storage": {"gcs": gcs_server.driver_parameters(root), "delete": {"enabled": True}}}
    image = build_image(seed="gcs-registry", layers=2, layer_size=300_000)
    with run_server(create_app(config_from_mapping(document))) as url:
        with RegistryClient(url) as client:
            client.push("team/app", image, "v1")
        pulled = skopeo.pull_checked(url, "team/app:v1", image.blobs(), tmp_path / "copy")
        assert pulled == image.digest
    # distribution's layout under the root, as its gcs driver writes it
    tag = f"{root[1:]}/docker/registry/v2/repositories/team/app/_manifests/tags/v1/current/link"
    assert tag in gcs_server.object_names(root[1:] + "/")
