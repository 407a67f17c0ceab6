"""Manifest parsing and validation (no storage): which kind it is, what it references.

Accepted: OCI image manifest (also artifacts: ``artifactType`` and/or the empty config),
OCI image index, Docker schema2 manifest and Docker manifest list. Docker schema1 and the
withdrawn OCI artifact manifest are refused. The media type comes from the manifest's own
``mediaType``, else from the Content-Type it was pushed with, else from its shape; a body
whose ``mediaType`` contradicts a manifest Content-Type is invalid, as in distribution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyregistry import json_input
from pyregistry.storage.digest import Digest
from pyregistry.storage.errors import DigestInvalid, ManifestInvalid

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
OCI_ARTIFACT_MANIFEST = "application/vnd.oci.artifact.manifest.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"

IMAGE_MEDIA_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEX_MEDIA_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
MANIFEST_MEDIA_TYPES = IMAGE_MEDIA_TYPES | INDEX_MEDIA_TYPES
#: Media types a client may push that we recognise as manifests but refuse.
REFUSED_MEDIA_TYPES = frozenset({DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED, OCI_ARTIFACT_MANIFEST})
#: Media types that carry their own mediaType field in the body (it is required there).
BODY_MEDIA_TYPE_REQUIRED = frozenset({DOCKER_MANIFEST, DOCKER_MANIFEST_LIST})

NON_DISTRIBUTABLE_PREFIX = "application/vnd.oci.image.layer.nondistributable."
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"


@dataclass(frozen=True, slots=True)
class Descriptor:
    """A validated OCI descriptor inside a manifest."""

    media_type: str | None
    digest: Digest
    size: int
    urls: tuple[str, ...] = ()
    #: An index child's ``platform`` object, when it has one (platform rules read it).
    platform: dict[str, Any] | None = None

    @property
    def is_external(self) -> bool:
        """Foreign / non-distributable layers are fetched elsewhere: not checked for."""
        media = self.media_type or ""
        return (
            bool(self.urls)
            or media.startswith(NON_DISTRIBUTABLE_PREFIX)
            or media == DOCKER_FOREIGN_LAYER
        )


@dataclass(frozen=True, slots=True)
class ParsedManifest:
    """A validated manifest: what the store checks exists and what the referrers index shows."""

    media_type: str
    document: dict[str, Any]
    config: Descriptor | None = None
    layers: tuple[Descriptor, ...] = ()
    manifests: tuple[Descriptor, ...] = ()
    subject: Descriptor | None = None
    artifact_type: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_MEDIA_TYPES

    @property
    def stored_blobs(self) -> tuple[Descriptor, ...]:
        """The blobs it makes its repository hold: config and layers, not foreign ones
        (an index holds none: its children are manifests of their own)."""
        found = (self.config,) if self.config is not None else ()
        return found + tuple(layer for layer in self.layers if not layer.is_external)


def _invalid(message: str, **detail: Any) -> ManifestInvalid:
    return ManifestInvalid(message, detail=detail or None)


def bare_media_type(content_type: str | None) -> str | None:
    """``type/subtype`` from a Content-Type header (parameters dropped, lower-cased)."""
    if not content_type:
        return None
    bare = content_type.split(";", 1)[0].strip().lower()
    return bare or None


def _descriptor(value: Any, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise _invalid(f"{where} must be a descriptor object")
    media_type = value.get("mediaType")
    if media_type is not None and not isinstance(media_type, str):
        raise _invalid(f"{where}.mediaType must be a string")
    raw_digest = value.get("digest")
    if not isinstance(raw_digest, str):
        raise _invalid(f"{where}.digest is missing")
    try:
        digest = Digest.parse(raw_digest)
    except DigestInvalid as exc:
        raise _invalid(f"{where}.digest is invalid: {exc.message}", digest=raw_digest) from exc
    size = value.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _invalid(f"{where}.size must be a non-negative integer", digest=raw_digest)
    urls = value.get("urls", [])
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise _invalid(f"{where}.urls must be a list of strings", digest=raw_digest)
    _annotations(value, where)
    platform = value.get("platform")
    return Descriptor(
        media_type, digest, size, tuple(urls), platform if isinstance(platform, dict) else None
    )


def _annotations(value: dict[str, Any], where: str) -> dict[str, str]:
    annotations = value.get("annotations")
    if annotations is None:
        return {}
    if not isinstance(annotations, dict) or not all(
        isinstance(v, str) for v in annotations.values()
    ):
        raise _invalid(f"{where}.annotations must map strings to strings")
    return annotations


def _decode(content: bytes) -> dict[str, Any]:
    try:
        document = json_input.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _invalid(f"manifest is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise _invalid("manifest must be a JSON object")
    return document


def infer_media_type(document: dict[str, Any]) -> str | None:
    """The media type a stored manifest is served with: its own field, else its shape."""
    own = document.get("mediaType")
    if isinstance(own, str) and own:
        return own
    if "manifests" in document:
        return OCI_INDEX
    if "config" in document or "layers" in document:
        return OCI_MANIFEST
    return None


def stored_document(content: bytes) -> dict[str, Any] | None:
    """The JSON object of stored manifest bytes, or None when they are not one.

    Stored bytes were validated on push, but a root shared with another registry may
    hold anything: readers degrade instead of failing.
    """
    try:
        document = json_input.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    return document if isinstance(document, dict) else None


def media_type_of(content: bytes) -> str:
    """Media type for serving stored bytes (what ``StoredManifest.media_type`` holds)."""
    document = stored_document(content)
    if document is None:
        return OCI_MANIFEST
    return infer_media_type(document) or OCI_MANIFEST


def subject_of(content: bytes) -> Digest | None:
    """The subject digest of stored manifest bytes, if they name a valid one."""
    document = stored_document(content)
    subject = document.get("subject") if document is not None else None
    try:
        return Digest.parse(subject["digest"]) if isinstance(subject, dict) else None
    except (TypeError, KeyError, DigestInvalid):
        return None


def _resolve_media_type(document: dict[str, Any], content_type: str | None) -> str:
    own = document.get("mediaType")
    if own is not None and not isinstance(own, str):
        raise _invalid("mediaType must be a string")
    pushed = bare_media_type(content_type)
    pushed_is_manifest = pushed in MANIFEST_MEDIA_TYPES or pushed in REFUSED_MEDIA_TYPES
    schema = document.get("schemaVersion")
    if pushed in (DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED) or own in REFUSED_MEDIA_TYPES:
        raise _invalid(f"manifest media type {own or pushed} is not supported")
    if schema == 1:
        raise _invalid("Docker schema1 manifests are not supported", schemaVersion=1)
    if own:
        if pushed_is_manifest and pushed != own:
            raise _invalid(
                f"manifest mediaType {own} does not match Content-Type {pushed}",
                mediaType=own,
                contentType=pushed,
            )
        media_type = own
    elif pushed_is_manifest:
        assert pushed is not None
        if pushed in BODY_MEDIA_TYPE_REQUIRED:
            raise _invalid(f"a {pushed} manifest must carry its mediaType")
        shape = infer_media_type(document)
        if shape is not None and shape != pushed:
            raise _invalid(f"manifest content does not have the shape of {pushed}")
        media_type = pushed
    else:
        shape = infer_media_type(document)
        if shape is None:
            raise _invalid("cannot tell the manifest type: no mediaType, config or manifests")
        media_type = shape
    if media_type not in MANIFEST_MEDIA_TYPES:
        raise _invalid(f"unsupported manifest media type {media_type}", mediaType=media_type)
    if schema != 2 or isinstance(schema, bool):
        raise _invalid("schemaVersion must be 2", schemaVersion=schema)
    return media_type


def parse_manifest(content: bytes, content_type: str | None) -> ParsedManifest:
    """Parse and validate a pushed manifest; ManifestInvalid says what is wrong."""
    document = _decode(content)
    media_type = _resolve_media_type(document, content_type)
    artifact_type = document.get("artifactType")
    if artifact_type is not None and not isinstance(artifact_type, str):
        raise _invalid("artifactType must be a string")
    annotations = _annotations(document, "manifest")
    subject = None
    if document.get("subject") is not None:
        subject = _descriptor(document["subject"], "subject")
    if media_type in INDEX_MEDIA_TYPES:
        if "config" in document or "layers" in document:
            raise _invalid("an index must not have config or layers")
        children = document.get("manifests")
        if not isinstance(children, list):
            raise _invalid("manifests must be a list")
        return ParsedManifest(
            media_type,
            document,
            manifests=tuple(_descriptor(c, f"manifests[{i}]") for i, c in enumerate(children)),
            subject=subject,
            artifact_type=artifact_type,
            annotations=annotations,
        )
    if "manifests" in document:
        raise _invalid("an image manifest must not have manifests")
    config = _descriptor(document.get("config"), "config")
    layers = document.get("layers")
    if not isinstance(layers, list):
        raise _invalid("layers must be a list")
    return ParsedManifest(
        media_type,
        document,
        config=config,
        layers=tuple(_descriptor(layer, f"layers[{i}]") for i, layer in enumerate(layers)),
        subject=subject,
        artifact_type=artifact_type,
        annotations=annotations,
    )


def raw_references(document: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """The descriptor objects a manifest points at, as pushed: an index's ``manifests``,
    else an image's ``config`` then ``layers`` (for event ``references``)."""
    if isinstance(document.get("manifests"), list):
        found = list(document["manifests"])
    else:
        found = [document.get("config"), *list(document.get("layers") or [])]
    return tuple(item for item in found if isinstance(item, dict))


def referrer_descriptor(
    digest: Digest, content: bytes, artifact_type: str | None = None
) -> dict[str, Any] | None:
    """The OCI descriptor a referrers list shows for a stored manifest; None if unreadable."""
    document = stored_document(content)
    if document is None:
        return None
    media_type = infer_media_type(document) or OCI_MANIFEST
    kind = document.get("artifactType")
    if not isinstance(kind, str) or not kind:
        config = document.get("config")
        kind = config.get("mediaType") if isinstance(config, dict) else None
    descriptor: dict[str, Any] = {
        "mediaType": media_type,
        "digest": str(digest),
        "size": len(content),
    }
    if isinstance(kind, str) and kind:
        descriptor["artifactType"] = kind
    annotations = document.get("annotations")
    if isinstance(annotations, dict) and annotations:
        descriptor["annotations"] = annotations
    if artifact_type is not None and descriptor.get("artifactType") != artifact_type:
        return None
    return descriptor
