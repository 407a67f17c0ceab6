"""buildah against the registry: an image built from scratch pushed and pulled back, an
image built on a pulled base pushed to another repository (its base layer mounted), and
a manifest list pushed with ``--all``."""

from __future__ import annotations

import json
import os

import httpx
import pytest

from tests.support.buildah import Buildah
from tests.support.images import sha256_digest
from tests.support.skopeo import Skopeo
from tests.support.targets import TargetRegistry

pytestmark = pytest.mark.slow  # a real client: a few seconds each


def _scratch_image(buildah: Buildah, name: str, image_format: str = "oci") -> str:
    """A one-file image built from scratch (fresh random content); its image ID."""
    container = buildah.from_image("scratch")
    buildah.add_file(container, os.urandom(4096), "/data")
    buildah.config(container, "--label", "org.example.built-by=buildah", "--cmd", "/data")
    return buildah.commit(container, name, image_format)


def test_build_push_and_pull_back(
    buildah: Buildah, skopeo: Skopeo, target_registry: TargetRegistry
) -> None:
    name = target_registry.name("buildah/scratch", f"v1-{target_registry.kind}")
    image_id = _scratch_image(buildah, f"localhost/buildah-scratch-{target_registry.kind}")
    pushed = buildah.push(image_id, f"docker://{name}")

    served = skopeo.inspect_raw(f"docker://{name}")
    assert sha256_digest(served) == pushed
    manifest = json.loads(served)
    assert manifest["config"]["digest"] == f"sha256:{image_id}"
    config = httpx.get(
        f"{target_registry.url}/v2/buildah/scratch/blobs/{manifest['config']['digest']}"
    ).json()
    assert config["config"]["Labels"]["org.example.built-by"] == "buildah"

    buildah.remove_images()
    assert buildah.pull(name) == image_id
    assert buildah.image_digest(name) == pushed


def test_build_on_a_pulled_base_and_push_elsewhere(
    buildah: Buildah, skopeo: Skopeo, target_registry: TargetRegistry
) -> None:
    base = target_registry.name("buildah/base", "v1")
    buildah.push(_scratch_image(buildah, "localhost/buildah-base", "docker"), f"docker://{base}")
    buildah.remove_images()

    container = buildah.from_image(base)  # pulled from the registry
    buildah.add_file(container, os.urandom(2048), "/more")
    derived = target_registry.name("buildah/derived", "v1")
    pushed = buildah.push(
        buildah.commit(container, "localhost/buildah-derived", "docker"), f"docker://{derived}"
    )

    served = json.loads(skopeo.inspect_raw(f"docker://{derived}"))
    assert sha256_digest(skopeo.inspect_raw(f"docker://{derived}")) == pushed
    base_layer = json.loads(skopeo.inspect_raw(f"docker://{base}"))["layers"][0]
    assert served["layers"][0]["digest"] == base_layer["digest"]
    assert len(served["layers"]) == 2
    for layer in served["layers"]:  # the base layer too, in the new repository
        head = httpx.head(f"{target_registry.url}/v2/buildah/derived/blobs/{layer['digest']}")
        assert head.status_code == 200, layer


def test_manifest_push_all(
    buildah: Buildah, skopeo: Skopeo, target_registry: TargetRegistry
) -> None:
    images = {
        arch: _scratch_image(buildah, f"localhost/buildah-{arch}") for arch in ("amd64", "arm64")
    }
    local_list = f"localhost/buildah-list-{target_registry.kind}"
    buildah.manifest_create(local_list)
    for arch, image_id in images.items():
        buildah.manifest_add(local_list, image_id, arch)

    reference = target_registry.ref("buildah/multi", "v1")
    pushed = buildah.manifest_push_all(local_list, reference)
    served = skopeo.inspect_raw(reference)
    assert sha256_digest(served) == pushed
    index = json.loads(served)
    assert {entry["platform"]["architecture"] for entry in index["manifests"]} == set(images)
    for entry in index["manifests"]:
        child = json.loads(
            skopeo.inspect_raw(target_registry.ref("buildah/multi", entry["digest"]))
        )
        arch = entry["platform"]["architecture"]
        assert child["config"]["digest"] == f"sha256:{images[arch]}"
