"""Test-content helpers over a :class:`RegistryClient`: push a random image, an artifact or
an index, preload an image directory or archive, read back manifests, tags and blobs.

Shared by the embedded registry and usable on their own against any registry URL
(``RegistryHelpers(RegistryClient(url))``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from pyregistry.client import Manifest, RegistryClient
from pyregistry.client.content import build_artifact, build_image, build_multiarch
from pyregistry.client.media import OCTET_STREAM
from pyregistry.embedding.preload import PushedManifest, preload


class RegistryHelpers:
    """Everything here goes through the HTTP API, as a client's push would."""

    def __init__(self, client: RegistryClient | None = None) -> None:
        self._client = client

    @property
    def client(self) -> RegistryClient:
        """The HTTP client the helpers use (answers auth challenges itself)."""
        if self._client is None:
            raise RuntimeError("the registry is not running: use it inside its `with` block")
        return self._client

    def push_random_image(
        self,
        repository: str,
        tag: str | None = "latest",
        *,
        layers: int = 2,
        size: int = 1024,
        seed: str | int | None = None,
        architecture: str = "amd64",
    ) -> str:
        """Push an OCI image of ``layers`` random layers of ``size`` bytes each, tagged
        ``tag`` (None: by digest only); its manifest digest. Same seed, same digest."""
        image = build_image(layers=layers, layer_size=size, seed=seed, architecture=architecture)
        return self.client.push(repository, image, tag)

    def push_random_index(
        self,
        repository: str,
        tag: str | None = "latest",
        *,
        architectures: Sequence[str] = ("amd64", "arm64"),
        layers: int = 1,
        size: int = 1024,
        seed: str | int | None = None,
    ) -> str:
        """Push one random image per architecture and an OCI index over them; its digest."""
        index = build_multiarch(
            architectures=architectures, seed=seed, layers=layers, layer_size=size
        )
        return self.client.push(repository, index, tag)

    def push_artifact(
        self,
        repository: str,
        artifact_type: str,
        blobs: Sequence[bytes] = (),
        *,
        subject: str | None = None,
        tag: str | None = None,
        blob_media_type: str = OCTET_STREAM,
        annotations: Mapping[str, str] | None = None,
    ) -> str:
        """Push an OCI 1.1 artifact carrying ``blobs``; its manifest digest. ``subject`` (a
        tag or digest in ``repository``) makes it a referrer of that manifest."""
        subject_desc = (
            self.client.manifest_descriptor(repository, subject) if subject is not None else None
        )
        built = build_artifact(
            artifact_type,
            blobs,
            blob_media_type=blob_media_type,
            subject=subject_desc,
            annotations=annotations,
        )
        return self.client.push(repository, built, tag)

    def push_blob(self, repository: str, data: bytes) -> str:
        """Upload one blob; its digest."""
        return self.client.push_blob(repository, data)

    def push_manifest(
        self, repository: str, reference: str, content: bytes, media_type: str
    ) -> str:
        """PUT manifest bytes as they are; the digest the registry reports."""
        return self.client.push_manifest(repository, reference, content, media_type)

    def preload(
        self,
        source: str | os.PathLike[str],
        repository: str | None = None,
        *,
        tag: str | None = None,
    ) -> list[PushedManifest]:
        """Push an OCI layout directory, an OCI archive or a ``docker save`` tarball.

        Layouts keep their ``ref.name`` tags and need ``repository``; docker archives use
        their ``RepoTags`` (into ``repository`` when given). ``tag`` renames the image of a
        single-image source.
        """
        return preload(self.client, source, repository, tag=tag)

    def get_manifest(self, repository: str, reference: str) -> Manifest:
        """A manifest by tag or digest: ``(content, media_type, digest)``."""
        return self.client.get_manifest(repository, reference)

    def get_blob(self, repository: str, digest: str) -> bytes:
        return self.client.get_blob(repository, digest)

    def tags(self, repository: str) -> list[str]:
        return self.client.tags(repository)

    def catalog(self) -> list[str]:
        return self.client.catalog()

    def referrers(self, repository: str, digest: str) -> dict[str, Any]:
        """The OCI referrers index of ``digest``."""
        return self.client.referrers(repository, digest)

    def delete_manifest(self, repository: str, digest: str) -> None:
        self.client.delete_manifest(repository, digest)
