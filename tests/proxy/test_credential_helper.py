"""The mirror's upstream login from a Docker credential helper (``proxy.exec`` as in
distribution 3.1, and ``mirrors[].exec``), and ``proxy.remotenamespace``.

The helper is a real program run the way docker-credential-helpers are: ``helper get``
with the host on its standard input. It answers from a JSON file of logins per host (so a
test can change them) and writes every host it is asked for to a log. Upstreams are real:
distribution 2.8 behind htpasswd (Basic) and pyregistry with its token service (Bearer).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import httpx
import pytest

import pyregistry
from pyregistry.client import CredentialHelper, RegistryClient
from pyregistry.client.content import Built, build_image
from tests.proxy.conftest import USER, MirrorFactory
from tests.support.credential_helper import Helper
from tests.support.distribution import DistributionRegistry


def host_of(url: str) -> str:
    return url.removeprefix("http://").removeprefix("https://")


@pytest.fixture
def helper(tmp_path: Path) -> Helper:
    return Helper(tmp_path / "helper")


def _pushed(upstream: str, repository: str, seed: str, layers: int, layer_size: int) -> Built:
    """An image pushed as ``repository:v1`` to ``upstream``, logged in as :data:`USER`."""
    image = build_image(seed=seed, layers=layers, layer_size=layer_size)
    with RegistryClient(upstream, credentials=USER) as up:
        up.push(repository, image, "v1")
    return image


def _pull_all(mirror: str, repository: str, tag: str, blobs: dict[str, bytes]) -> str:
    with RegistryClient(mirror) as client:
        digest = client.get_manifest(repository, tag).digest
        for blob, data in blobs.items():
            assert client.get_blob(repository, blob) == data
    return digest


def test_basic_upstream_login_from_the_helper_asked_once(
    basic_upstream: DistributionRegistry, start_mirror: MirrorFactory, helper: Helper
) -> None:
    image = _pushed(basic_upstream.url, "library/app", "helper-basic", 2, 20_000)
    upstream = host_of(basic_upstream.url)
    helper.give({upstream: USER})
    # exec wins over username and password, as in distribution
    proxy = {"remoteurl": basic_upstream.url, "username": "nobody", "password": "wrong"}
    mirror = start_mirror(proxy={**proxy, "exec": {"command": str(helper.path)}})

    assert _pull_all(mirror, "library/app", "v1", image.blobs()) == image.digest
    # no lifetime: what the helper gave is kept for good
    assert helper.asked() == [upstream]


def test_lifetime_zero_asks_the_helper_for_every_request(
    basic_upstream: DistributionRegistry, start_mirror: MirrorFactory, helper: Helper
) -> None:
    image = _pushed(basic_upstream.url, "library/app", "helper-zero", 2, 20_000)
    upstream = host_of(basic_upstream.url)
    helper.give({upstream: USER})
    helper_exec = {"command": str(helper.path), "lifetime": "0s"}
    mirror = start_mirror(
        mirrors=[{"prefix": "up", "url": basic_upstream.url, "exec": helper_exec}]
    )

    assert _pull_all(mirror, "up/library/app", "v1", image.blobs()) == image.digest
    asked = len(helper.asked())
    assert asked >= 4 and set(helper.asked()) == {upstream}  # manifest, config, 2 layers
    # a login changed in the store is used at once: here, one that is refused
    helper.give({upstream: (USER[0], "rotated-away")})
    response = httpx.get(f"{mirror}/v2/up/library/other/manifests/v1")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    assert len(helper.asked()) > asked


def test_token_upstream_login_from_the_helper(
    token_upstream: pyregistry.EmbeddedRegistry, start_mirror: MirrorFactory, helper: Helper
) -> None:
    image = _pushed(token_upstream.url, "team/app", "helper-token", 1, 20_000)
    realm = host_of(token_upstream.url)  # the built-in token service: same host
    helper.give({realm: USER})
    mirror = start_mirror(
        mirrors=[
            {
                "prefix": "tok",
                "url": token_upstream.url,
                "exec": {"command": str(helper.path), "lifetime": "1h"},
            }
        ]
    )
    assert _pull_all(mirror, "tok/team/app", "v1", image.blobs()) == image.digest
    # the token service's host was asked, once: the answer is kept for the lifetime
    assert helper.asked() == [realm]


def test_a_helper_without_credentials_leaves_pulls_anonymous(
    basic_upstream: DistributionRegistry, start_mirror: MirrorFactory, helper: Helper
) -> None:
    _pushed(basic_upstream.url, "library/app", "helper-none", 1, 1_000)
    mirror = start_mirror(
        proxy={"remoteurl": basic_upstream.url, "exec": {"command": str(helper.path)}}
    )
    response = httpx.get(f"{mirror}/v2/library/app/manifests/v1")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    assert helper.asked() == [host_of(basic_upstream.url)]


def test_remote_namespace_prefixes_every_upstream_name(start_mirror: MirrorFactory) -> None:
    image = build_image(seed="helper-namespace", layers=1, layer_size=1_000)
    upstream: pyregistry.EmbeddedRegistry
    with pyregistry.serve() as upstream:
        with RegistryClient(upstream.url) as up:
            up.push("superhero/batman/robin", image, "v1")
        mirror = start_mirror(proxy={"remoteurl": upstream.url, "remotenamespace": "superhero"})
        assert _pull_all(mirror, "batman/robin", "v1", image.blobs()) == image.digest
        missing = httpx.get(f"{mirror}/v2/superhero/batman/robin/manifests/v1")
        assert missing.status_code == 404  # upstream that is superhero/superhero/...


def test_helper_answers_are_kept_for_their_lifetime(helper: Helper) -> None:
    helper.give({"registry.test:5000": ("user", "secret")})
    now = [100.0]
    kept = CredentialHelper(str(helper.path), lifetime=60.0, clock=lambda: now[0])

    async def ask() -> tuple[str, str] | None:
        return await kept.credentials("registry.test:5000")

    assert asyncio.run(ask()) == ("user", "secret")
    now[0] += 59
    assert asyncio.run(ask()) == ("user", "secret")
    assert kept.runs == 1
    helper.give({"registry.test:5000": ("user", "next")})
    now[0] += 2
    assert asyncio.run(ask()) == ("user", "next")
    assert kept.runs == 2


@pytest.mark.parametrize(
    "broken",
    ["missing", "not found", "not json", "hangs"],
)
def test_a_failing_helper_gives_nothing_and_is_asked_again(
    helper: Helper, tmp_path: Path, broken: str
) -> None:
    command = str(helper.path)
    if broken == "missing":
        command = str(tmp_path / "no-such-helper")
    elif broken == "not json":
        helper.path.write_text(f"#!{sys.executable}\nprint('hello')\n")
    elif broken == "hangs":
        helper.give({"h:1": ("user", "secret")})
        helper.hang()
    failing = CredentialHelper(command, timeout=1.0)
    started = time.monotonic()
    assert asyncio.run(failing.credentials("h:1")) is None
    assert time.monotonic() - started < 10
    assert asyncio.run(failing.credentials("h:1")) is None
    assert failing.runs == 2  # a failure is not kept
