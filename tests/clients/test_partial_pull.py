"""podman's partial pull of a zstd:chunked image: containers/storage fetches a layer's
files as byte ranges of the blob, several per request, and expects the
``multipart/byteranges`` answer distribution gives (Go's ``ServeContent``).

podman pushes an image with ``--compression-format zstd:chunked``; a second podman, with
overlay storage and ``enable_partial_images`` (its ``storage.conf``), pulls it. The
registry sees the multi-range GET and answers it with a 206, no whole-layer GET follows
(on a 416 podman quietly downloads the layer whole instead), and the files in the pulled
image are the pushed ones.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pyregistry.app import create_app
from tests.support.command import find_tool, run
from tests.support.images import BUSYBOX, build_image, write_oci_layout
from tests.support.server import filesystem_config, run_server

STORAGE_CONF = """\
[storage]
driver = "overlay"
graphroot = "{base}/root"
runroot = "{base}/runroot"
[storage.options]
pull_options = {{enable_partial_images = "true", use_hard_links = "false", ostree_repos = ""}}
"""


@dataclass
class Seen:
    """The blob GETs the registry answered: (digest, Range header or None, status)."""

    gets: list[tuple[str, str | None, int]] = field(default_factory=list)


def recording(app: Any, seen: Seen) -> Any:
    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or "/blobs/" not in scope["path"]:
            await app(scope, receive, send)
            return
        digest = scope["path"].rsplit("/", 1)[-1]
        asked = dict(scope["headers"]).get(b"range")

        async def watching(message: Any) -> None:
            if message["type"] == "http.response.start":
                seen.gets.append((digest, asked and asked.decode(), message["status"]))
            await send(message)

        await app(scope, receive, watching)

    return wrapped


class OverlayPodman:
    """podman with its own overlay storage, configured by a ``storage.conf`` of its own."""

    def __init__(self, base: Path) -> None:
        self.binary = find_tool("podman")
        conf = base / "storage.conf"
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(STORAGE_CONF.format(base=base))
        self.env = {"CONTAINERS_STORAGE_CONF": str(conf)}
        self.flags = ["--cgroup-manager", "cgroupfs", "--events-backend", "none"]
        self.flags += ["--tmpdir", str(base / "tmp")]

    def __call__(self, *args: str) -> str:
        return run([self.binary, *self.flags, *args], env=self.env, timeout=180).strip()


@pytest.fixture
def work() -> Iterator[Path]:
    # podman names an ``oci:`` image after its path, so every component must be a valid
    # reference component: lower-case letters and digits here (a temporary directory's
    # random name may start or end with "_", which podman refuses).
    base = Path("/tmp") / f"partial-{secrets.token_hex(6)}"
    base.mkdir()
    try:
        yield base
    finally:
        _unmount_below(base)  # a podman that failed may leave its overlay home mounted
        shutil.rmtree(base)


def _unmount_below(base: Path) -> None:
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1] for line in mounts]
    prefix = f"{base}/"
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


def test_zstd_chunked_layer_pulled_by_ranges(work: Path) -> None:
    image = build_image(seed="partial-pull", layers=1, layer_size=200_000, with_busybox=True)
    layout = write_oci_layout(work / "layout", image, tag="v1")
    seen = Seen()
    app = recording(create_app(filesystem_config(work / "storage")), seen)
    with run_server(app) as url:
        target = f"{url.removeprefix('http://')}/partial/app:v1"
        pusher = OverlayPodman(work / "pusher")
        local = pusher("pull", "--quiet", f"oci:{layout}:v1").splitlines()[-1]
        pusher("push", "--tls-verify=false", "--compression-format", "zstd:chunked", local, target)

        puller = OverlayPodman(work / "puller")
        pulled = puller("pull", "--quiet", "--tls-verify=false", target).splitlines()[-1]
        assert pulled == local  # the same image (config) ID

        several = [g for g in seen.gets if g[1] and "," in g[1]]
        assert several, f"no multi-range GET: {seen.gets}"
        assert {status for _, _, status in several} == {206}
        for digest, _, _ in several:  # not fetched again whole after its ranges
            assert (digest, None, 200) not in seen.gets, seen.gets

        merged = Path(puller("image", "mount", pulled))
        try:
            assert (merged / "bin" / "busybox").read_bytes() == BUSYBOX.read_bytes()
        finally:
            puller("image", "unmount", pulled)
