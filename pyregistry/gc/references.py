"""What a stored manifest keeps alive: its blobs, its child manifests and its subject.

Collection must read every manifest a registry ever accepted, including ones distribution
wrote (schema 1, the withdrawn OCI artifact manifest), so this reads descriptors leniently
instead of re-validating a push. But it never guesses: a manifest that is not JSON, or
names something that is not a digest, raises :class:`ManifestUnreadable` and the
collection stops, since what that manifest references cannot be known.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pyregistry.storage.digest import Digest
from pyregistry.storage.errors import RegistryError


class ManifestUnreadable(Exception):
    """A manifest whose references cannot be known; names it and says why."""

    def __init__(self, repository: str, digest: Digest | str, reason: str) -> None:
        super().__init__(f"{repository}@{digest}: {reason}")
        self.repository = repository
        self.digest = digest
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ManifestReferences:
    """``blobs``: config and layers; ``children``: index entries; ``subject``: referrer's."""

    blobs: tuple[Digest, ...] = ()
    children: tuple[Digest, ...] = ()
    subject: Digest | None = None


def _digest(value: Any, where: str) -> Digest:
    if not isinstance(value, dict) or not isinstance(value.get("digest"), str):
        raise ValueError(f"{where} is not a descriptor with a digest")
    try:
        return Digest.parse(value["digest"])
    except RegistryError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _list(document: dict[str, Any], key: str) -> list[Any]:
    value = document.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{key} is not a list")
    return value


def _schema1_layers(document: dict[str, Any]) -> tuple[Digest, ...]:
    found = []
    for i, layer in enumerate(_list(document, "fsLayers")):
        if not isinstance(layer, dict) or not isinstance(layer.get("blobSum"), str):
            raise ValueError(f"fsLayers[{i}] has no blobSum")
        try:
            found.append(Digest.parse(layer["blobSum"]))
        except RegistryError as exc:
            raise ValueError(f"fsLayers[{i}]: {exc}") from None
    return tuple(found)


def parse_references(repository: str, digest: Digest, content: bytes) -> ManifestReferences:
    """The references of the manifest ``digest`` of ``repository`` (for messages)."""
    try:
        document = json.loads(content)
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        if document.get("schemaVersion") == 1:
            return ManifestReferences(blobs=_schema1_layers(document))
        blobs: list[Digest] = []
        if document.get("config") is not None:
            blobs.append(_digest(document["config"], "config"))
        for key in ("layers", "blobs"):
            blobs.extend(_digest(d, f"{key}[{i}]") for i, d in enumerate(_list(document, key)))
        children = tuple(
            _digest(d, f"manifests[{i}]") for i, d in enumerate(_list(document, "manifests"))
        )
        subject = None
        if document.get("subject") is not None:
            subject = _digest(document["subject"], "subject")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestUnreadable(repository, digest, f"cannot be parsed: {exc}") from None
    return ManifestReferences(tuple(blobs), children, subject)
