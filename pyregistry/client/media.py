"""Media types and digests as a registry client sees them: what it asks for in
``Accept``, and how it checks that bytes match the digest they were fetched by.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
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

#: Every manifest type a client accepts by default (Accept negotiation).
MANIFEST_TYPES = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST)
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})

_ALGORITHMS = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}


def sha256_digest(data: bytes) -> str:
    """The OCI digest of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def is_digest(reference: str) -> bool:
    """A manifest reference is a digest (``alg:hex``) rather than a tag."""
    return ":" in reference


class Digester:
    """Hashes bytes as they stream by, with the algorithm a digest names."""

    def __init__(self, algorithm: str = "sha256") -> None:
        factory = _ALGORITHMS.get(algorithm)
        if factory is None:
            raise ValueError(f"unsupported digest algorithm {algorithm!r}")
        self.algorithm = algorithm
        self._hash = factory()
        self.size = 0

    @classmethod
    def for_digest(cls, digest: str) -> Digester:
        return cls(digest.partition(":")[0])

    def update(self, data: bytes) -> None:
        self._hash.update(data)
        self.size += len(data)

    @property
    def digest(self) -> str:
        return f"{self.algorithm}:{self._hash.hexdigest()}"


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    """``data``'s digest with ``algorithm``."""
    digester = Digester(algorithm)
    digester.update(data)
    return digester.digest


@dataclass(frozen=True)
class Descriptor:
    """What a HEAD tells about stored content: media type, digest and size."""

    media_type: str
    digest: str
    size: int

    def as_dict(self) -> dict[str, Any]:
        """The OCI descriptor JSON object (e.g. an artifact's ``subject``)."""
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
