"""A storage root with a bit of everything garbage collection must get right.

Built through the storage layer on any driver; the digests are kept by name so tests can
say what must stay and what must go:

* ``app``: ``v1`` and ``v2`` share a base layer; ``v2``'s manifest is deleted (its own
  config and layer become garbage); ``latest`` is moved from ``old`` to ``new`` (``old``
  stays as an untagged revision with a tag-history entry).
* ``lib/multi``: a tagged index whose two children are untagged; a stale index pushed
  by digest only (children untagged too); ``sig``, an artifact whose subject is the
  tagged index, and ``stale-sig``, whose subject is the stale index.
* ``scratch``: a blob uploaded but never referenced, and an image whose tag was deleted.
* ``mounted``: the shared base layer, mounted from ``app`` and referenced by nothing here.
* ``docker``: a tagged Docker schema 2 image.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from pyregistry.client.content import (
    Built,
    Image,
    Index,
    build_artifact,
    build_image,
    build_index,
    random_layer,
)
from pyregistry.storage import Digest, Registry, Repository

SIGNATURE = "application/vnd.example.signature.v1"


@dataclass
class Scenario:
    """Digests by name, and per name the blobs (config, layers) only it references."""

    digests: dict[str, Digest] = field(default_factory=dict)
    blobs: dict[str, set[Digest]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Digest:
        return self.digests[name]


def _d(value: str) -> Digest:
    return Digest.parse(value)


async def push(repo: Repository, built: Built, tag: str | None = None) -> Digest:
    """Children first, then blobs, then the manifest (by digest, tagged if asked)."""
    for child in built.children():
        await push(repo, child)
    for data in built.blobs().values():
        await repo.blobs.put(data)
    result = await repo.manifests.put(built.manifest, built.media_type)
    if tag is not None:
        await repo.tags.tag(tag, result.digest)
    return result.digest


def _own_blobs(image: Image, shared: Collection[str] = ()) -> set[Digest]:
    return {_d(d) for d in image.blobs() if d not in shared}


async def build_scenario(registry: Registry) -> Scenario:
    s = Scenario()
    base = random_layer("shared-base", size=2048)
    shared = {base.digest}

    app = registry.repository("app")
    v1 = build_image(seed="v1", base_layers=[base], layers=1)
    v2 = build_image(seed="v2", base_layers=[base], layers=1)
    s.digests["v1"] = await push(app, v1, "v1")
    s.digests["v2"] = await push(app, v2, "v2")
    s.blobs["v1"], s.blobs["v2"] = _own_blobs(v1, shared), _own_blobs(v2, shared)
    await app.manifests.delete(s["v2"])
    old, new = build_image(seed="old"), build_image(seed="new")
    s.digests["old"] = await push(app, old, "latest")
    s.digests["new"] = await push(app, new, "latest")
    s.blobs["old"], s.blobs["new"] = _own_blobs(old), _own_blobs(new)

    multi = registry.repository("lib/multi")
    amd, arm = (
        build_image(seed="m", architecture="amd64"),
        build_image(seed="m", architecture="arm64"),
    )
    index: Index = build_index([amd, arm])
    s.digests["index"] = await push(multi, index, "multi")
    s.digests["amd64"], s.digests["arm64"] = _d(amd.digest), _d(arm.digest)
    s.blobs["amd64"], s.blobs["arm64"] = _own_blobs(amd), _own_blobs(arm)
    s390 = build_image(seed="stale", architecture="s390x")
    stale = build_index([s390])
    s.digests["stale-index"] = await push(multi, stale)
    s.digests["s390x"] = _d(s390.digest)
    s.blobs["s390x"] = _own_blobs(s390)
    sig = build_artifact(SIGNATURE, [b"signature of the index"], subject=index.descriptor())
    s.digests["sig"] = await push(multi, sig)
    s.blobs["sig"] = {_d(d) for d in sig.blobs()}
    stale_sig = build_artifact(
        SIGNATURE, [b"signature of the stale index"], subject=stale.descriptor()
    )
    s.digests["stale-sig"] = await push(multi, stale_sig)
    s.blobs["stale-sig"] = {_d(d) for d in stale_sig.blobs()}

    scratch = registry.repository("scratch")
    orphan = await scratch.blobs.put(b"uploaded, never referenced")
    s.digests["orphan"] = orphan.digest
    untagged = build_image(seed="untagged")
    s.digests["untagged"] = await push(scratch, untagged, "gone")
    s.blobs["untagged"] = _own_blobs(untagged)
    await scratch.tags.untag("gone")

    mounted = registry.repository("mounted")
    assert await mounted.blobs.mount(_d(base.digest), "app") is not None
    s.digests["base"] = _d(base.digest)

    docker = registry.repository("docker")
    image = build_image(seed="docker", docker=True)
    s.digests["docker"] = await push(docker, image, "stable")
    s.blobs["docker"] = _own_blobs(image)
    return s
