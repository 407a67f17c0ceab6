"""A mirror under upstream faults and load: a blob cut mid-transfer caches nothing,
concurrent cold pulls fetch once, 429 is passed on, one platform of an index is fetched
alone. Upstreams are real registries; the cut is a real killed process."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY

from pyregistry.api.ratelimit import rate_limited
from pyregistry.app import create_app
from pyregistry.client import RegistryClient
from pyregistry.client.content import build_image, build_multiarch
from pyregistry.embedding.options import config_from_mapping
from tests.client.proxy import TcpProxy
from tests.proxy.conftest import USER, MirrorFactory, distribution_with_users, point_relay
from tests.proxy.scripted_upstream import ScriptedUpstream
from tests.support.server import filesystem_config, run_server


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.mark.slow
def test_upstream_killed_mid_blob_caches_nothing(
    htpasswd: Path, relay: TcpProxy, start_mirror: MirrorFactory, tmp_path: Path
) -> None:
    data = os.urandom(256 * 1024 * 1024)  # the size issue 15 names
    digest = _digest(data)
    root = tmp_path / "upstream"
    with distribution_with_users(htpasswd, root) as upstream:
        with RegistryClient(upstream.url, credentials=USER) as client:
            client.push_blob("team/big", data)
        point_relay(relay, upstream.url)
        mirror = start_mirror(
            proxy={"remoteurl": relay.url, "username": USER[0], "password": USER[1]},
            allow_server_errors=True,
        )
        url = f"{mirror}/v2/team/big/blobs/{digest}"
        received = 0
        with pytest.raises(httpx.HTTPError), httpx.stream("GET", url, timeout=30) as response:  # noqa: PT012 - fails mid-stream
            assert response.status_code == 200
            for chunk in response.iter_raw():
                received += len(chunk)
                if received >= 1024 * 1024 and upstream.process.poll() is None:
                    upstream.process.send_signal(signal.SIGKILL)
                    upstream.process.wait(10)
        assert received < len(data)
    down = httpx.get(url)
    assert down.status_code == 503, "a cut transfer must leave nothing cached"
    with distribution_with_users(htpasswd, root) as again:
        point_relay(relay, again.url)
        with httpx.stream("GET", url, timeout=60) as response:
            assert response.status_code == 200
            hasher = hashlib.sha256()
            for chunk in response.iter_raw():
                hasher.update(chunk)
        assert "sha256:" + hasher.hexdigest() == digest
    # cached now (the copy is committed, its 256 MiB synced, once the last bytes have
    # gone: the client's last bytes wait for the digest check only), upstream gone again
    deadline = time.monotonic() + 30
    while (status := httpx.head(url).status_code) != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status == 200


def _status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc/self/status")


def _reset_peak_rss() -> int:
    """Reset this process's peak RSS (the servers run in it); the RSS now."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_bytes("VmRSS")


def _peak_rss() -> int:
    return _status_bytes("VmHWM")


@pytest.mark.slow
def test_concurrent_cold_pulls_fetch_once(
    relay: TcpProxy, start_mirror: MirrorFactory, tmp_path: Path
) -> None:
    data = os.urandom(256 * 1024 * 1024)  # the size issue 15 names
    digest = _digest(data)
    with run_server(create_app(filesystem_config(tmp_path / "upstream"))) as upstream:
        with RegistryClient(upstream) as client:
            client.push_blob("team/big", data)
        point_relay(relay, upstream)
        mirror = start_mirror(proxy={"remoteurl": relay.url})

        async def pull(client: httpx.AsyncClient) -> str:
            hasher = hashlib.sha256()
            async with client.stream("GET", f"{mirror}/v2/team/big/blobs/{digest}") as response:
                assert response.status_code == 200
                async for chunk in response.aiter_raw():
                    hasher.update(chunk)
            return "sha256:" + hasher.hexdigest()

        async def pulls() -> list[str]:
            limits = httpx.Limits(max_connections=20)
            async with httpx.AsyncClient(timeout=120, limits=limits) as client:
                return await asyncio.gather(*(pull(client) for _ in range(20)))

        del data
        baseline = _reset_peak_rss()
        assert asyncio.run(pulls()) == [digest] * 20
        grown = _peak_rss() - baseline
    # a whole copy would be 256 MiB (one per pull: 5 GiB); streaming stays within a few
    # buffers per pull
    assert grown < 128 * 1024 * 1024, f"memory grew by {grown >> 20} MiB"
    blob_gets = [p for p in relay.paths("GET") if p.endswith(f"/blobs/{digest}")]
    assert len(blob_gets) == 1, relay.requests


def test_upstream_429_is_passed_on(start_mirror: MirrorFactory, tmp_path: Path) -> None:
    image = build_image(seed="faults-429", layers=1)
    root = tmp_path / "upstream"
    with (
        run_server(create_app(filesystem_config(root))) as open_upstream,
        RegistryClient(open_upstream) as client,
    ):
        client.push("team/app", image, "v1")
    limited = rate_limited(create_app(filesystem_config(root)), 1, {})
    with run_server(limited) as upstream:
        mirror = start_mirror(proxy={"remoteurl": upstream})
        answers = [httpx.get(f"{mirror}/v2/team/app/manifests/v1") for _ in range(3)]
    limited_answers = [a for a in answers if a.status_code == 429]
    assert limited_answers, [a.status_code for a in answers]
    assert limited_answers[0].json()["errors"][0]["code"] == "TOOMANYREQUESTS"
    assert limited_answers[0].headers.get("retry-after")


def test_one_platform_of_an_index(start_mirror: MirrorFactory, tmp_path: Path) -> None:
    index = build_multiarch(seed="faults-multi", architectures=("amd64", "arm64"))
    amd64, arm64 = index.children()
    document = config_from_mapping({"storage": {"filesystem": {"rootdirectory": str(tmp_path)}}})
    with run_server(create_app(document)) as upstream:
        with RegistryClient(upstream) as client:
            client.push("team/multi", index, "v1")
        mirror = start_mirror(proxy={"remoteurl": upstream})
        with RegistryClient(mirror) as client:
            assert client.get_manifest("team/multi", "v1").digest == index.digest
            assert client.get_manifest("team/multi", amd64.digest).digest == amd64.digest
            for blob, data in amd64.blobs().items():
                assert client.get_blob("team/multi", blob) == data
    with RegistryClient(mirror) as client:  # the upstream is gone
        assert client.get_manifest("team/multi", "v1").digest == index.digest
        assert client.get_manifest("team/multi", amd64.digest).digest == amd64.digest
    missing = httpx.get(f"{mirror}/v2/team/multi/manifests/{arm64.digest}")
    assert missing.status_code == 503


@pytest.mark.slow
def test_client_gone_mid_blob_caches_nothing(start_mirror: MirrorFactory, tmp_path: Path) -> None:
    """A client hanging up cancels the fetch's upload session (only a verified copy is
    ever committed) and releases its flight: the next pull fetches, serves and caches."""
    data = os.urandom(48 * 1024 * 1024)
    digest = _digest(data)
    with run_server(create_app(filesystem_config(tmp_path / "upstream"))) as upstream:
        with RegistryClient(upstream) as client:
            client.push_blob("team/big", data)
        mirror = start_mirror(proxy={"remoteurl": upstream})
        url = f"{mirror}/v2/team/big/blobs/{digest}"
        with httpx.stream("GET", url, timeout=30) as response:
            assert response.status_code == 200
            for _ in response.iter_raw(1024 * 1024):
                break  # and hang up
        with httpx.stream("GET", url, timeout=60) as response:  # a full pull still works
            hasher = hashlib.sha256()
            for chunk in response.iter_raw():
                hasher.update(chunk)
        assert "sha256:" + hasher.hexdigest() == digest
    assert httpx.head(url).status_code == 200  # the complete pull was cached


def test_client_closing_after_the_last_byte_still_caches_once(
    relay: TcpProxy, start_mirror: MirrorFactory, tmp_path: Path
) -> None:
    """The last bytes go once the digest is verified, before the copy is synced and
    moved into place. A client that closes at once (which cancels its request) neither
    stops that commit nor ends the fetch before it: the next pull, sent at once, is
    served from the cache, not by a second fetch. (The blob is large enough that its
    sync outlasts a new connection's request.)"""
    data = os.urandom(96 * 1024 * 1024)
    digest = _digest(data)
    with run_server(create_app(filesystem_config(tmp_path / "upstream"))) as upstream:
        with RegistryClient(upstream) as client:
            client.push_blob("team/big", data)
        del data
        point_relay(relay, upstream)
        mirror = start_mirror(proxy={"remoteurl": relay.url})
        url = f"{mirror}/v2/team/big/blobs/{digest}"
        for _ in range(2):  # each on a new connection, closed right after the last byte
            hasher = hashlib.sha256()
            with httpx.stream("GET", url, timeout=60) as response:
                for chunk in response.iter_raw():
                    hasher.update(chunk)
            assert "sha256:" + hasher.hexdigest() == digest
    blob_gets = [p for p in relay.paths("GET") if p.endswith(f"/blobs/{digest}")]
    assert len(blob_gets) == 1, relay.requests


def _upstream_errors(label: str) -> float:
    return (
        REGISTRY.get_sample_value("registry_proxy_upstream_errors_total", {"upstream": label})
        or 0.0
    )


def test_corrupt_upstream_blob_is_refused_and_counted(
    start_mirror: MirrorFactory, tmp_path: Path
) -> None:
    """Bytes that do not hash to their digest (checked once, by the cache's upload
    session) reach no client whole, are not cached, and count as an upstream failure."""
    good = os.urandom(3 * 1024 * 1024)
    digest = _digest(good)
    corrupt = good[:-1] + bytes([good[-1] ^ 1])
    upstream = ScriptedUpstream({digest: corrupt}, send_seconds=0.05)
    root = tmp_path / "mirror"
    with run_server(upstream) as upstream_url:
        mirrors = [{"prefix": "up", "url": upstream_url}]
        mirror = start_mirror(root, mirrors=mirrors, allow_server_errors=True)
        url = f"{mirror}/v2/up/team/app/blobs/{digest}"
        for attempt in (1, 2):  # nothing was cached: the second pull fetches again
            errors = _upstream_errors("up")
            received = 0
            with pytest.raises(httpx.HTTPError), httpx.stream("GET", url, timeout=30) as response:  # noqa: PT012 - fails mid-stream
                assert response.status_code == 200
                for chunk in response.iter_raw():
                    received += len(chunk)
            assert received < len(good)
            assert _upstream_errors("up") == errors + 1
            assert upstream.fetches[digest] == attempt
    blob_dir = root / "docker/registry/v2/blobs/sha256" / digest[7:9] / digest[7:]
    assert not blob_dir.exists()
    assert not list(root.glob("docker/registry/v2/repositories/**/_uploads/*"))
