"""Manifest operations: GET and HEAD with ``Accept`` negotiation, PUT by tag or digest,
DELETE. Every manifest read is checked against the digest it was asked by and the
``Docker-Content-Digest`` the registry announced, so a mirror never stores what an
upstream garbled.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

import httpx

from pyregistry.client.auth import repository_scope
from pyregistry.client.errors import DigestMismatchError
from pyregistry.client.media import MANIFEST_TYPES, Descriptor, digest_of, is_digest
from pyregistry.client.transport import Transport

DIGEST_HEADER = "docker-content-digest"


class Manifest(NamedTuple):
    """A manifest as served: its bytes, ``Content-Type`` and digest (verified)."""

    content: bytes
    media_type: str
    digest: str

    def json(self) -> Any:
        """The manifest parsed."""
        return json.loads(self.content)

    def descriptor(self) -> Descriptor:
        return Descriptor(self.media_type, self.digest, len(self.content))


def verified_digest(what: str, content: bytes, reference: str, announced: str | None) -> str:
    """The digest of ``content`` (by the algorithm of the reference or of the announced
    digest); raises when it differs from either."""
    expected = reference if is_digest(reference) else announced
    algorithm = expected.partition(":")[0] if expected else "sha256"
    actual = digest_of(content, algorithm)
    for claimed in (reference if is_digest(reference) else None, announced):
        if claimed is not None and claimed.partition(":")[0] == algorithm and claimed != actual:
            raise DigestMismatchError(what, claimed, actual)
    return actual


class ManifestOperations:
    """The manifest half of :class:`~pyregistry.client.aio.AsyncRegistryClient`."""

    transport: Transport

    async def get_manifest(
        self, repository: str, reference: str, *, accept: Sequence[str] = MANIFEST_TYPES
    ) -> Manifest:
        """A manifest by tag or digest, of one of the ``accept`` media types."""
        response = await self.transport.request(
            "GET",
            f"/v2/{repository}/manifests/{reference}",
            action=f"get manifest {repository}:{reference}",
            expected=(200,),
            scope=repository_scope(repository, "pull"),
            headers={"Accept": ", ".join(accept)},
        )
        content = response.content
        digest = verified_digest(
            f"manifest {repository}:{reference}",
            content,
            reference,
            response.headers.get(DIGEST_HEADER),
        )
        return Manifest(content, _media_type(response, content), digest)

    async def head_manifest(
        self, repository: str, reference: str, *, accept: Sequence[str] = MANIFEST_TYPES
    ) -> Descriptor | None:
        """A manifest's descriptor without its body; None when there is none.

        The digest is the registry's ``Docker-Content-Digest`` (or the reference when it
        is a digest): nothing to verify it against without the body."""
        response = await self.transport.request(
            "HEAD",
            f"/v2/{repository}/manifests/{reference}",
            action=f"head manifest {repository}:{reference}",
            expected=(200, 404),
            scope=repository_scope(repository, "pull"),
            headers={"Accept": ", ".join(accept)},
        )
        if response.status_code == 404:
            return None
        digest = response.headers.get(DIGEST_HEADER) or (reference if is_digest(reference) else "")
        size = int(response.headers.get("content-length") or 0)
        return Descriptor(response.headers.get("content-type", ""), digest, size)

    async def manifest_descriptor(self, repository: str, reference: str) -> dict[str, Any]:
        """The descriptor (mediaType, digest, size) of a stored manifest, e.g. a subject."""
        manifest = await self.get_manifest(repository, reference)
        return manifest.descriptor().as_dict()

    async def push_manifest(
        self, repository: str, reference: str, content: bytes, media_type: str
    ) -> str:
        """PUT a manifest by tag or digest; its digest (checked against the registry's)."""
        response = await self.transport.request(
            "PUT",
            f"/v2/{repository}/manifests/{reference}",
            action=f"push manifest {repository}:{reference}",
            expected=(201,),
            scope=repository_scope(repository, "pull", "push"),
            headers={"Content-Type": media_type},
            body=content,
        )
        return verified_digest(
            f"pushed manifest {repository}:{reference}",
            content,
            reference,
            response.headers.get(DIGEST_HEADER),
        )

    async def delete_manifest(self, repository: str, digest: str) -> None:
        await self.transport.request(
            "DELETE",
            f"/v2/{repository}/manifests/{digest}",
            action=f"delete manifest {repository}@{digest}",
            expected=(202,),
            scope=repository_scope(repository, "delete"),
        )


def _media_type(response: httpx.Response, content: bytes) -> str:
    """``Content-Type``, or the body's own ``mediaType`` when the header is generic."""
    header = str(response.headers.get("content-type", "")).partition(";")[0].strip()
    if header and header not in ("application/json", "text/plain"):
        return header
    try:
        document = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return header
    inner = document.get("mediaType") if isinstance(document, dict) else None
    return inner if isinstance(inner, str) else header
