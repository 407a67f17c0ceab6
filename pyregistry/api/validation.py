"""The config's ``validation`` rules applied to a manifest push, before it is stored.

The storage layer checks what every registry must (the JSON, the blobs it needs, all the
children of an index unless told otherwise); the rules a deployment chooses - which layer
URLs are welcome, which platforms of an index must be present - are checked here, from
:class:`pyregistry.config.validation.ValidationPolicy`.
"""

from __future__ import annotations

from typing import Any

from pyregistry import json_input
from pyregistry.config.validation import ValidationPolicy
from pyregistry.storage import Digest, Repository
from pyregistry.storage.errors import DigestInvalid, ManifestBlobUnknown, ManifestInvalid


def _document(content: bytes) -> dict[str, Any] | None:
    """The manifest as JSON; None when it is not an object (the storage layer says why)."""
    try:
        document = json_input.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    return document if isinstance(document, dict) else None


def _descriptors(document: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = document.get(key)
    return [d for d in value if isinstance(d, dict)] if isinstance(value, list) else []


def check_layer_urls(policy: ValidationPolicy, document: dict[str, Any]) -> None:
    """Every URL of every layer must be one the policy allows (MANIFEST_INVALID)."""
    for layer in _descriptors(document, "layers"):
        urls = layer.get("urls")
        for url in urls if isinstance(urls, list) else []:
            if isinstance(url, str) and not policy.url_allowed(url):
                raise ManifestInvalid(
                    f"layer URL {url!r} is not allowed by this registry",
                    detail={"digest": layer.get("digest"), "url": url},
                )


async def check_index_platforms(
    policy: ValidationPolicy, document: dict[str, Any], repository: Repository
) -> None:
    """``platforms: list``: the children of the listed platforms must be in the repository."""
    if policy.index_children_required or not policy.enabled or policy.sparse:
        return  # "all": the storage layer checks every child; disabled or sparse: nothing
    for child in _descriptors(document, "manifests"):
        if not policy.platform_must_exist(child.get("platform")):
            continue
        try:
            digest = Digest.parse(str(child.get("digest")))
        except DigestInvalid:
            continue  # the storage layer refuses the malformed descriptor
        if not await repository.manifests.exists(digest):
            raise ManifestBlobUnknown(
                f"manifest {digest} is unknown to this repository",
                detail={"digest": str(digest), "platform": child.get("platform")},
            )


async def check_manifest(policy: ValidationPolicy, repository: Repository, content: bytes) -> None:
    """Apply the deployment's validation rules to a pushed manifest."""
    if not policy.enabled:
        return
    document = _document(content)
    if document is None:
        return
    check_layer_urls(policy, document)
    await check_index_platforms(policy, document, repository)
