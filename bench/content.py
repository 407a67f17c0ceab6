"""What the bench pushes: big blobs generated on the fly and small seeded images.

A big blob is one seeded 1 MiB random block repeated, so a 2 GiB push costs the client
1 MiB of memory and no disk; its digest is computed once, before anything is timed.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import cached_property

MIB = 1024 * 1024
BLOCK_SIZE = MIB

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
MANIFEST_ACCEPT = ", ".join((OCI_MANIFEST, "application/vnd.docker.distribution.manifest.v2+json"))


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class BigBlob:
    """``size`` bytes made of a seeded block repeated; never held in memory whole."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.block = random.Random(seed).randbytes(BLOCK_SIZE)

    def pieces(self, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        """The bytes ``[start, start + length)`` in pieces of at most one block."""
        end = self.size if length is None else min(self.size, start + length)
        pos = start
        while pos < end:
            offset = pos % BLOCK_SIZE
            count = min(BLOCK_SIZE - offset, end - pos)
            yield self.block if count == BLOCK_SIZE else self.block[offset : offset + count]
            pos += count

    async def stream(self, start: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        """:meth:`pieces` for httpx's async client (which wants an async iterator)."""
        for piece in self.pieces(start, length):
            yield piece

    @cached_property
    def digest(self) -> str:
        hasher = hashlib.sha256()
        for piece in self.pieces():
            hasher.update(piece)
        return "sha256:" + hasher.hexdigest()


@dataclass(frozen=True)
class SmallImage:
    """A config, ``layers`` small random layers and the OCI manifest naming them."""

    blobs: tuple[tuple[str, bytes], ...]  # (digest, content): layers then config
    manifest: bytes

    @cached_property
    def manifest_digest(self) -> str:
        return sha256_digest(self.manifest)


def small_image(seed: int, layers: int = 2, layer_size: int = 4096) -> SmallImage:
    """A unique image per seed: no two share a blob, so every push uploads everything."""
    rng = random.Random(seed)
    layer_blobs = [rng.randbytes(layer_size) for _ in range(layers)]
    layer_digests = [sha256_digest(layer) for layer in layer_blobs]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Labels": {"pyregistry.bench.seed": str(seed)}},
            "rootfs": {"type": "layers", "diff_ids": layer_digests},
        },
        sort_keys=True,
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": OCI_CONFIG,
                "digest": sha256_digest(config),
                "size": len(config),
            },
            "layers": [
                {"mediaType": OCI_LAYER, "digest": digest, "size": len(layer)}
                for digest, layer in zip(layer_digests, layer_blobs, strict=True)
            ],
        },
        indent=3,
    ).encode()
    blobs = tuple(zip(layer_digests, layer_blobs, strict=True)) + ((sha256_digest(config), config),)
    return SmallImage(blobs=blobs, manifest=manifest)
