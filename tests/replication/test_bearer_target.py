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
from tests.support.credential_helper import Helper

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


def test_target_login_from_a_credential_helper(tmp_path: Path) -> None:
    """The target's ``exec``: the helper is asked for the token service's host, once (no
    lifetime: kept), and its login gets the tokens."""
    helper = Helper(tmp_path / "helper")
    (tmp_path / "target").mkdir()
    with contextlib.ExitStack() as stack:
        target = stack.enter_context(
            run_auth_registry(tmp_path / "target", {USER: PASSWORD}, projects=None)
        )
        realm = target.url.removeprefix("http://")  # the built-in token service: same host
        helper.give({realm: (USER, PASSWORD)})
        replication = push_to("secure", target.url)
        replication["targets"][0].update(exec={"command": str(helper.path)})
        hq = stack.enter_context(serve_site(tmp_path / "hq", "hq", replication))
        image = build_image(seed="bearer-helper", layers=1)
        with RegistryClient(hq.url) as client:
            pushed = client.push("team/one", image, tag="v1")

        def arrived() -> bool:
            with RegistryClient(target.url, credentials=(USER, PASSWORD)) as client:
                desc = client.head_manifest("team/one", "v1")
                return desc is not None and desc.digest == pushed

        wait_until(arrived, what="the image at the target")
        assert set(helper.asked()) == {realm}
        assert len(helper.asked()) == 1
