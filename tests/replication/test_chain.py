"""HQ -> province -> city: three pyregistry instances, push policies driven by events.

What is pushed at HQ arrives at the city with the same digests (an image, a multi-arch
index with its children, a signature that follows its subject); deletes follow; and
the request counts at each site show every manifest was sent once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyregistry.client import RegistryClient
from pyregistry.client.content import build_artifact, build_image, build_multiarch
from tests.replication.sites import Site, push_to, serve_site, wait_until


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Site, Site]]:
    root: Path = tmp_path_factory.mktemp("chain")
    with contextlib.ExitStack() as stack:
        city = stack.enter_context(serve_site(root / "city", "city"))
        province = stack.enter_context(
            serve_site(root / "province", "province", push_to("city", city.url))
        )
        hq = stack.enter_context(serve_site(root / "hq", "hq", push_to("province", province.url)))
        yield hq, province, city


def digest_at(url: str, repository: str, reference: str) -> str | None:
    with RegistryClient(url) as client:
        desc = client.head_manifest(repository, reference)
        return desc.digest if desc else None


def test_image_arrives_at_the_city_with_its_digest(chain: tuple[Site, Site, Site]) -> None:
    hq, province, city = chain
    image = build_image(seed="chain-image", layers=2)
    with RegistryClient(hq.url) as client:
        digest = client.push("team/app", image, tag="v1")
    wait_until(lambda: digest_at(city.url, "team/app", "v1") == digest, what="the city copy")
    with RegistryClient(city.url) as client:
        assert client.get_manifest("team/app", "v1").content == image.manifest
        for layer in image.layer_digests:
            assert client.blob_exists("team/app", layer)
    # each site got the manifest once; no site sent anything back up
    assert province.counter.counts["PUT manifests"] == 1
    assert city.counter.counts["PUT manifests"] == 1
    assert hq.counter.counts["PUT manifests"] == 1  # the client's own push
    assert any("via hq,province" in agent for agent in city.counter.agents)


def test_index_with_a_signature_arrives_whole(chain: tuple[Site, Site, Site]) -> None:
    hq, _, city = chain
    index = build_multiarch(seed="chain-multi", architectures=("amd64", "arm64"))
    with RegistryClient(hq.url) as client:
        digest = client.push("team/multi", index, tag="latest")
        signature = build_artifact(
            "application/vnd.test.signature",
            [b"signed"],
            subject=client.manifest_descriptor("team/multi", digest),
        )
        signature_digest = client.push("team/multi", signature)
    wait_until(lambda: digest_at(city.url, "team/multi", signature_digest), what="the signature")
    assert digest_at(city.url, "team/multi", "latest") == digest
    with RegistryClient(city.url) as client:
        for child in index.children():
            assert client.head_manifest("team/multi", child.digest) is not None
        referrers = client.referrers("team/multi", digest)
    assert [m["digest"] for m in referrers["manifests"]] == [signature_digest]


def test_deletes_follow_down_the_chain(chain: tuple[Site, Site, Site]) -> None:
    hq, province, city = chain
    image = build_image(seed="chain-delete", layers=1)
    with RegistryClient(hq.url) as client:
        digest = client.push("team/gone", image, tag="v1")
    wait_until(lambda: digest_at(city.url, "team/gone", "v1") == digest, what="the copy")
    with RegistryClient(hq.url) as client:
        client.delete_manifest("team/gone", digest)
    wait_until(lambda: digest_at(city.url, "team/gone", digest) is None, what="the delete")
    assert digest_at(province.url, "team/gone", "v1") is None
