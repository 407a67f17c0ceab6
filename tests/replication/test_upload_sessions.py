"""Upload session records (a chunked blob's resume point at a target, on the source's
storage) do not pile up: one is kept while its change waits for the target, and goes
when the change is done with (here: the image reached the target another way), or, left
without progress for ``queue.stalesessions``, by the push job's sweep."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pyregistry.client import RegistryClient
from pyregistry.client.content import Image
from tests.client.proxy import TcpProxy
from tests.replication.sites import Site, push_to, serve_site, wait_until
from tests.replication.test_interruptions import big_image, digest_at

CHUNK = 64 * 1024


def session_records(site: Site) -> list[Path]:
    uploads = site.root / "data" / "pyregistry" / "replication" / "uploads"
    return [path for path in uploads.rglob("*") if path.is_file()]


def dead_port() -> int:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        return int(unused.getsockname()[1])


def policy_state(site: Site) -> dict[str, Any]:
    state: dict[str, Any] = site.app.state.replication.snapshot()["policies"]["to-t"]
    return state


@contextlib.contextmanager
def cut_off_mid_upload(root: Path, **queue: str) -> Iterator[tuple[Site, Site, TcpProxy, Image]]:
    """A source whose chunked upload of an image's layer to the target (behind a proxy)
    stopped part-way: the target is unreachable and the change waits in the queue."""
    with contextlib.ExitStack() as stack:
        target = stack.enter_context(serve_site(root / "target", "t"))
        proxy = TcpProxy(target.url).start()
        stack.callback(proxy.stop)
        replication = push_to("t", proxy.url, backoff="50ms", maxbackoff="200ms")
        replication["targets"][0]["chunksize"] = CHUNK
        replication["queue"] = {"poll": "100ms", **queue}
        source = stack.enter_context(serve_site(root / "source", "s", replication))
        image = big_image(root.name, 8 * 1024 * 1024)
        with RegistryClient(source.url) as client:
            client.push("big/app", image, tag="v1")
        deadline = time.monotonic() + 20
        while not proxy.paths("PATCH") and time.monotonic() < deadline:
            time.sleep(0.002)
        proxy.upstream = ("127.0.0.1", dead_port())  # new connections fail
        while not policy_state(source)["last_error"] and time.monotonic() < deadline:
            proxy.arm_cut(b"PATCH ", after=CHUNK // 2)  # and pooled ones are cut
            time.sleep(0.01)
        assert policy_state(source)["last_error"], "the upload did not stop"
        assert digest_at(target.url, "big/app", "v1") is None
        yield source, target, proxy, image


def test_a_record_goes_when_its_change_is_done_with(tmp_path: Path) -> None:
    with cut_off_mid_upload(tmp_path) as (source, target, proxy, image):
        assert session_records(source)  # kept while the change waits, to resume
        with RegistryClient(target.url) as client:
            client.push("big/app", image, tag="v1")  # the image arrives another way
        proxy.upstream = ("127.0.0.1", int(target.url.rsplit(":", 1)[1]))
        wait_until(lambda: policy_state(source)["pending"] == 0, what="the change to be sent")
        assert session_records(source) == []


def test_the_sweep_removes_a_record_without_progress(tmp_path: Path) -> None:
    with cut_off_mid_upload(tmp_path, stalesessions="1s") as (source, target, proxy, image):
        assert policy_state(source)["pending"] == 1
        wait_until(lambda: not session_records(source), what="the sweep")
        assert policy_state(source)["pending"] == 1  # still waiting for the target
        proxy.upstream = ("127.0.0.1", int(target.url.rsplit(":", 1)[1]))
        wait_until(lambda: digest_at(target.url, "big/app", "v1") == image.digest, what="the copy")
        wait_until(lambda: policy_state(source)["pending"] == 0, what="an empty queue")
        assert session_records(source) == []
