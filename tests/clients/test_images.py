"""The offline image builders: reproducible digests and well-formed archives."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from tests.support.images import (
    OCI_INDEX,
    build_image,
    build_multiarch,
    read_layout_manifest,
    sha256_digest,
    write_docker_archive,
    write_multiarch_layout,
)


def test_images_are_reproducible_and_distinct() -> None:
    first = build_image(seed="same", with_busybox=True)
    again = build_image(seed="same", with_busybox=True)
    assert first.manifest_digest == again.manifest_digest
    assert first.layer_digests == again.layer_digests
    other_arch = build_image(seed="same", architecture="arm64", with_busybox=True)
    assert other_arch.manifest_digest != first.manifest_digest
    # busybox is shared, the random layers are not.
    assert set(other_arch.layer_digests) & set(first.layer_digests) == {first.layer_digests[0]}


def test_multiarch_layout_has_index_and_per_arch_tags(tmp_path: Path) -> None:
    multi = build_multiarch(architectures=("amd64", "arm64", "s390x"))
    write_multiarch_layout(tmp_path, multi, tag="all")
    index = json.loads(read_layout_manifest(tmp_path, "all"))
    assert index["mediaType"] == OCI_INDEX
    assert sha256_digest(read_layout_manifest(tmp_path, "all")) == multi.index_digest
    for arch, image in multi.images.items():
        assert read_layout_manifest(tmp_path, arch) == image.manifest


def test_docker_archive_lists_config_and_layers(tmp_path: Path) -> None:
    image = build_image(seed="archive", layers=3)
    path = write_docker_archive(tmp_path / "image.tar", image, repo_tags=["a/b:c"])
    with tarfile.open(path) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        (entry,) = manifest
        assert entry["RepoTags"] == ["a/b:c"]
        config = tar.extractfile(entry["Config"]).read()  # type: ignore[union-attr]
        assert sha256_digest(config) == image.config_digest
        diff_ids = [
            sha256_digest(tar.extractfile(name).read())  # type: ignore[union-attr]
            for name in entry["Layers"]
        ]
    assert diff_ids == json.loads(config)["rootfs"]["diff_ids"]
