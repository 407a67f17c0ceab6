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

import httpx

from bench.content import OCI_MANIFEST, SmallImage
from bench.workload import expect, new_client, push_image

SETUP_CLIENTS = 8
CATALOG_PREFIX = "bench/catalog-"


Work = Callable[[httpx.AsyncClient, int], Awaitable[None]]


async def _in_parallel(indices: range, work: Work) -> None:
    """Run ``work(client, index)`` for every index on a few concurrent clients."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in indices:
        queue.put_nowait(index)

    async def runner() -> None:
        async with new_client(1) as client:
            while True:
                try:
                    index = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                await work(client, index)

    await asyncio.gather(*(runner() for _ in range(SETUP_CLIENTS)))


async def repository_count(base: str) -> int:
    """How many repositories ``_catalog`` lists now (all pages)."""
    count, path = 0, "/v2/_catalog?n=1000"
    async with new_client(1) as client:
        while path:
            response = expect(await client.get(f"{base}{path}"), 200)
            count += len(response.json().get("repositories") or [])
            link = response.headers.get("link", "")
            path = link[link.find("<") + 1 : link.find(">")] if link.startswith("<") else ""
    return count


async def fill_catalog(base: str, total: int, image: SmallImage) -> None:
    """Add repositories until ``_catalog`` lists ``total`` of them."""
    missing = total - await repository_count(base)
    if missing <= 0:
        return
    source = f"{CATALOG_PREFIX}0000"
    async with new_client(1) as client:
        await push_image(client, base, source, "latest", image)

    async def add(client: httpx.AsyncClient, index: int) -> None:
        repo = f"{CATALOG_PREFIX}{index:04d}"
        for digest, _ in image.blobs:
            response = await client.post(
                f"{base}/v2/{repo}/blobs/uploads/", params={"mount": digest, "from": source}
            )
            expect(response, 201)
        response = await client.put(
            f"{base}/v2/{repo}/manifests/latest",
            content=image.manifest,
            headers={"Content-Type": OCI_MANIFEST},
        )
        expect(response, 201)

    await _in_parallel(range(1, missing), add)


async def tag_many(base: str, repo: str, image: SmallImage, tags: int) -> list[str]:
    """Push ``image`` to ``repo`` and put its manifest under ``tags`` tags; their names."""
    names = [f"t{index:05d}" for index in range(tags)]
    async with new_client(1) as client:
        await push_image(client, base, repo, names[0], image)

    async def tag(client: httpx.AsyncClient, index: int) -> None:
        response = await client.put(
            f"{base}/v2/{repo}/manifests/{names[index]}",
            content=image.manifest,
            headers={"Content-Type": OCI_MANIFEST},
        )
        expect(response, 201)

    await _in_parallel(range(1, tags), tag)
    return names


def tag_count(body: bytes) -> int:
    return len(json.loads(body).get("tags") or [])
