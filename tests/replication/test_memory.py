"""Replication streams: a registry process that takes in a 256 MiB blob and replicates
it to another registry (in 16 MiB chunks, the default) grows its resident memory by far
less than the blob. The blob is generated as it is sent (no file that large exists
outside the registries' storage); the kernel's high-water mark (VmHWM) of the
replicating process is compared before and after."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bench.replication import fill_source
from bench.rss import process_tree, status_kib
from pyregistry.client import RegistryClient
from pyregistry.client.content import build_image
from tests.replication.sites import push_to, serve_site, wait_until
from tests.support.registry_process import RegistryProcess, free_port, write_config

MIB = 1024 * 1024
BLOB_SIZE = 256 * MIB
GROWTH_LIMIT_MIB = 64


def peak_mib(pid: int) -> float:
    """The highest resident memory any process of ``pid``'s tree has had so far."""
    peaks = [status_kib(member, "VmHWM") or 0 for member in process_tree(pid)]
    return max(peaks) / 1024


def at_target(url: str, repository: str, tag: str) -> bool:
    with RegistryClient(url) as client:
        return client.head_manifest(repository, tag) is not None


@pytest.mark.slow
def test_replicating_a_large_blob_keeps_memory_flat(tmp_path: Path) -> None:
    with serve_site(tmp_path / "target", "t") as target:
        port = free_port()
        replication = {"id": "s", **push_to("t", target.url)}
        (tmp_path / "source").mkdir()
        config = write_config(tmp_path / "source", port, replication=replication)
        source_url = f"http://127.0.0.1:{port}"
        with RegistryProcess(["serve", str(config)], port=port) as source:
            assert source.proc is not None
            with RegistryClient(source_url) as client:  # warm up: every code path loaded
                client.push("warm/app", build_image(seed="warm", layers=2), tag="v1")
            wait_until(lambda: at_target(target.url, "warm/app", "v1"), what="the warm-up")
            baseline = peak_mib(source.proc.pid)

            asyncio.run(fill_source(source_url, 0, BLOB_SIZE))  # bench/large:v1, generated
            wait_until(
                lambda: at_target(target.url, "bench/large", "v1"),
                timeout=120,
                what="the large image at the target",
            )
            growth = peak_mib(source.proc.pid) - baseline
        with RegistryClient(target.url) as client:  # all of it arrived
            manifest = json.loads(client.get_manifest("bench/large", "v1").content)
            layer = manifest["layers"][0]
            desc = client.head_blob("bench/large", layer["digest"])
            assert layer["size"] == BLOB_SIZE and desc is not None and desc.size == BLOB_SIZE
    assert growth < GROWTH_LIMIT_MIB, (
        f"the replicating registry grew by {growth:.1f} MiB while taking in and sending "
        f"a {BLOB_SIZE // MIB} MiB blob (limit {GROWTH_LIMIT_MIB} MiB)"
    )
