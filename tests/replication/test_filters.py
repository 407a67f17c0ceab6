"""An event-driven policy with filters and a rewrite (the seed's ``local/tomcat:8`` ->
``remote/tomcat:8``): only what matches goes, under its new name; a signature pushed by
digest follows its subject although the policy takes only some tags; an untag follows."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from pyregistry.client import RegistryClient
from pyregistry.client.content import build_artifact, build_image
from tests.replication.sites import Site, push_to, serve_site, wait_until


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Site]]:
    root = tmp_path_factory.mktemp("filters")
    with contextlib.ExitStack() as stack:
        remote = stack.enter_context(serve_site(root / "remote", "remote"))
        policy = push_to(
            "remote",
            remote.url,
            repositories={"include": ["local/*"]},
            tags={"include": ["8*"], "exclude": ["*-rc"]},
            destination={"naming": "rewrite", "from": "local/(.*)", "to": r"remote/\1"},
        )
        local = stack.enter_context(serve_site(root / "local", "local", policy))
        yield local, remote


def digest_at(site: Site, repository: str, reference: str) -> str | None:
    with RegistryClient(site.url) as client:
        desc = client.head_manifest(repository, reference)
        return desc.digest if desc else None


def test_only_matching_images_go_under_their_new_name(sites: tuple[Site, Site]) -> None:
    local, remote = sites
    images = [build_image(seed=f"tomcat-{i}", layers=1) for i in range(4)]
    with RegistryClient(local.url) as client:
        eight = client.push("local/tomcat", images[0], tag="8")
        client.push("local/tomcat", images[1], tag="9")
        client.push("local/tomcat", images[2], tag="8.1-rc")
        client.push("other/tomcat", images[3], tag="8")
        signature = build_artifact(
            "application/vnd.test.signature",
            [b"sig"],
            subject=client.manifest_descriptor("local/tomcat", eight),
        )
        signature_digest = client.push("local/tomcat", signature)
    wait_until(lambda: digest_at(remote, "remote/tomcat", signature_digest), what="signature")
    assert digest_at(remote, "remote/tomcat", "8") == eight
    with RegistryClient(remote.url) as client:
        assert client.tags("remote/tomcat") == ["8"]
        assert client.catalog() == ["remote/tomcat"]


def test_an_untag_follows(sites: tuple[Site, Site]) -> None:
    local, remote = sites
    image = build_image(seed="tomcat-untag", layers=1)
    with RegistryClient(local.url) as client:
        digest = client.push("local/tomcat", image, tag="8.5")
    wait_until(lambda: digest_at(remote, "remote/tomcat", "8.5") == digest, what="the copy")
    with RegistryClient(local.url) as client:
        client.delete_manifest("local/tomcat", "8.5")  # a tag: untag only
    wait_until(lambda: digest_at(remote, "remote/tomcat", "8.5") is None, what="the untag")
    assert digest_at(remote, "remote/tomcat", digest) == digest  # the manifest stays
