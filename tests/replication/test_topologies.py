"""Loop freedom: a dual-master pair and a ring A -> B -> C -> A, counted at every site.

The origin chain stops a change before it goes back where it came from; where the ids
are not configured (the last test), the "already there" check stops it one step later,
with a HEAD and no upload.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyregistry.client import RegistryClient
from pyregistry.client.content import build_image
from tests.client.proxy import TcpProxy
from tests.replication.sites import Site, push_to, serve_site, wait_until


def digest_at(site: Site, repository: str, reference: str) -> str | None:
    with RegistryClient(site.url) as client:
        desc = client.head_manifest(repository, reference)
        return desc.digest if desc else None


@contextlib.contextmanager
def ring(root: Path, names: list[str], ids: bool = True) -> Iterator[list[Site]]:
    """Sites pushing each to the next, the last to the first. The first site starts
    first, pointed at a TCP proxy that is connected to the second once that is up;
    ``ids=False`` names every target so that no origin chain can match it."""

    def target(name: str) -> str:
        return name if ids else f"{name}-unnamed"

    with contextlib.ExitStack() as stack:
        proxy = TcpProxy("http://127.0.0.1:1").start()
        stack.callback(proxy.stop)
        first = stack.enter_context(
            serve_site(root / names[0], names[0], push_to(target(names[1]), proxy.url))
        )
        sites: list[Site] = []
        next_site = first
        for name in reversed(names[1:]):
            following = names[(names.index(name) + 1) % len(names)]
            policy = push_to(target(following), next_site.url)
            next_site = stack.enter_context(serve_site(root / name, name, policy))
            sites.insert(0, next_site)
        proxy.upstream = ("127.0.0.1", int(sites[0].url.rsplit(":", 1)[1]))
        yield [first, *sites]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Site]]:
    with ring(tmp_path_factory.mktemp("pair"), ["west", "east"]) as sites:
        yield sites


def test_dual_master_sends_nothing_back(pair: list[Site]) -> None:
    west, east = pair
    image = build_image(seed="pair-west", layers=1)
    with RegistryClient(west.url) as client:
        digest = client.push("app/web", image, tag="v1")
    wait_until(lambda: digest_at(east, "app/web", "v1") == digest, what="east's copy")
    other = build_image(seed="pair-east", layers=1)
    with RegistryClient(east.url) as client:
        other_digest = client.push("app/api", other, tag="v1")
    wait_until(lambda: digest_at(west, "app/api", "v1") == other_digest, what="west's copy")
    with RegistryClient(east.url) as client:
        client.delete_manifest("app/web", digest)
    wait_until(lambda: digest_at(west, "app/web", digest) is None, what="the delete at west")
    # one client push and one replicated push at each site; one delete each
    assert west.counter.counts["PUT manifests"] == 2
    assert east.counter.counts["PUT manifests"] == 2
    assert west.counter.counts["DELETE manifests"] == 1
    assert east.counter.counts["DELETE manifests"] == 1
    assert west.counter.counts["POST uploads"] == east.counter.counts["POST uploads"]


def test_a_ring_stops_before_its_start(tmp_path: Path) -> None:
    with ring(tmp_path, ["a", "b", "c"]) as (a, b, c):
        image = build_image(seed="ring", layers=1)
        with RegistryClient(a.url) as client:
            digest = client.push("ring/app", image, tag="v1")
        wait_until(lambda: digest_at(c, "ring/app", "v1") == digest, what="c's copy")
        wait_until(lambda: c.app.state.replication.sink.loops_cut >= 1, what="c cutting the loop")
        assert [s.counter.counts["PUT manifests"] for s in (a, b, c)] == [1, 1, 1]
        assert any("via a,b" in agent for agent in c.counter.agents)


def test_without_ids_the_target_check_ends_the_loop(tmp_path: Path) -> None:
    with ring(tmp_path, ["x", "y"], ids=False) as (x, y):
        image = build_image(seed="unnamed", layers=1)
        with RegistryClient(x.url) as client:
            digest = client.push("loop/app", image, tag="v1")
        wait_until(lambda: digest_at(y, "loop/app", "v1") == digest, what="y's copy")
        # y queues it for x (the chain names "y-unnamed", not x) and finds it there
        wait_until(
            lambda: y.app.state.replication.snapshot()["policies"]["to-x-unnamed"]["executions"],
            what="y's execution",
        )
        policy = y.app.state.replication.snapshot()["policies"]["to-x-unnamed"]
        assert policy["executions"][0]["tally"]["skipped"] >= 1
        assert x.counter.counts["PUT manifests"] == 1  # the client's push only
        assert y.counter.counts["PUT manifests"] == 1
        assert x.counter.counts["POST uploads"] == 2  # the client's two blobs only
