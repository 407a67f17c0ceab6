"""Events come from the storage side: a writer that is not the API (a mirror, replication,
a management API) going through the wrapped namespace causes the same events, naming the
caller it acts as (none for background work)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyregistry.config.model import HTTPConfig
from pyregistry.events import (
    BLOB_DELETE,
    BLOB_MOUNT,
    BLOB_PULL,
    BLOB_PUSH,
    MANIFEST_DELETE,
    MANIFEST_PULL,
    MANIFEST_PUSH,
    TAG_DELETE,
    InternalCaller,
    acting_as,
)
from pyregistry.notifications.events import EventBuilder
from pyregistry.notifications.listener import NotifyingNamespace
from pyregistry.storage import Registry
from storage_drivers.inmemory import InMemoryDriver
from tests.storage.helpers import image_manifest, sha256, stream

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


class RecordingSink:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def emit(self, event_kind: str, **details: Any) -> None:
        self.events.append((event_kind, details))


@dataclass
class Mirror:
    """A caller that is not an HTTP request."""

    request_id: str = "mirror-1"
    method: str = "SYNC"
    actor: str | None = "mirror"
    remote_addr: str | None = None
    host: str | None = None
    user_agent: str | None = "pyregistry-mirror"


async def test_every_write_and_read_through_the_wrapper_is_reported() -> None:
    sink = RecordingSink()
    registry = Registry(InMemoryDriver())
    namespace = NotifyingNamespace(registry, sink)
    src, dst = namespace.repository("src"), namespace.repository("dst")

    session = await src.uploads.create()
    await session.append(stream(b"layer"))
    layer = await session.commit(sha256(b"layer"))
    config = await src.blobs.put(b"{}")
    await src.blobs.stat(layer.digest)  # a stat is no pull
    chunks = await src.blobs.open(layer.digest)
    assert b"".join([c async for c in chunks]) == b"layer"
    assert await dst.blobs.mount(layer.digest, "src") is not None
    content = image_manifest(b"{}", [b"layer"])
    pushed = await src.manifests.put(content, OCI_MANIFEST, tags=["v1", "latest"])
    assert await src.manifests.exists(pushed.digest)
    await src.manifests.get(pushed.digest, tag="v1")
    await src.tags.untag("latest")
    await src.manifests.delete(pushed.digest)
    await dst.blobs.delete(layer.digest)

    kinds = [kind for kind, _ in sink.events]
    assert kinds == [
        BLOB_PUSH,
        BLOB_PUSH,
        BLOB_PULL,
        BLOB_MOUNT,
        MANIFEST_PUSH,
        MANIFEST_PULL,
        TAG_DELETE,
        MANIFEST_DELETE,
        BLOB_DELETE,
    ]
    details = [d for _, d in sink.events]
    assert all(isinstance(d["context"], InternalCaller) for d in details)
    assert [d["repository"] for d in details] == ["src"] * 3 + ["dst"] + ["src"] * 4 + ["dst"]
    assert details[1]["digest"] == str(config.digest)
    assert details[3]["from_repository"] == "src"
    push = details[4]
    assert push["tags"] == ["v1", "latest"] and push["tag"] == "v1"
    assert push["media_type"] == OCI_MANIFEST and push["size"] == len(content)
    assert details[5]["tag"] == "v1"
    assert details[6]["tag"] == "latest"

    # the unwrapped core reports nothing
    before = len(sink.events)
    await registry.repository("src").blobs.put(b"quiet")
    assert len(sink.events) == before


async def test_events_name_the_caller_the_work_is_done_for() -> None:
    sink = RecordingSink()
    namespace = NotifyingNamespace(Registry(InMemoryDriver()), sink)
    mirror = Mirror()
    with acting_as(mirror):
        await namespace.repository("library/app").blobs.put(b"mirrored")
    await namespace.repository("library/app").blobs.put(b"after")
    assert sink.events[0][1]["context"] is mirror
    assert isinstance(sink.events[1][1]["context"], InternalCaller)

    builder = EventBuilder(HTTPConfig(addr=":5000"))
    [event] = await builder.build(*sink.events[0])
    assert event["action"] == "push"
    assert event["target"]["repository"] == "library/app"
    assert event["target"]["digest"] == str(sha256(b"mirrored"))
    assert event["actor"] == {"name": "mirror"}
    assert event["request"]["id"] == "mirror-1"
    assert event["request"]["useragent"] == "pyregistry-mirror"
