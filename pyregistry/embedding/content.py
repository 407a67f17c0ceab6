"""Test content made in memory: random images and OCI 1.1 artifacts, as manifest bytes plus
the blobs they reference, ready to push.

Layers are real gzip-ed tars and configs list their ``diff_ids``, so docker, podman and
skopeo pull these images without complaint. A ``seed`` makes the bytes (and therefore the
digests) reproducible; without one every call gives new content.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import random
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCTET_STREAM = "application/octet-stream"
#: Every manifest type the registry serves, for ``Accept``.
MANIFEST_TYPES = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST)
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
EMPTY_JSON = b"{}"
#: A fixed time in tar headers and configs: equal seeds give equal digests.
EPOCH = 1_700_000_000
CREATED = "2023-11-14T22:13:20Z"


def sha256_digest(data: bytes) -> str:
    """The OCI digest of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def descriptor(media_type: str, content: bytes, /, **extra: Any) -> dict[str, Any]:
    """The descriptor (mediaType, digest, size, ...) of ``content``."""
    return {
        "mediaType": media_type,
        "digest": sha256_digest(content),
        "size": len(content),
        **extra,
    }


def canonical_json(value: Any) -> bytes:
    """Compact JSON with sorted keys: equal content, equal digest."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class BuiltManifest:
    """A manifest's bytes and media type, and the blobs it references (digest -> bytes)."""

    manifest: bytes
    media_type: str
    blobs: Mapping[str, bytes] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest)


def _random_bytes(rng: random.Random | None, size: int) -> bytes:
    return rng.randbytes(size) if rng is not None else os.urandom(size)


def tar_layer(files: Mapping[str, bytes]) -> bytes:
    """An uncompressed layer tar of ``files`` (path -> content), root-owned, fixed mtime."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(files):
            info = tarfile.TarInfo(path)
            info.size = len(files[path])
            info.mode = 0o644
            info.mtime = EPOCH
            tar.addfile(info, io.BytesIO(files[path]))
    return buffer.getvalue()


def random_image(
    *,
    layers: int = 2,
    size: int = 1024,
    seed: str | int | None = None,
    architecture: str = "amd64",
    annotations: Mapping[str, str] | None = None,
) -> BuiltManifest:
    """An OCI image of ``layers`` gzip-ed layers, each one file of ``size`` random bytes."""
    if layers < 0 or size < 0:
        raise ValueError("layers and size must not be negative")
    rng = random.Random(seed) if seed is not None else None
    tars = [tar_layer({f"layer{i}/data.bin": _random_bytes(rng, size)}) for i in range(layers)]
    blobs = [gzip.compress(tar, compresslevel=1, mtime=0) for tar in tars]
    config = canonical_json(
        {
            "architecture": architecture,
            "os": "linux",
            "created": CREATED,
            "config": {"Cmd": ["/bin/sh"]},
            "rootfs": {"type": "layers", "diff_ids": [sha256_digest(tar) for tar in tars]},
            "history": [{"created": CREATED, "created_by": f"layer {i}"} for i in range(layers)],
        }
    )
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(OCI_CONFIG, config),
        "layers": [descriptor(OCI_LAYER_GZIP, blob) for blob in blobs],
    }
    if annotations:
        manifest["annotations"] = dict(annotations)
    content = {sha256_digest(config): config}
    content.update({sha256_digest(blob): blob for blob in blobs})
    return BuiltManifest(canonical_json(manifest), OCI_MANIFEST, content)


def artifact(
    artifact_type: str,
    blobs: Sequence[bytes],
    *,
    blob_media_type: str = OCTET_STREAM,
    subject: Mapping[str, Any] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> BuiltManifest:
    """An OCI 1.1 artifact: an image manifest with ``artifactType``, the empty config, and
    ``blobs`` as its layers; ``subject`` (a descriptor) makes it a referrer of that manifest."""
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": descriptor(OCI_EMPTY, EMPTY_JSON, data=base64.b64encode(EMPTY_JSON).decode()),
        "layers": [descriptor(blob_media_type, blob) for blob in blobs]
        or [descriptor(OCI_EMPTY, EMPTY_JSON)],
    }
    if subject is not None:
        manifest["subject"] = dict(subject)
    if annotations:
        manifest["annotations"] = dict(annotations)
    content = {sha256_digest(EMPTY_JSON): EMPTY_JSON}
    content.update({sha256_digest(blob): blob for blob in blobs})
    return BuiltManifest(canonical_json(manifest), OCI_MANIFEST, content)


def image_index(manifests: Sequence[tuple[BuiltManifest, str]]) -> BuiltManifest:
    """An OCI index over ``(image, architecture)`` pairs (the images are pushed first)."""
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            descriptor(
                built.media_type, built.manifest, platform={"architecture": arch, "os": "linux"}
            )
            for built, arch in manifests
        ],
    }
    return BuiltManifest(canonical_json(index), OCI_INDEX, {})
