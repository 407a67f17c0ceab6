"""Pushers racing an online collector, and the check that nothing they kept was lost.

Each pusher works in its own repository through a real HTTP client: it uploads fresh
layers (one through a mount from a scratch repository, whose link is then garbage), waits
a little before pushing the manifest (widening the window in which its blobs are
referenced by nothing), pushes tagged images, indexes whose children are untagged, and
untagged images, and deletes some of its tagged images again. Every image also carries a
base layer that a tag outside the pushers keeps. Whatever a pusher still has tagged at
the end must pull completely: manifest, config, layers, index children.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from pyregistry.client import AsyncRegistryClient
from pyregistry.client.content import Built, Layer, build_image, build_index, random_layer

BASE_REPOSITORY = "stress/base"


@dataclass
class Outcome:
    """What the pushers kept (repository, tag -> digest), deleted, and every failure."""

    kept: dict[tuple[str, str], str] = field(default_factory=dict)
    deleted: list[tuple[str, str]] = field(default_factory=list)
    #: (repository, blob digest) of every deleted image's own blobs.
    deleted_blobs: set[tuple[str, str]] = field(default_factory=set)
    pushes: int = 0
    failures: list[str] = field(default_factory=list)


async def push_base(client: AsyncRegistryClient) -> Layer:
    base = random_layer("stress-base", size=4096)
    await client.push(
        BASE_REPOSITORY, build_image(seed="base", base_layers=[base], layers=0), "keep"
    )
    return base


async def _push_image(
    client: AsyncRegistryClient, repository: str, scratch: str, image: Built, tag: str | None
) -> str:
    """Blobs (the first layer via a mount from ``scratch``), a pause, then the manifest."""
    blobs = list(image.blobs().items())
    first_digest, first = blobs[-1]
    await client.push_blob(scratch, first)
    await client.push_blob(repository, first, mount_from=scratch)
    for digest, data in blobs:
        if digest != first_digest:
            await client.push_blob(repository, data)
    await asyncio.sleep(random.uniform(0, 0.5))
    return await client.push_manifest(
        repository, tag or image.digest, image.manifest, image.media_type
    )


async def pusher(
    base_url: str, number: int, base: Layer, keep_pushing: Callable[[], bool], outcome: Outcome
) -> None:
    repository, scratch = f"stress/p{number}", f"stress/scratch{number}"
    rng = random.Random(number)
    async with AsyncRegistryClient(base_url, timeout=120.0) as client:
        step = 0
        while keep_pushing():
            step += 1
            seed = f"p{number}-s{step}-{rng.random()}"
            try:
                image = build_image(seed=seed, base_layers=[base], layers=2, layer_size=1024)
                if step % 4 == 0:  # an untagged image: garbage once deleteuntagged sweeps
                    await _push_image(client, repository, scratch, image, None)
                elif step % 3 == 0:  # an index: children by digest, then the tagged index
                    other = build_image(seed=seed + "arm", base_layers=[base], layers=1)
                    for child in (image, other):
                        await _push_image(client, repository, scratch, child, None)
                    index = build_index([image, other])
                    tag = f"i{step}"
                    outcome.kept[(repository, tag)] = await client.push_manifest(
                        repository, tag, index.manifest, index.media_type
                    )
                else:
                    tag = f"t{step}"
                    digest = await _push_image(client, repository, scratch, image, tag)
                    outcome.kept[(repository, tag)] = digest
                    if step % 5 == 0:  # delete it again: its own blobs become garbage
                        await client.delete_manifest(repository, digest)
                        del outcome.kept[(repository, tag)]
                        outcome.deleted.append((repository, digest))
                        outcome.deleted_blobs.update(
                            (repository, d) for d in image.blobs() if d != base.digest
                        )
                outcome.pushes += 1
            except Exception as exc:  # noqa: BLE001 - every failure is collected and asserted on
                outcome.failures.append(f"{repository} step {step}: {_described(exc)}")


def _described(exc: Exception) -> str:
    """The exception, and the request it failed (a ReadTimeout names none itself)."""
    try:
        request = exc.request if isinstance(exc, httpx.RequestError) else None
    except RuntimeError:  # raised without a request
        request = None
    if request is None:
        return repr(exc)
    return f"{exc!r} on {request.method} {request.url.path}?{request.url.query.decode()}"


async def run_pushers(
    base_urls: Sequence[str], count: int, keep_pushing: Callable[[], bool]
) -> Outcome:
    """``count`` pushers, each starting a new step while ``keep_pushing()`` says so; they
    take turns at ``base_urls`` (registries sharing one storage)."""
    outcome = Outcome()
    async with AsyncRegistryClient(base_urls[0]) as client:
        base = await push_base(client)
    await asyncio.gather(
        *(
            pusher(base_urls[n % len(base_urls)], n, base, keep_pushing, outcome)
            for n in range(count)
        )
    )
    return outcome


async def _pull(client: AsyncRegistryClient, repository: str, reference: str) -> str:
    manifest = await client.get_manifest(repository, reference)
    document = manifest.json()
    for child in document.get("manifests", []):
        await _pull(client, repository, child["digest"])
    for descriptor in [document.get("config"), *document.get("layers", [])]:
        if descriptor:
            await client.get_blob(repository, descriptor["digest"])
    return manifest.digest


async def pull_everything(base_url: str, outcome: Outcome, pullers: int = 8) -> list[str]:
    """Problems pulling what the pushers kept (empty: every tag pulls completely), with
    ``pullers`` tags pulled at once."""
    limit = asyncio.Semaphore(pullers)

    async def pull(client: AsyncRegistryClient, repository: str, tag: str, digest: str) -> str:
        async with limit:
            try:
                pulled = await _pull(client, repository, tag)
            except Exception as exc:  # noqa: BLE001 - every failure is collected and asserted on
                return f"{repository}:{tag}: {exc!r}"
        return f"{repository}:{tag} is {pulled}, pushed {digest}" if pulled != digest else ""

    async with AsyncRegistryClient(base_url, timeout=120.0) as client:
        found = await asyncio.gather(
            *(
                pull(client, repo, tag, digest)
                for (repo, tag), digest in sorted(outcome.kept.items())
            )
        )
        await _pull(client, BASE_REPOSITORY, "keep")
    return [problem for problem in found if problem]
