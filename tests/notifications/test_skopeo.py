"""A real client: skopeo pushes (and pulls) a multi-layer OCI image; the receiver sees
distribution's events, with the tag only on the manifest."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.notifications.conftest import OCI_MANIFEST, endpoint, notifying_config, serve
from tests.notifications.receiver import Receiver
from tests.support.images import build_image, write_oci_layout
from tests.support.skopeo import Skopeo


def test_skopeo_push_and_pull(tmp_path: Path, receiver: Receiver, skopeo: Skopeo) -> None:
    image = build_image(layers=3, seed=f"notify-{uuid.uuid4()}")
    layout = write_oci_layout(tmp_path / "layout", image, tag="v1")
    config = notifying_config(tmp_path / "data", tmp_path / "queue", [endpoint(receiver)])
    with serve(config) as url:
        host = url.removeprefix("http://")
        pushed = skopeo.copy(f"oci:{layout}:v1", f"docker://{host}/skopeo/app:v1")
        assert pushed == image.manifest_digest
        events = receiver.wait_count(5)
        skopeo.copy(f"docker://{host}/skopeo/app:v1", f"oci:{tmp_path / 'back'}:v1")
        pulls = receiver.wait_count(10)[5:]

    blobs = {image.config_digest, *image.layer_digests}
    push_blobs, manifest = events[:4], events[4]
    assert all(e["action"] == "push" for e in events)
    assert {e["target"]["digest"] for e in push_blobs} == blobs
    assert all("tag" not in e["target"] for e in push_blobs)
    assert all(e["target"]["repository"] == "skopeo/app" for e in events)
    assert manifest["target"]["digest"] == image.manifest_digest
    assert manifest["target"]["mediaType"] == OCI_MANIFEST
    assert manifest["target"]["tag"] == "v1"
    assert manifest["target"]["size"] == len(image.manifest)
    assert all(e["request"]["useragent"] for e in events)

    assert all(e["action"] == "pull" for e in pulls)
    manifest_pulls = [e for e in pulls if e["target"]["mediaType"] == OCI_MANIFEST]
    assert [e["target"].get("tag") for e in manifest_pulls] == ["v1"]
    assert {e["target"]["digest"] for e in pulls if e not in manifest_pulls} == blobs
