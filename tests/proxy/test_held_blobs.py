"""A blob the storage already holds under another name (fetched for another mirrored
repository, or pushed to a local one) is linked into a mirrored repository only once
that repository's upstream says it has it there: one ``HEAD``, no second download. Holding
a digest is no right to pull it under any name: not past the allow-list, not out of a
local repository, not from an upstream repository that lacks it."""

from __future__ import annotations

import httpx

import pyregistry
from pyregistry.client import RegistryClient
from pyregistry.client.content import build_image
from tests.client.proxy import TcpProxy
from tests.proxy.conftest import MirrorFactory, point_relay


def _blob_unknown(url: str) -> None:
    answer = httpx.get(url, timeout=30)
    assert answer.status_code == 404, answer.text[:200]
    assert answer.json()["errors"][0]["code"] == "BLOB_UNKNOWN"


def test_a_blob_held_elsewhere_is_linked_only_where_the_upstream_has_it(
    relay: TcpProxy, start_mirror: MirrorFactory
) -> None:
    image = build_image(seed="held-blobs", layers=1)
    layer = image.layers[0]
    with pyregistry.serve() as upstream:
        with RegistryClient(upstream.url) as up:
            up.push("team/app", image, "v1")
            up.push_blob("other/app", b"something else")  # other/app has not the layer
        point_relay(relay, upstream.url)
        mirror = start_mirror(
            mirrors=[
                {"prefix": "a", "url": upstream.url},
                {"prefix": "b", "url": relay.url},
                {"prefix": "c", "url": upstream.url, "allow": ["nothing/*"]},
            ]
        )
        secret = b"pushed to a local repository, never to any upstream"
        with RegistryClient(mirror) as client:
            assert client.get_blob("a/team/app", layer.digest) == layer.gzipped  # cached
            private = client.push_blob("private/app", secret)

            # the same repository upstream, through another prefix: confirmed, not fetched
            assert client.get_blob("b/team/app", layer.digest) == layer.gzipped
            blob_path = f"/v2/team/app/blobs/{layer.digest}"
            assert blob_path in relay.paths("HEAD")
            assert blob_path not in relay.paths("GET")

        # an upstream repository without it, a name outside the allow-list, and a blob
        # only a local repository holds: unknown, as if the storage did not hold them
        _blob_unknown(f"{mirror}/v2/a/other/app/blobs/{layer.digest}")
        _blob_unknown(f"{mirror}/v2/c/team/app/blobs/{layer.digest}")
        _blob_unknown(f"{mirror}/v2/a/team/app/blobs/{private}")
        assert httpx.get(f"{mirror}/v2/private/app/blobs/{private}").content == secret
