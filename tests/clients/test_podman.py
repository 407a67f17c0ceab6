"""podman against the registry: push, pull back, and a multi-arch manifest list pushed --all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.images import (
    Image,
    MultiArchImage,
    sha256_digest,
)
from tests.support.podman import Podman
from tests.support.skopeo import Skopeo
from tests.support.targets import TargetRegistry

pytestmark = pytest.mark.slow  # real clients: a few seconds each


def test_push_and_pull(
    podman: Podman,
    skopeo: Skopeo,
    target_registry: TargetRegistry,
    single: tuple[Path, Image],
) -> None:
    layout, image = single
    image_id = podman.pull(f"oci:{layout}:v1")
    assert f"sha256:{image_id}" == image.config_digest
    name = target_registry.name("podman/single", f"v1-{target_registry.kind}")
    podman.tag(image_id, name)

    pushed = podman.push(name)
    served = skopeo.inspect_raw(f"docker://{name}")
    assert sha256_digest(served) == pushed
    assert json.loads(served)["config"]["digest"] == image.config_digest

    podman.remove_image(image_id)
    assert podman.pull(name) == image_id
    assert podman.image_digest(name) == pushed


def test_manifest_push_all(
    podman: Podman,
    skopeo: Skopeo,
    target_registry: TargetRegistry,
    multi: tuple[Path, MultiArchImage],
) -> None:
    layout, image = multi
    local_list = f"localhost/podman-list-{target_registry.kind}"
    podman.manifest_create(local_list)
    for arch in image.images:
        podman.manifest_add(local_list, f"oci:{layout}:{arch}")

    reference = target_registry.ref("podman/multi", "v1")
    pushed = podman.manifest_push_all(local_list, reference)
    served = skopeo.inspect_raw(reference)
    assert sha256_digest(served) == pushed
    index = json.loads(served)
    platforms = {entry["platform"]["architecture"] for entry in index["manifests"]}
    assert platforms == set(image.images)
    for entry in index["manifests"]:
        child = skopeo.inspect_raw(target_registry.ref("podman/multi", entry["digest"]))
        assert sha256_digest(child) == entry["digest"]
        arch = entry["platform"]["architecture"]
        assert json.loads(child)["config"]["digest"] == image.images[arch].config_digest

    pulled_id = podman.pull(f"{target_registry.host}/podman/multi:v1")
    assert f"sha256:{pulled_id}" == image.images["amd64"].config_digest
