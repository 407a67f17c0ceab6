"""Test images built offline and deterministically: OCI image layouts and docker-archives.

Real clients need real images, and the machine has no internet. These builders write
config, layers (gzip-ed tars made with ``tarfile``) and manifests by hand, so every digest
is known before a client touches the image and can be compared after a round trip.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
REF_NAME = "org.opencontainers.image.ref.name"

# A fixed timestamp keeps tar headers, configs and therefore digests reproducible.
EPOCH = 1_700_000_000
CREATED = "2023-11-14T22:13:20Z"
BUSYBOX = Path("/bin/busybox")


def sha256_digest(data: bytes) -> str:
    """The OCI digest string of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> bytes:
    """Stable JSON bytes (sorted keys, no spaces) so equal content gives equal digests."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Layer:
    """One filesystem layer: the uncompressed tar (diff_id) and its gzip form (the blob)."""

    tar: bytes
    gzipped: bytes

    @property
    def diff_id(self) -> str:
        return sha256_digest(self.tar)

    @property
    def digest(self) -> str:
        return sha256_digest(self.gzipped)


@dataclass(frozen=True)
class Image:
    """A single-platform image: its manifest bytes, config bytes and layers."""

    architecture: str
    config: bytes
    manifest: bytes
    layers: tuple[Layer, ...]

    @property
    def manifest_digest(self) -> str:
        return sha256_digest(self.manifest)

    @property
    def config_digest(self) -> str:
        return sha256_digest(self.config)

    @property
    def layer_digests(self) -> list[str]:
        return [layer.digest for layer in self.layers]

    def blobs(self) -> dict[str, bytes]:
        """Every blob the manifest references, by digest (config and layers)."""
        result = {self.config_digest: self.config}
        result.update({layer.digest: layer.gzipped for layer in self.layers})
        return result


@dataclass(frozen=True)
class MultiArchImage:
    """An OCI image index over several single-platform images."""

    index: bytes
    images: dict[str, Image] = field(default_factory=dict)  # by architecture

    @property
    def index_digest(self) -> str:
        return sha256_digest(self.index)


def build_layer(files: Mapping[str, bytes], *, executable: Sequence[str] = ()) -> Layer:
    """A layer holding ``files`` (path -> content) plus their parent directories.

    Entries are sorted and owned by root with a fixed mtime, and gzip carries no
    timestamp, so the same files always give the same digests.
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        directories = sorted(
            {str(Path(p).parents[i]) for p in files for i in range(len(Path(p).parents) - 1)}
        )
        for directory in directories:
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            info.mtime = EPOCH
            tar.addfile(info)
        for path in sorted(files):
            content = files[path]
            info = tarfile.TarInfo(path)
            info.size = len(content)
            info.mode = 0o755 if path in executable else 0o644
            info.mtime = EPOCH
            tar.addfile(info, io.BytesIO(content))
    raw = buffer.getvalue()
    return Layer(tar=raw, gzipped=gzip.compress(raw, compresslevel=6, mtime=0))


def random_layer(seed: str, *, files: int = 2, size: int = 4096) -> Layer:
    """A layer of ``files`` pseudo-random files of ``size`` bytes, reproducible from ``seed``."""
    rng = random.Random(seed)
    return build_layer({f"data/{seed}/file{i}.bin": rng.randbytes(size) for i in range(files)})


def busybox_layer() -> Layer:
    """A layer with the static busybox as ``bin/busybox`` (a realistic ~2 MB blob)."""
    if not BUSYBOX.is_file():
        pytest.fail(f"{BUSYBOX} is missing: run `apt-get install -y busybox-static`", pytrace=False)
    content = BUSYBOX.read_bytes()
    return build_layer({"bin/busybox": content}, executable=("bin/busybox",))


def build_image(
    *,
    architecture: str = "amd64",
    layers: int = 2,
    layer_size: int = 4096,
    seed: str = "image",
    with_busybox: bool = False,
) -> Image:
    """A single-platform OCI image with ``layers`` random layers (plus busybox if asked).

    The seed and architecture feed the layer content, so images with different seeds or
    architectures share no blobs.
    """
    built: list[Layer] = [busybox_layer()] if with_busybox else []
    built += [random_layer(f"{seed}-{architecture}-{i}", size=layer_size) for i in range(layers)]
    config = canonical_json(
        {
            "architecture": architecture,
            "os": "linux",
            "created": CREATED,
            "config": {"Cmd": ["/bin/busybox", "sh"], "Env": [f"PYREGISTRY_TEST={seed}"]},
            "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in built]},
            "history": [
                {"created": CREATED, "created_by": f"layer {i}"} for i in range(len(built))
            ],
        }
    )
    manifest = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": OCI_CONFIG,
                "digest": sha256_digest(config),
                "size": len(config),
            },
            "layers": [
                {"mediaType": OCI_LAYER_GZIP, "digest": layer.digest, "size": len(layer.gzipped)}
                for layer in built
            ],
        }
    )
    return Image(architecture=architecture, config=config, manifest=manifest, layers=tuple(built))


def build_multiarch(
    *, architectures: Sequence[str] = ("amd64", "arm64"), seed: str = "multi", layers: int = 1
) -> MultiArchImage:
    """An OCI image index with one image per architecture."""
    images = {
        arch: build_image(architecture=arch, seed=seed, layers=layers) for arch in architectures
    }
    index = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": image.manifest_digest,
                    "size": len(image.manifest),
                    "platform": {"architecture": arch, "os": "linux"},
                }
                for arch, image in images.items()
            ],
        }
    )
    return MultiArchImage(index=index, images=images)


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


def write_multiarch_layout(layout: Path, multi: MultiArchImage, *, tag: str = "latest") -> Path:
    """Write an index as ``oci:LAYOUT:TAG`` and each platform image as ``oci:LAYOUT:ARCH``.

    The per-architecture tags let podman ``manifest add`` pick single images.
    """
    refs = [_ref(OCI_INDEX, multi.index, tag)]
    blobs: list[bytes] = [multi.index]
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


def assert_layout_holds(layout: Path, tag: str, image: Image | MultiArchImage) -> None:
    """``oci:LAYOUT:TAG`` (e.g. pulled from a registry) holds exactly ``image``: the same
    manifest (or index) bytes, and every manifest and blob they reference."""
    if isinstance(image, MultiArchImage):
        assert read_layout_manifest(layout, tag) == image.index
        children = list(image.images.values())
        for child in children:
            assert read_layout_blob(layout, child.manifest_digest) == child.manifest
    else:
        assert read_layout_manifest(layout, tag) == image.manifest
        children = [image]
    for child in children:
        for digest, content in child.blobs().items():
            assert read_layout_blob(layout, digest) == content
