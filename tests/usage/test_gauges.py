"""Storage usage gauges on the debug server, refreshed by the online collector.

A real ``pyregistry serve`` with two workers: the collector runs in a worker, the debug
server in the supervisor, so the figures cross a process boundary.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from pyregistry.client import AsyncRegistryClient
from pyregistry.client.content import build_image, random_layer
from tests.support.registry_process import RegistryProcess, free_port, write_config


def _gauges(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(url, timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("registry_storage_")
    }


def test_gauges_follow_pushes_and_collections(tmp_path: Path) -> None:
    port, debug_port = free_port(), free_port()
    config = write_config(
        tmp_path,
        port,
        storage={
            "filesystem": {"rootdirectory": str(tmp_path / "data")},
            "delete": {"enabled": True},
            "maintenance": {
                "uploadpurging": {"enabled": False},
                "gc": {"enabled": True, "interval": "200ms", "grace": "0s"},
            },
        },
        http={"debug": {"addr": f"127.0.0.1:{debug_port}", "prometheus": {"enabled": True}}},
    )
    shared = random_layer("gauge-shared", size=3000)
    images = {n: build_image(seed=n, base_layers=[shared], layers=1) for n in ("p/a", "p/b")}
    base = f"http://127.0.0.1:{port}"
    metrics = f"http://127.0.0.1:{debug_port}/metrics"
    with RegistryProcess(
        ["serve", str(config)],
        port=port,
        env={"PYREGISTRY_WORKERS": "2"},
        wait_ports=(debug_port,),
    ):

        async def push() -> dict[str, str]:
            async with AsyncRegistryClient(base) as client:
                return {n: await client.push(n, image, "v1") for n, image in images.items()}

        digests = asyncio.run(push())
        size = {
            n: len(image.manifest) + sum(len(b) for b in image.blobs().values())
            for n, image in images.items()
        }
        expected = {
            ("registry_storage_repository_bytes", (("repository", "p/a"),)): size["p/a"],
            ("registry_storage_repository_bytes", (("repository", "p/b"),)): size["p/b"],
            ("registry_storage_project_bytes", (("project", "p"),)): sum(size.values())
            - len(shared.gzipped),
            ("registry_storage_project_linked_bytes", (("project", "p"),)): sum(size.values()),
        }
        deadline = time.monotonic() + 30
        gauges = _gauges(metrics)
        while any(gauges.get(k) != v for k, v in expected.items()) and time.monotonic() < deadline:
            time.sleep(0.3)
            gauges = _gauges(metrics)
        assert {k: gauges.get(k) for k in expected} == expected

        async def delete() -> None:
            async with AsyncRegistryClient(base) as client:
                await client.delete_manifest("p/b", digests["p/b"])

        asyncio.run(delete())
        # Collected: p/b keeps only its link to the layer p/a still uses. Data written in
        # the last seconds (the guard's clock margin) goes in a later run than its links:
        # wait for both.
        left = ("registry_storage_repository_bytes", (("repository", "p/b"),))
        unreferenced = ("registry_storage_unreferenced_bytes", ())
        deadline = time.monotonic() + 30
        gauges = _gauges(metrics)
        while (
            gauges.get(left) != len(shared.gzipped) or gauges.get(unreferenced) != 0
        ) and time.monotonic() < deadline:
            time.sleep(0.3)
            gauges = _gauges(metrics)
        assert gauges.get(left) == len(shared.gzipped)
        assert gauges[("registry_storage_bytes", ())] == size["p/a"]
        assert gauges[("registry_storage_unreferenced_bytes", ())] == 0
