"""What the metadata rows need in the registry before their clock starts.

``_catalog`` needs many repositories: one small image is pushed once, then every other
repository mounts its blobs (as ``docker push`` does across repositories) and gets the
manifest. ``tags/list`` needs one repository with many tags: one image, its manifest put
under each tag. Both run with a few concurrent clients; none of it is timed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

from bench.workload import BenchFailure, new_client, push_image
from pyregistry.client import AsyncRegistryClient
from pyregistry.client.content import Image

SETUP_CLIENTS = 8
CATALOG_PREFIX = "bench/catalog-"


Work = Callable[[AsyncRegistryClient, int], Awaitable[None]]


async def _in_parallel(base: str, indices: range, work: Work) -> None:
    """Run ``work(client, index)`` for every index on a few concurrent clients."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in indices:
        queue.put_nowait(index)

    async def runner() -> None:
        async with new_client(base, 1) as client:
            while True:
                try:
                    index = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                await work(client, index)

    await asyncio.gather(*(runner() for _ in range(SETUP_CLIENTS)))


async def repository_count(base: str) -> int:
    """How many repositories ``_catalog`` lists now (all pages)."""
    async with new_client(base, 1) as client:
        return len(await client.catalog(page_size=1000))


async def fill_catalog(base: str, total: int, image: Image) -> None:
    """Add repositories until ``_catalog`` lists ``total`` of them."""
    missing = total - await repository_count(base)
    if missing <= 0:
        return
    source = f"{CATALOG_PREFIX}0000"
    async with new_client(base, 1) as client:
        await push_image(client, source, "latest", image)

    async def add(client: AsyncRegistryClient, index: int) -> None:
        repo = f"{CATALOG_PREFIX}{index:04d}"
        for digest in image.blobs():
            if await client.mount_blob(repo, digest, source) is not None:
                raise BenchFailure(f"mounting {digest} from {source} into {repo} opened an upload")
        await client.push_manifest(repo, "latest", image.manifest, image.media_type)

    await _in_parallel(base, range(1, missing), add)


async def tag_many(base: str, repo: str, image: Image, tags: int) -> list[str]:
    """Push ``image`` to ``repo`` and put its manifest under ``tags`` tags; their names."""
    names = [f"t{index:05d}" for index in range(tags)]
    async with new_client(base, 1) as client:
        await push_image(client, repo, names[0], image)

    async def tag(client: AsyncRegistryClient, index: int) -> None:
        await client.push_manifest(repo, names[index], image.manifest, image.media_type)

    await _in_parallel(base, range(1, tags), tag)
    return names


def tag_count(body: bytes) -> int:
    return len(json.loads(body).get("tags") or [])
