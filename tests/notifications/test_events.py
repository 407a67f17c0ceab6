"""Events as distribution sends them, for every action, checked at a real receiver."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request

from pyregistry.api.context import RequestContext
from pyregistry.app import create_app
from pyregistry.notifications import EVENTS_MEDIA_TYPE
from tests.notifications.conftest import (
    OCI_CONFIG,
    OCI_LAYER,
    OCI_MANIFEST,
    digest_of,
    endpoint,
    notifying_config,
    push_blob,
    push_image,
    serve,
)
from tests.notifications.receiver import Receiver
from tests.support.server import run_server

OCTET = "application/octet-stream"


def test_push_by_tag(tmp_path: Path, receiver: Receiver) -> None:
    config = notifying_config(tmp_path / "data", tmp_path / "queue", [endpoint(receiver)])
    with serve(config) as url, httpx.Client(base_url=url) as client:
        manifest_digest, blobs, manifest = push_image(client, "team/app", "v1")
        events = receiver.wait_count(4)
    host = url.removeprefix("http://")

    assert [e["action"] for e in events] == ["push"] * 4
    assert [e["target"]["digest"] for e in events] == [*blobs, manifest_digest]
    for event, digest in zip(events[:3], blobs, strict=True):
        assert event["target"] == {
            "mediaType": OCTET,
            "digest": digest,
            "size": event["target"]["size"],
            "length": event["target"]["size"],
            "repository": "team/app",
            "url": f"{url}/v2/team/app/blobs/{digest}",
        }
        assert event["target"]["size"] > 0
    last = events[3]
    assert last["target"] == {
        "mediaType": OCI_MANIFEST,
        "digest": manifest_digest,
        "size": len(manifest),
        "length": len(manifest),
        "repository": "team/app",
        "url": f"{url}/v2/team/app/manifests/{manifest_digest}",
        "tag": "v1",
    }
    for event in events:
        uuid.UUID(event["id"])
        assert event["timestamp"].endswith("Z") and "T" in event["timestamp"]
        assert event["request"]["method"] == "PUT"
        assert event["request"]["host"] == host
        assert event["request"]["addr"] == "127.0.0.1"
        assert event["request"]["useragent"].startswith("python-httpx/")
        assert event["actor"] == {}
        assert set(event["source"]) == {"addr", "instanceID"}
    assert len({e["id"] for e in events}) == 4
    assert len({e["request"]["id"] for e in events}) == 4
    assert len({e["source"]["instanceID"] for e in events}) == 1
    for attempt in receiver.snapshot():
        assert attempt.headers["Content-Type"] == EVENTS_MEDIA_TYPE
        assert attempt.path == "/callback"
        assert len(attempt.events) == 1


def test_pull_mount_and_deletes(tmp_path: Path, receiver: Receiver) -> None:
    config = notifying_config(tmp_path / "data", tmp_path / "queue", [endpoint(receiver)])
    with serve(config) as url, httpx.Client(base_url=url) as client:
        digest, blobs, _ = push_image(client, "src", digest_ref := "latest")
        assert digest_ref == "latest"
        receiver.wait_count(4)
        mark = 4

        def new_events(count: int) -> list[dict[str, Any]]:
            nonlocal mark
            events = receiver.wait_count(mark + count)[mark:]
            mark += count
            return events

        assert client.get("/v2/src/manifests/latest").status_code == 200
        (pull_by_tag,) = new_events(1)
        assert client.get(f"/v2/src/manifests/{digest}").status_code == 200
        (pull_by_digest,) = new_events(1)
        assert client.get(f"/v2/src/blobs/{blobs[1]}").status_code == 200
        (blob_pull,) = new_events(1)
        ranged = client.get(f"/v2/src/blobs/{blobs[1]}", headers={"Range": "bytes=0-0,-1"})
        assert ranged.status_code == 206
        (ranged_pull,) = new_events(1)  # one GET, one pull, however many ranges
        mount = client.post("/v2/dst/blobs/uploads/", params={"mount": blobs[1], "from": "src"})
        assert mount.status_code == 201
        (mounted,) = new_events(1)
        assert client.delete(f"/v2/dst/blobs/{blobs[1]}").status_code == 202
        (blob_delete,) = new_events(1)
        assert client.delete("/v2/src/manifests/latest").status_code == 202
        (tag_delete,) = new_events(1)
        assert client.delete(f"/v2/src/manifests/{digest}").status_code == 202
        (manifest_delete,) = new_events(1)

    assert pull_by_tag["action"] == "pull" and pull_by_tag["target"]["tag"] == "latest"
    assert pull_by_tag["request"]["method"] == "GET"
    assert pull_by_digest["action"] == "pull" and "tag" not in pull_by_digest["target"]
    assert pull_by_digest["target"]["mediaType"] == OCI_MANIFEST
    assert blob_pull["action"] == "pull"
    assert blob_pull["target"]["url"] == f"{url}/v2/src/blobs/{blobs[1]}"
    assert ranged_pull["action"] == "pull"
    assert ranged_pull["target"]["digest"] == blobs[1]
    assert mounted["action"] == "mount"
    assert mounted["target"]["fromRepository"] == "src"
    assert mounted["target"]["repository"] == "dst"
    assert mounted["target"]["url"] == f"{url}/v2/dst/blobs/{blobs[1]}"
    # deletes carry only what identifies the target
    assert blob_delete["action"] == "delete"
    assert blob_delete["target"] == {"digest": blobs[1], "repository": "dst"}
    assert tag_delete["target"] == {"repository": "src", "tag": "latest"}
    assert manifest_delete["target"] == {"digest": digest, "repository": "src"}
    assert manifest_delete["request"]["method"] == "DELETE"


def test_push_by_digest_has_no_tag_and_references_when_asked(
    tmp_path: Path, receiver: Receiver
) -> None:
    config = notifying_config(
        tmp_path / "data",
        tmp_path / "queue",
        [endpoint(receiver)],
        events={"includereferences": True},
    )
    with serve(config) as url, httpx.Client(base_url=url) as client:
        first, _, manifest = push_image(client, "refs", "v1", layers=2)
        put = client.put(
            f"/v2/refs/manifests/{first}",
            content=manifest,
            headers={"Content-Type": OCI_MANIFEST},
        )
        assert put.status_code == 201
        assert client.get(f"/v2/refs/manifests/{first}").status_code == 200
        events = receiver.wait_count(6)

    by_tag, by_digest, pulled = events[3], events[4], events[5]
    assert by_tag["target"]["tag"] == "v1"
    assert "tag" not in by_digest["target"] and by_digest["action"] == "push"
    references = by_tag["target"]["references"]
    assert [r["mediaType"] for r in references] == [OCI_CONFIG, OCI_LAYER, OCI_LAYER]
    assert [r["digest"] for r in references] == [e["target"]["digest"] for e in events[:3]]
    assert all(r["size"] > 0 for r in references)
    assert pulled["target"]["references"] == references
    assert all("references" not in e["target"] for e in events[:3])  # blobs: never


def test_several_tags_give_one_event_each(tmp_path: Path, receiver: Receiver) -> None:
    config = notifying_config(tmp_path / "data", tmp_path / "queue", [endpoint(receiver)])
    with serve(config) as url, httpx.Client(base_url=url) as client:
        digest, _, manifest = push_image(client, "multi", "v1")
        put = client.put(
            f"/v2/multi/manifests/{digest}",
            params=[("tag", "a"), ("tag", "b")],
            content=manifest,
            headers={"Content-Type": OCI_MANIFEST},
        )
        assert put.status_code == 201
        events = receiver.wait_count(6)
    assert [e["target"].get("tag") for e in events[3:]] == ["v1", "a", "b"]
    assert len({e["id"] for e in events}) == 6


def test_actor_comes_from_auth(tmp_path: Path, receiver: Receiver) -> None:
    async def alice(request: Request, context: RequestContext) -> None:
        context.actor = "alice"

    config = notifying_config(tmp_path / "data", tmp_path / "queue", [endpoint(receiver)])
    app = create_app(config, access_hooks=[alice])
    with run_server(app) as url, httpx.Client(base_url=url) as client:
        push_blob(client, "who", b"some bytes")
        (event,) = receiver.wait_count(1)
    assert event["actor"] == {"name": "alice"}


def test_http_host_and_prefix_shape_the_urls(tmp_path: Path, receiver: Receiver) -> None:
    config = notifying_config(tmp_path / "data", tmp_path / "queue", [endpoint(receiver)])
    config.http.host = "https://registry.example:8443"
    config.http.prefix = "/mirror/"
    with serve(config) as url, httpx.Client(base_url=url + "/mirror") as client:
        data = b"prefixed"
        digest = digest_of(data)
        # one monolithic POST: the upload Location would point at http.host
        posted = client.post("/v2/p/blobs/uploads/", params={"digest": digest}, content=data)
        assert posted.status_code == 201, posted.text
        (event,) = receiver.wait_count(1)
    assert event["target"]["url"] == f"https://registry.example:8443/mirror/v2/p/blobs/{digest}"


def test_ignore_rules_per_endpoint(tmp_path: Path) -> None:
    """``ignore.actions`` alone (distribution 2.8 dropped it without media types), the old
    ``ignoredmediatypes``, and both ``ignore`` lists together."""
    receivers = [Receiver().start() for _ in range(4)]
    everything, no_pulls, no_blobs, picky = receivers
    try:
        entries = [
            endpoint(everything, name="everything"),
            endpoint(no_pulls, name="no-pulls", ignore={"actions": ["pull"]}),
            endpoint(no_blobs, name="no-blobs", ignoredmediatypes=[OCTET]),
            endpoint(
                picky,
                name="picky",
                ignore={"mediatypes": [OCI_MANIFEST], "actions": ["delete", "mount"]},
            ),
        ]
        config = notifying_config(tmp_path / "data", tmp_path / "queue", entries)
        with serve(config) as url, httpx.Client(base_url=url) as client:
            digest, blobs, _ = push_image(client, "ig", "v1", layers=1)
            assert client.get("/v2/ig/manifests/v1").status_code == 200
            assert client.get(f"/v2/ig/blobs/{blobs[1]}").status_code == 200
            mounted = client.post(
                "/v2/other/blobs/uploads/", params={"mount": blobs[1], "from": "ig"}
            )
            assert mounted.status_code == 201
            assert client.delete(f"/v2/ig/manifests/{digest}").status_code == 202
            everything.wait_count(7)
            # the others got their share by the time the unfiltered one got everything
            no_pulls.wait_count(5)
            no_blobs.wait_count(3)
            picky.wait_count(3)
    finally:
        for rec in receivers:
            rec.stop()

    def summary(rec: Receiver) -> list[tuple[str, str]]:
        return [(e["action"], e["target"].get("mediaType", "-")) for e in rec.delivered()]

    push, pull = "push", "pull"
    assert summary(everything) == [
        (push, OCTET),
        (push, OCTET),
        (push, OCI_MANIFEST),
        (pull, OCI_MANIFEST),
        (pull, OCTET),
        ("mount", OCTET),
        ("delete", "-"),
    ]
    assert summary(no_pulls) == [
        (push, OCTET),
        (push, OCTET),
        (push, OCI_MANIFEST),
        ("mount", OCTET),
        ("delete", "-"),
    ]
    assert summary(no_blobs) == [(push, OCI_MANIFEST), (pull, OCI_MANIFEST), ("delete", "-")]
    assert summary(picky) == [(push, OCTET), (push, OCTET), (pull, OCTET)]
