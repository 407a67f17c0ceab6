"""skopeo against the registry: OCI image, v2s2 conversion, multi-arch index, tags, delete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.command import CommandError
from tests.support.images import (
    DOCKER_MANIFEST,
    Image,
    MultiArchImage,
    assert_layout_holds,
    sha256_digest,
)
from tests.support.skopeo import Skopeo
from tests.support.targets import TargetRegistry

pytestmark = pytest.mark.slow  # real clients: a few seconds each


def test_push_and_pull_oci_image(
    skopeo: Skopeo,
    target_registry: TargetRegistry,
    single: tuple[Path, Image],
    tmp_path: Path,
) -> None:
    layout, image = single
    pushed = skopeo.copy(f"oci:{layout}:v1", target_registry.ref("skopeo/single", "v1"))
    assert pushed == image.manifest_digest
    served = skopeo.inspect_raw(target_registry.ref("skopeo/single", "v1"))
    assert served == image.manifest
    by_digest = skopeo.inspect_raw(target_registry.ref("skopeo/single", image.manifest_digest))
    assert by_digest == image.manifest

    pulled = tmp_path / "pulled"
    skopeo.copy(target_registry.ref("skopeo/single", "v1"), f"oci:{pulled}:v1")
    assert_layout_holds(pulled, "v1", image)


def test_push_converted_to_v2s2(
    skopeo: Skopeo,
    target_registry: TargetRegistry,
    single: tuple[Path, Image],
    tmp_path: Path,
) -> None:
    layout, image = single
    reference = target_registry.ref("skopeo/v2s2", "v1")
    pushed = skopeo.copy(f"oci:{layout}:v1", reference, manifest_format="v2s2")
    served = skopeo.inspect_raw(reference)
    assert sha256_digest(served) == pushed
    manifest = json.loads(served)
    assert manifest["mediaType"] == DOCKER_MANIFEST
    assert manifest["config"]["digest"] == image.config_digest
    assert [layer["digest"] for layer in manifest["layers"]] == image.layer_digests

    # dir: keeps the manifest byte for byte (oci: would convert it back).
    pulled = tmp_path / "pulled"
    skopeo.copy(reference, f"dir:{pulled}")
    assert sha256_digest((pulled / "manifest.json").read_bytes()) == pushed
    for digest, content in image.blobs().items():
        assert (pulled / digest.split(":", 1)[1]).read_bytes() == content


def test_push_and_pull_multiarch_index(
    skopeo: Skopeo,
    target_registry: TargetRegistry,
    multi: tuple[Path, MultiArchImage],
    tmp_path: Path,
) -> None:
    layout, image = multi
    reference = target_registry.ref("skopeo/multi", "v1")
    pushed = skopeo.copy(f"oci:{layout}:v1", reference, all_images=True)
    assert pushed == image.index_digest
    assert skopeo.inspect_raw(reference) == image.index
    for child in image.images.values():
        served = skopeo.inspect_raw(target_registry.ref("skopeo/multi", child.manifest_digest))
        assert served == child.manifest

    pulled = tmp_path / "pulled"
    assert skopeo.copy(reference, f"oci:{pulled}:v1", all_images=True) == image.index_digest
    assert_layout_holds(pulled, "v1", image)


def test_list_tags(
    skopeo: Skopeo, target_registry: TargetRegistry, single: tuple[Path, Image]
) -> None:
    layout, _ = single
    for tag in ("b", "a", "1.0"):
        skopeo.copy(f"oci:{layout}:v1", target_registry.ref("skopeo/tags", tag))
    assert skopeo.list_tags(f"docker://{target_registry.host}/skopeo/tags") == ["1.0", "a", "b"]


def test_delete(
    skopeo: Skopeo, target_registry: TargetRegistry, multi: tuple[Path, MultiArchImage]
) -> None:
    layout, image = multi
    amd64 = image.images["amd64"]
    arm64 = image.images["arm64"]
    skopeo.copy(f"oci:{layout}:amd64", target_registry.ref("skopeo/delete", "amd64"))
    skopeo.copy(f"oci:{layout}:arm64", target_registry.ref("skopeo/delete", "arm64"))

    skopeo.delete(target_registry.ref("skopeo/delete", "amd64"))

    with pytest.raises(CommandError, match="manifest unknown"):
        skopeo.inspect_raw(target_registry.ref("skopeo/delete", "amd64"))
    with pytest.raises(CommandError, match="manifest unknown"):
        skopeo.inspect_raw(target_registry.ref("skopeo/delete", amd64.manifest_digest))
    assert skopeo.inspect_raw(target_registry.ref("skopeo/delete", "arm64")) == arm64.manifest
    assert skopeo.list_tags(f"docker://{target_registry.host}/skopeo/delete") == ["arm64"]
