"""Preloading through the HTTP API: OCI layouts (nested indexes too), OCI archives and
docker archives, checked by reading back and by real clients (skopeo, docker)."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path
from typing import cast

import pytest

from pyregistry import EmbeddedRegistry, PreloadError
from pyregistry.client.media import (
    DOCKER_CONFIG,
    DOCKER_LAYER,
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST,
    OCI_INDEX,
)
from tests.support.docker import Docker
from tests.support.images import (
    build_image,
    build_multiarch,
    canonical_json,
    sha256_digest,
    write_docker_archive,
    write_multiarch_layout,
    write_oci_layout,
)
from tests.support.skopeo import Skopeo


def test_oci_layout_keeps_digests_and_tags(registry: EmbeddedRegistry, tmp_path: Path) -> None:
    image = build_image(seed="preload-oci", layers=2)
    layout = write_oci_layout(tmp_path / "layout", image, tag="v1")
    pushed = registry.preload(layout, "pre/oci")
    assert [(p.reference, p.digest) for p in pushed] == [("pre/oci:v1", image.manifest_digest)]
    assert registry.get_manifest("pre/oci", "v1").content == image.manifest
    for digest, content in image.blobs().items():
        assert registry.get_blob("pre/oci", digest) == content


def test_tag_renames_a_single_image(registry: EmbeddedRegistry, tmp_path: Path) -> None:
    image = build_image(seed="preload-rename", layers=1)
    layout = write_oci_layout(tmp_path / "layout", image, tag="v1")
    registry.preload(layout, "pre/renamed", tag="stable")
    assert registry.tags("pre/renamed") == ["stable"]


def test_multiarch_layout_and_nested_index(registry: EmbeddedRegistry, tmp_path: Path) -> None:
    multi = build_multiarch(seed="preload-multi")
    layout = write_multiarch_layout(tmp_path / "layout", multi, tag="v1")
    # wrap the index in another index: a nested index, as `docker buildx` writes them
    outer = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {"mediaType": OCI_INDEX, "digest": multi.index_digest, "size": len(multi.index)}
            ],
        }
    )
    (layout / "blobs/sha256" / sha256_digest(outer).split(":")[1]).write_bytes(outer)
    index = json.loads((layout / "index.json").read_bytes())
    index["manifests"].append(
        {
            "mediaType": OCI_INDEX,
            "digest": sha256_digest(outer),
            "size": len(outer),
            "annotations": {"org.opencontainers.image.ref.name": "example.com/x/y:nested"},
        }
    )
    (layout / "index.json").write_bytes(canonical_json(index))

    pushed = registry.preload(layout, "pre/multi")
    assert {p.tag: p.digest for p in pushed} == {
        "v1": multi.index_digest,
        "amd64": multi.images["amd64"].manifest_digest,
        "arm64": multi.images["arm64"].manifest_digest,
        "nested": sha256_digest(outer),
    }
    assert registry.get_manifest("pre/multi", "nested").content == outer
    for image in multi.images.values():
        assert registry.get_manifest("pre/multi", image.manifest_digest).content == image.manifest


def test_oci_archive(registry: EmbeddedRegistry, tmp_path: Path) -> None:
    image = build_image(seed="preload-oci-archive", layers=1)
    layout = write_oci_layout(tmp_path / "layout", image, tag="v1")
    archive = tmp_path / "image.oci.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(layout, arcname=".")
    pushed = registry.preload(archive, "pre/archive")
    assert pushed[0].digest == image.manifest_digest


def _docker_manifest(registry: EmbeddedRegistry, repository: str, tag: str) -> dict[str, object]:
    manifest = registry.get_manifest(repository, tag)
    assert manifest.media_type == DOCKER_MANIFEST
    document: dict[str, object] = manifest.json()
    return document


def test_docker_archive_uses_repo_tags(registry: EmbeddedRegistry, tmp_path: Path) -> None:
    image = build_image(seed="preload-docker", layers=2)
    archive = write_docker_archive(
        tmp_path / "image.tar", image, repo_tags=["localhost:5000/team/app:v1", "team/app:v2"]
    )
    pushed = registry.preload(archive)
    assert [p.reference for p in pushed] == ["team/app:v1", "team/app:v2"]
    assert pushed[0].digest == pushed[1].digest
    manifest = _docker_manifest(registry, "team/app", "v1")
    assert manifest["config"] == {
        "mediaType": DOCKER_CONFIG,
        "size": len(image.config),
        "digest": image.config_digest,
    }
    # docker save writes uncompressed layer tars: pushed as they are, typed as such
    assert manifest["layers"] == [
        {"mediaType": DOCKER_LAYER, "size": len(layer.tar), "digest": layer.diff_id}
        for layer in image.layers
    ]


def test_docker_archive_gzip_layer_and_repository(
    registry: EmbeddedRegistry, tmp_path: Path
) -> None:
    image = build_image(seed="preload-docker-gz", layers=1)
    layer = image.layers[0]
    entries = {
        "config.json": image.config,
        "layer.tar.gz": gzip.compress(layer.tar, mtime=0),
        "manifest.json": json.dumps(
            [{"Config": "config.json", "RepoTags": None, "Layers": ["layer.tar.gz"]}]
        ).encode(),
    }
    archive = tmp_path / "gz.tar"
    with tarfile.open(archive, "w") as tar:
        for name, content in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    with pytest.raises(PreloadError, match="repository="):
        registry.preload(archive)
    pushed = registry.preload(archive, "pre/gz", tag="v1")
    assert pushed[0].reference == "pre/gz:v1"
    manifest = _docker_manifest(registry, "pre/gz", "v1")
    (only,) = cast(list[dict[str, object]], manifest["layers"])
    assert only["mediaType"] == DOCKER_LAYER_GZIP
    assert only["digest"] == sha256_digest(entries["layer.tar.gz"])


def test_bad_sources_are_refused(registry: EmbeddedRegistry, tmp_path: Path) -> None:
    with pytest.raises(PreloadError, match="no such file"):
        registry.preload(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PreloadError, match="neither"):
        registry.preload(tmp_path / "empty", "pre/x")
    image = build_image(seed="preload-broken", layers=1)
    layout = write_oci_layout(tmp_path / "broken", image)
    with pytest.raises(PreloadError, match="repository="):
        registry.preload(layout)
    (layout / "blobs/sha256" / image.layer_digests[0].split(":")[1]).unlink()
    with pytest.raises(PreloadError, match="missing from the layout"):
        registry.preload(layout, "pre/broken")
    assert registry.tags("pre/broken") == []


def test_skopeo_pulls_a_preloaded_docker_archive(
    registry: EmbeddedRegistry, skopeo: Skopeo, tmp_path: Path
) -> None:
    image = build_image(seed="preload-skopeo", layers=2)
    archive = write_docker_archive(tmp_path / "image.tar", image, repo_tags=["skopeo/app:v1"])
    (pushed,) = registry.preload(archive)
    out = tmp_path / "out"
    skopeo.copy(f"docker://{registry.reference('skopeo/app', 'v1')}", f"dir:{out}")
    served = registry.get_manifest("skopeo/app", pushed.digest)
    assert (out / "manifest.json").read_bytes() == served.content
    assert (out / image.config_digest.split(":")[1]).read_bytes() == image.config
    for layer in image.layers:  # skopeo checked each blob against its digest
        assert (out / layer.diff_id.split(":")[1]).read_bytes() == layer.tar


def test_docker_pulls_a_preloaded_docker_archive(
    registry: EmbeddedRegistry, docker: Docker, tmp_path: Path
) -> None:
    image = build_image(seed="preload-docker-pull", layers=1, with_busybox=True)
    archive = write_docker_archive(tmp_path / "image.tar", image, repo_tags=["dock/app:v1"])
    (pushed,) = registry.preload(archive)
    reference = registry.reference("dock/app", "v1")
    try:
        assert docker.pull(reference) == pushed.digest
        assert docker.inspect(reference)["Id"] == image.config_digest
    finally:
        docker.remove_images(reference)
