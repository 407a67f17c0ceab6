"""Content to push, made in memory: images of random gzip-ed layers, indexes, OCI 1.1
artifacts, Docker schema 2 images, deterministic by seed. The one builder the tests,
the bench and the embedding's helpers share.

Layers are real tars and configs list their ``diff_ids``, so docker, podman and skopeo
pull these images without complaint. Equal seeds give equal bytes (tar headers and
gzip carry a fixed time), hence equal digests; no seed gives new content every call.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import random
import secrets
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyregistry.client.media import (
    DOCKER_CONFIG,
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST,
    OCI_CONFIG,
    OCI_EMPTY,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    OCTET_STREAM,
    sha256_digest,
)

#: A fixed time in tar headers and configs: equal seeds give equal digests.
EPOCH = 1_700_000_000
CREATED = "2023-11-14T22:13:20Z"
EMPTY_JSON = b"{}"


def canonical_json(value: Any) -> bytes:
    """Compact JSON with sorted keys: equal content, equal digest."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def descriptor(media_type: str, content: bytes, /, **extra: Any) -> dict[str, Any]:
    """The descriptor (mediaType, digest, size, ...) of ``content``."""
    digest = sha256_digest(content)
    return {"mediaType": media_type, "digest": digest, "size": len(content), **extra}


@dataclass(frozen=True)
class Layer:
    """One filesystem layer: the uncompressed tar (its digest is the diff_id) and its
    gzip form (the blob)."""

    tar: bytes
    gzipped: bytes

    @property
    def diff_id(self) -> str:
        return sha256_digest(self.tar)

    @property
    def digest(self) -> str:
        return sha256_digest(self.gzipped)


@dataclass(frozen=True)
class Built:
    """A manifest's bytes and media type; subclasses know the blobs it references."""

    manifest: bytes
    media_type: str

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest)

    @property
    def manifest_digest(self) -> str:
        return self.digest

    def descriptor(self, **extra: Any) -> dict[str, Any]:
        return descriptor(self.media_type, self.manifest, **extra)

    def blobs(self) -> dict[str, bytes]:
        """The blobs this manifest references, by digest (pushed before it)."""
        return {}

    def children(self) -> Sequence[Built]:
        """Manifests this one references (an index's images), pushed before it."""
        return ()


@dataclass(frozen=True)
class Image(Built):
    """A single-platform image: manifest, config and layers."""

    architecture: str
    config: bytes
    layers: tuple[Layer, ...]

    @property
    def config_digest(self) -> str:
        return sha256_digest(self.config)

    @property
    def layer_digests(self) -> list[str]:
        return [layer.digest for layer in self.layers]

    def blobs(self) -> dict[str, bytes]:
        result = {self.config_digest: self.config}
        result.update({layer.digest: layer.gzipped for layer in self.layers})
        return result


@dataclass(frozen=True)
class Index(Built):
    """An image index over single-platform images (by architecture)."""

    images: dict[str, Image] = field(default_factory=dict)

    def children(self) -> Sequence[Built]:
        return list(self.images.values())


@dataclass(frozen=True)
class Artifact(Built):
    """An OCI 1.1 artifact: its blobs are the empty config and what it carries."""

    contents: tuple[bytes, ...] = ()

    def blobs(self) -> dict[str, bytes]:
        result = {sha256_digest(EMPTY_JSON): EMPTY_JSON}
        result.update({sha256_digest(blob): blob for blob in self.contents})
        return result


def build_layer(
    files: Mapping[str, bytes], *, executable: Sequence[str] = (), compresslevel: int = 6
) -> Layer:
    """A layer holding ``files`` (path -> content) plus their parent directories: sorted,
    root-owned, fixed mtime, gzip without a timestamp."""
    buffer = io.BytesIO()
    parents = sorted({parent for path in files for parent in _parents(path)})
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for directory in parents:
            info = tarfile.TarInfo(directory)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, EPOCH
            tar.addfile(info)
        for path in sorted(files):
            info = tarfile.TarInfo(path)
            info.size = len(files[path])
            info.mode = 0o755 if path in executable else 0o644
            info.mtime = EPOCH
            tar.addfile(info, io.BytesIO(files[path]))
    raw = buffer.getvalue()
    return Layer(tar=raw, gzipped=gzip.compress(raw, compresslevel=compresslevel, mtime=0))


def _parents(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def random_layer(seed: str, *, size: int = 4096, files: int = 1) -> Layer:
    """A layer of ``files`` files of ``size`` random bytes, reproducible from ``seed``."""
    rng = random.Random(seed)
    names = ["data.bin"] if files == 1 else [f"data{i}.bin" for i in range(files)]
    return build_layer({name: rng.randbytes(size) for name in names}, compresslevel=1)


def build_image(
    *,
    architecture: str = "amd64",
    layers: int = 2,
    layer_size: int = 4096,
    seed: str | int | None = "image",
    base_layers: Sequence[Layer] = (),
    annotations: Mapping[str, str] | None = None,
    docker: bool = False,
) -> Image:
    """An image of ``base_layers`` and ``layers`` random layers of ``layer_size`` bytes
    (an OCI image, or a Docker schema 2 one when ``docker``). Seed and architecture feed
    the layers, so images of other seeds or architectures share no random layer."""
    if layers < 0 or layer_size < 0:
        raise ValueError("layers and layer_size must not be negative")
    seed = secrets.token_hex(8) if seed is None else str(seed)
    built = [*base_layers]
    built += [random_layer(f"{seed}-{architecture}-{i}", size=layer_size) for i in range(layers)]
    config = canonical_json(
        {
            "architecture": architecture,
            "os": "linux",
            "created": CREATED,
            "config": {"Cmd": ["/bin/sh"], "Env": [f"PYREGISTRY_TEST={seed}"]},
            "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in built]},
            "history": [
                {"created": CREATED, "created_by": f"layer {i}"} for i, _ in enumerate(built)
            ],
        }
    )
    manifest_type, config_type, layer_type = (
        (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER_GZIP)
        if docker
        else (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER_GZIP)
    )
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": descriptor(config_type, config),
        "layers": [descriptor(layer_type, layer.gzipped) for layer in built],
    }
    if annotations:
        manifest["annotations"] = dict(annotations)
    return Image(canonical_json(manifest), manifest_type, architecture, config, tuple(built))


def build_index(images: Sequence[Image], *, annotations: Mapping[str, str] | None = None) -> Index:
    """An OCI image index over ``images``, each with its platform."""
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            image.descriptor(platform={"architecture": image.architecture, "os": "linux"})
            for image in images
        ],
    }
    if annotations:
        document["annotations"] = dict(annotations)
    by_arch = {image.architecture: image for image in images}
    return Index(canonical_json(document), OCI_INDEX, by_arch)


def build_multiarch(
    *,
    architectures: Sequence[str] = ("amd64", "arm64"),
    seed: str | int | None = "multi",
    layers: int = 1,
    layer_size: int = 4096,
) -> Index:
    """An OCI image index with one image per architecture."""
    seed = secrets.token_hex(8) if seed is None else str(seed)
    return build_index(
        [
            build_image(architecture=arch, seed=seed, layers=layers, layer_size=layer_size)
            for arch in architectures
        ]
    )


def build_artifact(
    artifact_type: str,
    blobs: Sequence[bytes] = (),
    *,
    blob_media_type: str = OCTET_STREAM,
    subject: Mapping[str, Any] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> Artifact:
    """An OCI 1.1 artifact: an image manifest with ``artifactType``, the empty config and
    ``blobs`` as layers; ``subject`` (a descriptor) makes it a referrer of that manifest."""
    empty = descriptor(OCI_EMPTY, EMPTY_JSON)
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {**empty, "data": base64.b64encode(EMPTY_JSON).decode()},
        "layers": [descriptor(blob_media_type, blob) for blob in blobs] or [empty],
    }
    if subject is not None:
        document["subject"] = dict(subject)
    if annotations:
        document["annotations"] = dict(annotations)
    return Artifact(canonical_json(document), OCI_MANIFEST, tuple(blobs))
