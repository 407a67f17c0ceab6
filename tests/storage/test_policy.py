"""The deployment's manifest rules are checked behind ``ManifestService.put``: a writer
that never goes through HTTP (a mirror, replication, a management API) gets them too."""

from __future__ import annotations

import json
import re

import pytest

from pyregistry.config import config_from_document
from pyregistry.config.validation import validation_policy
from pyregistry.storage import (
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestTooLarge,
    Registry,
    TagInvalid,
    paths,
)
from pyregistry.storage.policy import INDEXES_LIST, ManifestPolicy
from storage_drivers.inmemory import InMemoryDriver
from tests.storage.helpers import (
    OCI_INDEX,
    OCI_MANIFEST,
    descriptor,
    dumps,
    push_image,
    sha256,
)

FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"


def foreign_image(config: bytes, url: str) -> bytes:
    layer = {**descriptor(FOREIGN, b"elsewhere"), "urls": [url]}
    return dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor("application/vnd.oci.image.config.v1+json", config),
            "layers": [layer],
        }
    )


async def test_layer_url_rules_apply_to_a_direct_put() -> None:
    policy = ManifestPolicy(url_deny=re.compile(r"evil\.example"))
    repo = Registry(InMemoryDriver(), policy=policy).repository("app")
    config = await repo.blobs.put(b"{}")
    with pytest.raises(ManifestInvalid) as refused:
        await repo.manifests.put(foreign_image(b"{}", "https://evil.example/l"), OCI_MANIFEST)
    assert refused.value.detail == {
        "digest": str(sha256(b"elsewhere")),
        "url": "https://evil.example/l",
    }
    with pytest.raises(ManifestInvalid):
        await repo.manifests.put(foreign_image(b"{}", "ftp://good.example/l"), OCI_MANIFEST)
    ok = await repo.manifests.put(foreign_image(b"{}", "https://good.example/l"), OCI_MANIFEST)
    assert await repo.manifests.exists(ok.digest)
    assert config.digest == sha256(b"{}")

    disabled = Registry(InMemoryDriver(), policy=ManifestPolicy(enabled=False)).repository("a")
    await disabled.blobs.put(b"{}")
    await disabled.manifests.put(foreign_image(b"{}", "ftp://any.example/l"), OCI_MANIFEST)


async def test_platform_list_from_config_section_applies_to_a_direct_put() -> None:
    section = {
        "manifests": {
            "indexes": {
                "platforms": "list",
                "platformlist": [{"architecture": "amd64", "os": "linux"}],
            }
        }
    }
    config = config_from_document(
        {"version": "0.1", "storage": {"inmemory": None}, "validation": section}
    )
    policy = validation_policy(config.validation)
    assert policy.index_platforms == INDEXES_LIST
    repo = Registry(InMemoryDriver(), policy=policy).repository("multi")
    content, amd64 = await push_image(repo, "amd64")
    missing = sha256(b"not pushed")

    def index(arch: str) -> bytes:
        child = {
            "mediaType": OCI_MANIFEST,
            "digest": str(missing),
            "size": 10,
            "platform": {"architecture": arch, "os": "linux"},
        }
        present = {
            **descriptor(OCI_MANIFEST, content),
            "platform": {"architecture": "amd64", "os": "linux"},
        }
        return dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [present, child]})

    result = await repo.manifests.put(index("arm64"), OCI_INDEX)  # arm64 may be absent
    assert await repo.manifests.exists(result.digest)
    with pytest.raises(ManifestBlobUnknown) as refused:
        await repo.manifests.put(index("amd64"), OCI_INDEX)
    assert refused.value.detail["digest"] == str(missing)
    assert amd64.digest == sha256(content)


async def test_size_digest_and_tags_are_checked_before_anything_is_written() -> None:
    driver = InMemoryDriver()
    repo = Registry(driver, policy=ManifestPolicy(max_manifest_size=400)).repository("app")
    content, first = await push_image(repo, "one")
    before = sorted([info.path async for info in driver.walk(paths.ROOT)])

    with pytest.raises(ManifestTooLarge):
        await repo.manifests.put(content + b" " * 400, OCI_MANIFEST)
    with pytest.raises(DigestInvalid):
        await repo.manifests.put(content + b" ", OCI_MANIFEST, digest=first.digest)
    with pytest.raises(TagInvalid):
        await repo.manifests.put(content + b"\n", OCI_MANIFEST, tags=["ok", "-bad"])
    assert sorted([info.path async for info in driver.walk(paths.ROOT)]) == before

    result = await repo.manifests.put(content, OCI_MANIFEST, tags=["a", "b", "a"])
    assert result.tags == ("a", "b")
    assert result.media_type == OCI_MANIFEST
    assert result.size == len(content)
    assert [ref["digest"] for ref in result.references][1:] == [
        layer["digest"] for layer in json.loads(content)["layers"]
    ]
    assert await repo.tags.get("a") == await repo.tags.get("b") == first.digest
