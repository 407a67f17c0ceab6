"""A target behind the Bearer token flow (pyregistry's own token service, a user added
with ``pyregistry user add``): the policy's username and password get a token per
scope, and the image arrives, cross-repository mount included."""

from __future__ import annotations

import contextlib
from pathlib import Path

from pyregistry.client import RegistryClient
from pyregistry.client.content import build_image
from tests.replication.sites import push_to, serve_site, wait_until
from tests.support.auth_registry import run_auth_registry

USER, PASSWORD = "replicator", "token-pass-1"


def test_push_to_a_token_protected_target(tmp_path: Path) -> None:
    (tmp_path / "target").mkdir()
    with contextlib.ExitStack() as stack:
        target = stack.enter_context(
            run_auth_registry(tmp_path / "target", {USER: PASSWORD}, projects=None)
        )
        replication = push_to("secure", target.url)
        replication["targets"][0].update(username=USER, password=PASSWORD)
        hq = stack.enter_context(serve_site(tmp_path / "hq", "hq", replication))
        image = build_image(seed="bearer", layers=2)
        with RegistryClient(hq.url) as client:
            first = client.push("team/one", image, tag="v1")
            client.push("team/two", image, tag="v1")

        def arrived() -> bool:
            with RegistryClient(target.url, credentials=(USER, PASSWORD)) as client:
                return all(
                    (desc := client.head_manifest(name, "v1")) is not None and desc.digest == first
                    for name in ("team/one", "team/two")
                )

        wait_until(arrived, what="both repositories at the target")
        access = target.process.stdout
        assert "/auth/token" in access  # the Bearer flow was used
        assert "mount=" in access  # the second repository mounted the blobs of the first
