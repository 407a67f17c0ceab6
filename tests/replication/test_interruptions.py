"""Failures in the middle of replication: a connection cut mid-chunk (the upload resumes
at the target's offset), a target stopped and started again (the queue waits, then
catches up in order, deletes included), and the source killed with SIGKILL mid-blob (the
queue and the upload session's URL on its storage survive; the restarted source asks the
target where the session stands and sends the rest)."""

from __future__ import annotations

import contextlib
import math
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyregistry.client import RegistryClient
from pyregistry.client.content import Image, build_image, random_layer
from tests.client.proxy import TcpProxy
from tests.replication.sites import Site, push_to, serve_site, wait_until
from tests.support.registry_process import RegistryProcess, free_port, write_config

CHUNK = 64 * 1024


def digest_at(url: str, repository: str, reference: str) -> str | None:
    with RegistryClient(url) as client:
        desc = client.head_manifest(repository, reference)
        return desc.digest if desc else None


def big_image(seed: str, size: int) -> Image:
    return build_image(seed=seed, layers=0, base_layers=[random_layer(seed, size=size)])


@contextlib.contextmanager
def proxied(upstream: Site) -> Iterator[TcpProxy]:
    proxy = TcpProxy(upstream.url).start()
    try:
        yield proxy
    finally:
        proxy.stop()


def point(proxy: TcpProxy, site: Site) -> None:
    proxy.upstream = ("127.0.0.1", int(site.url.rsplit(":", 1)[1]))


def fast_retries(name: str, url: str) -> dict[str, Any]:
    replication = push_to(name, url, backoff="50ms", maxbackoff="200ms")
    replication["targets"][0]["chunksize"] = CHUNK
    return replication


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("interruptions")


def test_a_cut_chunk_resumes_where_the_target_stands(root: Path) -> None:
    with contextlib.ExitStack() as stack:
        target = stack.enter_context(serve_site(root / "cut-target", "t"))
        proxy = stack.enter_context(proxied(target))
        source = stack.enter_context(
            serve_site(root / "cut-source", "s", fast_retries("t", proxy.url))
        )
        image = big_image("cut", 512 * 1024)
        proxy.arm_cut(b"PATCH ", after=CHUNK // 2)  # cut in the middle of a chunk
        with RegistryClient(source.url) as client:
            digest = client.push("big/app", image, tag="v1")
        wait_until(lambda: digest_at(target.url, "big/app", "v1") == digest, what="the copy")
        assert proxy.cuts_done == 1
        layer = image.layers[0].gzipped
        chunks = math.ceil(len(layer) / CHUNK)
        assert len(proxy.paths("PATCH")) <= chunks + 2
        # resumed: the session was asked where it stood and went on; no second session
        assert any("/blobs/uploads/" in path for path in proxy.paths("GET"))
        assert len(proxy.paths("POST")) == 2  # the config's upload and the layer's
        with RegistryClient(target.url) as client:
            assert client.get_blob("big/app", image.layer_digests[0]) == layer


def test_a_stopped_target_catches_up_in_order(root: Path) -> None:
    target_root = root / "stop-target"
    with contextlib.ExitStack() as stack:
        running = contextlib.ExitStack()
        stack.callback(running.close)
        first = running.enter_context(serve_site(target_root, "t"))
        proxy = stack.enter_context(proxied(first))
        source = stack.enter_context(
            serve_site(root / "stop-source", "s", fast_retries("t", proxy.url))
        )
        service = source.app.state.replication
        one, two, three = (build_image(seed=f"stop-{i}", layers=1) for i in range(3))
        with RegistryClient(source.url) as client:
            one_digest = client.push("app/x", one, tag="one")
            wait_until(lambda: digest_at(first.url, "app/x", "one") == one_digest, what="one")
            running.close()  # the target goes away; what happens now waits in the queue
            client.push("app/x", two, tag="two")
            client.delete_manifest("app/x", one_digest)
            three_digest = client.push("app/x", three, tag="three")

        def waiting() -> dict[str, object] | None:
            policy = service.snapshot()["policies"]["to-t"]
            return policy if policy["last_error"] and policy["pending"] >= 3 else None

        waiting_policy = wait_until(waiting, what="the queue to wait for the target")
        assert waiting_policy["lag_seconds"] > 0
        second = running.enter_context(serve_site(target_root, "t"))
        point(proxy, second)
        wait_until(
            lambda: digest_at(second.url, "app/x", "three") == three_digest, what="catching up"
        )
        assert digest_at(second.url, "app/x", "two") == two.digest
        assert digest_at(second.url, "app/x", one_digest) is None
        assert second.counter.counts["PUT manifests"] == 2
        assert second.counter.counts["DELETE manifests"] == 1
        wait_until(lambda: service.snapshot()["policies"]["to-t"]["pending"] == 0, what="empty")
        caught_up = service.snapshot()["policies"]["to-t"]["executions"][0]
        assert caught_up["tally"]["lag_seconds"] >= waiting_policy["lag_seconds"]


def test_source_killed_mid_blob_finishes_after_restart(root: Path) -> None:
    with contextlib.ExitStack() as stack:
        target = stack.enter_context(serve_site(root / "kill-target", "t"))
        proxy = stack.enter_context(proxied(target))
        port = free_port()
        replication = fast_retries("t", proxy.url)
        replication["id"] = "s"
        # The killed holder's lease must expire before the restart can send; 5 s, not 1 s:
        # a busy machine delayed a renewal past a 1 s lease, the job started over mid-chunk
        # and the PATCH count below no longer told resumed from restarted.
        replication["queue"] = {"poll": "100ms", "lease": "5s"}
        replication["targets"][0]["chunksize"] = 256 * 1024
        storage = {
            "filesystem": {"rootdirectory": str(root / "kill-source" / "data")},
            "delete": {"enabled": True},
        }
        (root / "kill-source").mkdir()
        config = write_config(root / "kill-source", port, storage=storage, replication=replication)
        image = big_image("kill", 8 * 1024 * 1024)
        source_url = f"http://127.0.0.1:{port}"
        with RegistryProcess(["serve", str(config)], port=port) as source:
            with RegistryClient(source_url) as client:
                digest = client.push("big/kill", image, tag="v1")
            wait_until(lambda: len(proxy.paths("PATCH")) >= 3, what="the blob upload to start")
            source.send_signal(signal.SIGKILL)
            source.wait()
        assert digest_at(target.url, "big/kill", "v1") is None  # killed mid-blob
        sent_before = len(proxy.paths("PATCH"))
        with RegistryProcess(["serve", str(config)], port=port):
            wait_until(
                lambda: digest_at(target.url, "big/kill", "v1") == digest,
                timeout=30,
                what="the copy after the restart",
            )
        layer = image.layers[0].gzipped
        with RegistryClient(target.url) as client:
            assert client.get_blob("big/kill", image.layer_digests[0]) == layer
        assert target.counter.counts["PUT manifests"] == 1
        # the restarted source asked the session where it stood and sent only the rest
        chunks = math.ceil(len(layer) / (256 * 1024))
        assert any("/blobs/uploads/" in path for path in proxy.paths("GET"))
        sent_after = len(proxy.paths("PATCH")) - sent_before
        assert sent_after < chunks - 1  # not started over: the chunks it had were kept
