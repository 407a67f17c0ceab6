"""What a manifest says, read once per digest: total size, platforms, config, layers,
history, labels. A digest names immutable content, so what is learnt about it is cached
in this process with no invalidation (a bounded LRU), and a tag list reads each manifest
(and an image's config blob) once, not per request.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from pyregistry.management.views import Descriptor, HistoryStep, Platform
from pyregistry.storage.digest import Digest
from pyregistry.storage.errors import RegistryError
from pyregistry.storage.interfaces import RepositoryService

CACHE_ENTRIES = 20000
#: A config blob larger than this is not read for history and labels.
MAX_CONFIG_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ManifestFacts:
    media_type: str
    size: int
    total_size: int
    config: Descriptor | None
    layers: list[Descriptor]
    manifests: list[Descriptor]
    platforms: list[Platform]
    history: list[HistoryStep]
    labels: dict[str, str]
    annotations: dict[str, str]
    subject: str | None
    artifact_type: str | None
    created: str | None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if isinstance(v, str | int | float)}


def _platform(value: Any, digest: str | None = None) -> Platform | None:
    if not isinstance(value, dict) or not value.get("architecture"):
        return None
    return Platform(
        os=str(value.get("os") or ""),
        architecture=str(value.get("architecture")),
        variant=_str(value.get("variant")),
        digest=digest,
    )


def descriptor(value: Any) -> Descriptor | None:
    if not isinstance(value, dict) or not isinstance(value.get("digest"), str):
        return None
    size = value.get("size")
    return Descriptor(
        digest=value["digest"],
        media_type=_str(value.get("mediaType")),
        size=size if isinstance(size, int) else None,
        annotations=_strings(value.get("annotations")),
        platform=_platform(value.get("platform"), value["digest"]),
        artifact_type=_str(value.get("artifactType")),
    )


def _descriptors(value: Any) -> list[Descriptor]:
    if not isinstance(value, list):
        return []
    return [d for d in (descriptor(v) for v in value) if d is not None]


def _history(config: dict[str, Any]) -> list[HistoryStep]:
    steps = config.get("history")
    if not isinstance(steps, list):
        return []
    return [
        HistoryStep(
            created=_str(s.get("created")),
            created_by=_str(s.get("created_by")),
            comment=_str(s.get("comment")),
            empty_layer=bool(s.get("empty_layer")),
        )
        for s in steps
        if isinstance(s, dict)
    ]


async def _config_document(repository: RepositoryService, config: Descriptor) -> dict[str, Any]:
    if config.size is not None and config.size > MAX_CONFIG_BYTES:
        return {}
    if config.media_type and "json" not in config.media_type:
        return {}  # an artifact's config (often empty or binary)
    try:
        document = json.loads(await repository.blobs.get(Digest.parse(config.digest)))
    except (RegistryError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


async def read_facts(
    repository: RepositoryService, media_type: str, content: bytes
) -> ManifestFacts:
    """Parse a manifest (and its config blob) into facts; tolerant of odd documents."""
    try:
        document = json.loads(content)
    except ValueError:
        document = {}
    if not isinstance(document, dict):
        document = {}
    config = descriptor(document.get("config"))
    layers = _descriptors(document.get("layers") or document.get("blobs"))
    manifests = _descriptors(document.get("manifests"))
    referenced = ([config] if config else []) + layers + manifests
    total = len(content) + sum(d.size or 0 for d in referenced)
    platforms = [d.platform for d in manifests if d.platform is not None]
    config_document = await _config_document(repository, config) if config else {}
    own = _platform(config_document)
    if own is not None:
        platforms = [own]
    inner = config_document.get("config")
    labels = _strings(inner.get("Labels")) if isinstance(inner, dict) else {}
    subject = document.get("subject")
    return ManifestFacts(
        media_type=_str(document.get("mediaType")) or media_type,
        size=len(content),
        total_size=total,
        config=config,
        layers=layers,
        manifests=manifests,
        platforms=platforms,
        history=_history(config_document),
        labels=labels,
        annotations=_strings(document.get("annotations")),
        subject=_str(subject.get("digest")) if isinstance(subject, dict) else None,
        artifact_type=_str(document.get("artifactType"))
        or (config.media_type if config and layers and config_document == {} else None),
        created=_str(config_document.get("created")),
    )


class FactsCache:
    """Facts per digest (content-addressed, so never stale), least recently used out."""

    def __init__(self, entries: int = CACHE_ENTRIES) -> None:
        self.entries = entries
        self._facts: OrderedDict[str, ManifestFacts] = OrderedDict()

    async def get(self, repository: RepositoryService, digest: str) -> ManifestFacts:
        """Raises the storage layer's ``ManifestUnknown`` (a RegistryError) when gone."""
        found = self._facts.get(digest)
        if found is not None:
            self._facts.move_to_end(digest)
            return found
        stored = await repository.manifests.get(Digest.parse(digest))
        facts = await read_facts(repository, stored.media_type, stored.content)
        self._facts[digest] = facts
        if len(self._facts) > self.entries:
            self._facts.popitem(last=False)
        return facts
