"""Random content for each run: blobs, image manifests, indexes, artifacts.

Everything is generated fresh (random bytes and nonces) so reruns against the same registry
never collide with what an earlier run left behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field
from typing import Any

from conformance import mediatypes as mt


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    """The OCI digest string of ``data``."""
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def random_digest(algorithm: str = "sha256") -> str:
    """A well-formed digest of content nobody uploaded."""
    return digest_of(os.urandom(32), algorithm)


def random_tag(prefix: str = "t") -> str:
    return f"{prefix}{secrets.token_hex(4)}"


@dataclass(frozen=True)
class Blob:
    """Bytes plus the descriptor fields a manifest uses to point at them."""

    data: bytes
    media_type: str
    algorithm: str = "sha256"

    @property
    def digest(self) -> str:
        return digest_of(self.data, self.algorithm)

    def descriptor(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": len(self.data)}


def random_blob(
    size: int = 1024, media_type: str = mt.OCI_LAYER, algorithm: str = "sha256"
) -> Blob:
    return Blob(os.urandom(size), media_type, algorithm)


def encode(doc: dict[str, Any]) -> bytes:
    """Serialise a manifest; registries must hand back these exact bytes."""
    return json.dumps(doc, indent=2).encode()


@dataclass(frozen=True)
class Manifest:
    """A manifest body with its media type and the blobs it needs pushed first."""

    body: bytes
    media_type: str
    blobs: tuple[Blob, ...] = ()
    children: tuple[Manifest, ...] = field(default=())
    algorithm: str = "sha256"

    @property
    def digest(self) -> str:
        return digest_of(self.body, self.algorithm)

    def descriptor(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": len(self.body)}

    @property
    def doc(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


def image_config(layers: list[Blob], media_type: str = mt.OCI_CONFIG) -> Blob:
    """A small image config; the nonce makes every config (and so every manifest) unique."""
    doc = {
        "architecture": "amd64",
        "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "config": {"Labels": {"conformance.nonce": secrets.token_hex(16)}},
        "rootfs": {"type": "layers", "diff_ids": [digest_of(b.data, "sha256") for b in layers]},
    }
    return Blob(encode(doc), media_type)


def image(
    *,
    layers: int = 1,
    layer_size: int = 2048,
    algorithm: str = "sha256",
    docker: bool = False,
    subject: Manifest | None = None,
    artifact_type: str | None = None,
    annotations: dict[str, str] | None = None,
) -> Manifest:
    """A random image manifest (OCI by default, Docker schema 2 when ``docker``)."""
    layer_type = mt.DOCKER_LAYER if docker else mt.OCI_LAYER
    blobs = [random_blob(layer_size, layer_type, algorithm) for _ in range(layers)]
    config = image_config(blobs, mt.DOCKER_CONFIG if docker else mt.OCI_CONFIG)
    config = Blob(config.data, config.media_type, algorithm)
    media_type = mt.DOCKER_MANIFEST if docker else mt.OCI_MANIFEST
    doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": media_type}
    if artifact_type:
        doc["artifactType"] = artifact_type
    doc["config"] = config.descriptor()
    doc["layers"] = [b.descriptor() for b in blobs]
    if subject is not None:
        doc["subject"] = subject.descriptor()
    if annotations:
        doc["annotations"] = annotations
    return Manifest(encode(doc), media_type, (config, *blobs), algorithm=algorithm)


def artifact(
    subject: Manifest | None,
    artifact_type: str | None,
    *,
    config_media_type: str = mt.OCI_EMPTY,
    annotations: dict[str, str] | None = None,
) -> Manifest:
    """An artifact manifest (empty config, one random layer), the kind referrers list."""
    config = Blob(b"{}", config_media_type)
    layer = random_blob(256, "application/vnd.conformance.payload")
    doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST}
    if artifact_type:
        doc["artifactType"] = artifact_type
    doc["config"] = config.descriptor()
    doc["layers"] = [layer.descriptor()]
    if subject is not None:
        doc["subject"] = subject.descriptor()
    doc["annotations"] = {"conformance.nonce": secrets.token_hex(8), **(annotations or {})}
    return Manifest(encode(doc), mt.OCI_MANIFEST, (config, layer))


def index(
    children: list[Manifest],
    *,
    docker: bool = False,
    subject: Manifest | None = None,
    annotations: dict[str, str] | None = None,
) -> Manifest:
    """An OCI index (or Docker manifest list) over ``children``; push children first."""
    media_type = mt.DOCKER_MANIFEST_LIST if docker else mt.OCI_INDEX
    entries = []
    for i, child in enumerate(children):
        desc = child.descriptor()
        desc["platform"] = {
            "architecture": ["amd64", "arm64", "s390x", "ppc64le"][i % 4],
            "os": "linux",
        }
        entries.append(desc)
    doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": media_type, "manifests": entries}
    if subject is not None:
        doc["subject"] = subject.descriptor()
    doc["annotations"] = {"conformance.nonce": secrets.token_hex(8), **(annotations or {})}
    if docker:
        del doc["annotations"]
    return Manifest(encode(doc), media_type, children=tuple(children))


def padded(manifest: Manifest, size: int) -> Manifest:
    """The same manifest grown to exactly ``size`` bytes with a filler annotation."""
    doc = manifest.doc
    doc.setdefault("annotations", {})["conformance.padding"] = ""
    filler = size - len(encode(doc))
    if filler < 0:
        raise ValueError(f"manifest is already larger than {size} bytes")
    doc["annotations"]["conformance.padding"] = "x" * filler
    body = encode(doc)
    return Manifest(
        body, manifest.media_type, manifest.blobs, manifest.children, manifest.algorithm
    )
