"""Test images on disk: OCI image layouts and docker-archives, from the package's content
builder (:mod:`pyregistry.client.content`).

Real clients need real images, and the machine has no internet. The builder writes
config, layers (gzip-ed tars) and manifests deterministically, so every digest is known
before a client touches the image and can be compared after a round trip. This module
adds what only tests need: the busybox layer, and writing and reading layouts.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pyregistry.client import content as builder
from pyregistry.client.content import (
    CREATED,
    EPOCH,
    Image,
    Index,
    Layer,
    build_layer,
    canonical_json,
    random_layer,
)
from pyregistry.client.media import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    sha256_digest,
)

REF_NAME = "org.opencontainers.image.ref.name"
BUSYBOX = Path("/bin/busybox")

__all__ = [
    "BUSYBOX",
    "CREATED",
    "DOCKER_LIST",
    "DOCKER_MANIFEST",
    "EPOCH",
    "OCI_CONFIG",
    "OCI_INDEX",
    "OCI_LAYER_GZIP",
    "OCI_MANIFEST",
    "REF_NAME",
    "Image",
    "Layer",
    "MultiArchImage",
    "assert_layout_holds",
    "build_image",
    "build_layer",
    "build_multiarch",
    "busybox_layer",
    "canonical_json",
    "random_layer",
    "read_layout_blob",
    "read_layout_manifest",
    "sha256_digest",
    "write_docker_archive",
    "write_multiarch_layout",
    "write_oci_layout",
]


class MultiArchImage(Index):
    """An OCI image index over single-platform images, by architecture."""

    @property
    def index(self) -> bytes:
        return self.manifest

    @property
    def index_digest(self) -> str:
        return self.digest


def busybox_layer() -> Layer:
    """A layer with the static busybox as ``bin/busybox`` (a realistic ~2 MB blob)."""
    if not BUSYBOX.is_file():
        pytest.fail(f"{BUSYBOX} is missing: run `apt-get install -y busybox-static`", pytrace=False)
    return build_layer({"bin/busybox": BUSYBOX.read_bytes()}, executable=("bin/busybox",))


def build_image(
    *,
    architecture: str = "amd64",
    layers: int = 2,
    layer_size: int = 4096,
    seed: str = "image",
    with_busybox: bool = False,
) -> Image:
    """A single-platform OCI image with ``layers`` random layers (busybox first if asked).

    The seed and architecture feed the layer content, so images with different seeds or
    architectures share no random blobs.
    """
    base = (busybox_layer(),) if with_busybox else ()
    return builder.build_image(
        architecture=architecture,
        layers=layers,
        layer_size=layer_size,
        seed=seed,
        base_layers=base,
    )


def build_multiarch(
    *, architectures: Sequence[str] = ("amd64", "arm64"), seed: str = "multi", layers: int = 1
) -> MultiArchImage:
    """An OCI image index with one image per architecture."""
    index = builder.build_multiarch(architectures=architectures, seed=seed, layers=layers)
    return MultiArchImage(index.manifest, index.media_type, index.images)


def _write_blob(layout: Path, data: bytes) -> None:
    algorithm, hexdigest = sha256_digest(data).split(":", 1)
    path = layout / "blobs" / algorithm / hexdigest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _write_layout(layout: Path, refs: list[dict[str, Any]], blobs: Sequence[bytes]) -> None:
    layout.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_bytes(canonical_json({"imageLayoutVersion": "1.0.0"}))
    for blob in blobs:
        _write_blob(layout, blob)
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": refs}
    (layout / "index.json").write_bytes(canonical_json(index))


def _ref(media_type: str, data: bytes, tag: str) -> dict[str, Any]:
    return {
        "mediaType": media_type,
        "digest": sha256_digest(data),
        "size": len(data),
        "annotations": {REF_NAME: tag},
    }


def write_oci_layout(layout: Path, image: Image, *, tag: str = "latest") -> Path:
    """Write ``image`` as an OCI image layout directory, referenced as ``oci:LAYOUT:TAG``."""
    blobs = [image.manifest, *image.blobs().values()]
    _write_layout(layout, [_ref(OCI_MANIFEST, image.manifest, tag)], blobs)
    return layout


def write_multiarch_layout(layout: Path, multi: Index, *, tag: str = "latest") -> Path:
    """Write an index as ``oci:LAYOUT:TAG`` and each platform image as ``oci:LAYOUT:ARCH``.

    The per-architecture tags let podman ``manifest add`` pick single images.
    """
    refs = [_ref(OCI_INDEX, multi.manifest, tag)]
    blobs: list[bytes] = [multi.manifest]
    for arch, image in multi.images.items():
        refs.append(_ref(OCI_MANIFEST, image.manifest, arch))
        blobs += [image.manifest, *image.blobs().values()]
    _write_layout(layout, refs, blobs)
    return layout


def write_docker_archive(path: Path, image: Image, *, repo_tags: Sequence[str]) -> Path:
    """Write ``image`` in ``docker save`` format (manifest.json, config, layer tars).

    ``docker load`` reads it; docker then compresses layers itself when pushing, so pushed
    layer digests differ from ``image.layer_digests`` while the config digest (the image
    ID) stays the same.
    """
    config_hex = image.config_digest.split(":", 1)[1]
    entries: dict[str, bytes] = {f"{config_hex}.json": image.config}
    layer_paths = []
    for layer in image.layers:
        name = f"{layer.diff_id.split(':', 1)[1]}/layer.tar"
        entries[name] = layer.tar
        layer_paths.append(name)
    entries["manifest.json"] = json.dumps(
        [{"Config": f"{config_hex}.json", "RepoTags": list(repo_tags), "Layers": layer_paths}]
    ).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, mode="w") as tar:
        for name, content in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mtime = EPOCH
            tar.addfile(info, io.BytesIO(content))
    return path


def read_layout_manifest(layout: Path, tag: str) -> bytes:
    """The manifest (or index) bytes that ``oci:LAYOUT:TAG`` points to, e.g. after a pull."""
    index = json.loads((layout / "index.json").read_bytes())
    for entry in index["manifests"]:
        if entry.get("annotations", {}).get(REF_NAME) == tag:
            return read_layout_blob(layout, entry["digest"])
    raise KeyError(f"tag {tag!r} not in {layout}/index.json")


def read_layout_blob(layout: Path, digest: str) -> bytes:
    """A blob from an OCI layout by digest."""
    algorithm, hexdigest = digest.split(":", 1)
    return (layout / "blobs" / algorithm / hexdigest).read_bytes()


def assert_layout_holds(layout: Path, tag: str, image: Image | Index) -> None:
    """``oci:LAYOUT:TAG`` (e.g. pulled from a registry) holds exactly ``image``: the same
    manifest (or index) bytes, and every manifest and blob they reference."""
    if isinstance(image, Index):
        assert read_layout_manifest(layout, tag) == image.manifest
        children = list(image.images.values())
        for child in children:
            assert read_layout_blob(layout, child.manifest_digest) == child.manifest
    else:
        assert read_layout_manifest(layout, tag) == image.manifest
        children = [image]
    for child in children:
        for digest, content in child.blobs().items():
            assert read_layout_blob(layout, digest) == content
