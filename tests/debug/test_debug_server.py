"""The debug server of a running registry: /debug/health, /debug/vars, metrics."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.registry_process import RegistryProcess, free_port, write_config


@dataclass
class Running:
    api: str
    debug: str
    down_file: Path
    root: Path
    process: RegistryProcess


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("debug-server")
    port, debug_port = free_port(), free_port()
    down = tmp / "out-of-rotation"
    config = write_config(
        tmp,
        port,
        storage={"filesystem": {"rootdirectory": str(tmp / "data")}, "delete": {"enabled": True}},
        http={
            "headers": {"X-Content-Type-Options": ["nosniff"]},
            "debug": {
                "addr": f"127.0.0.1:{debug_port}",
                "prometheus": {"enabled": True, "path": "/custom-metrics"},
            },
        },
        health={
            "storagedriver": {"enabled": True, "interval": "100ms", "threshold": 2},
            "file": [{"file": str(down), "interval": "100ms"}],
        },
    )
    with RegistryProcess(["serve", str(config)], port=port, wait_ports=(debug_port,)) as proc:
        yield Running(
            f"http://127.0.0.1:{port}", f"http://127.0.0.1:{debug_port}", down, tmp / "data", proc
        )


def eventually(probe: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(0.05)
    return False


def test_healthy(registry: Running) -> None:
    response = httpx.get(f"{registry.debug}/debug/health")
    assert response.status_code == 200
    assert response.json() == {}
    assert response.headers["content-type"].startswith("application/json")


def test_file_check_takes_the_registry_out_of_rotation(registry: Running) -> None:
    registry.down_file.write_text("maintenance")
    try:
        assert eventually(lambda: httpx.get(f"{registry.debug}/debug/health").status_code == 503)
        assert httpx.get(f"{registry.debug}/debug/health").json() == {
            str(registry.down_file): "file exists"
        }
        api = httpx.get(f"{registry.api}/v2/")
        assert api.status_code == 503
        assert api.json()["errors"][0]["code"] == "UNAVAILABLE"
        # http.headers on every answer, the health gate's included
        assert api.headers["x-content-type-options"] == "nosniff"
        assert api.headers["docker-distribution-api-version"] == "registry/2.0"
    finally:
        registry.down_file.unlink()
    assert eventually(lambda: httpx.get(f"{registry.debug}/debug/health").status_code == 200)
    assert httpx.get(f"{registry.api}/v2/").status_code == 200
    probe = httpx.get(f"{registry.api}/")
    assert probe.status_code == 200
    assert probe.headers["x-content-type-options"] == "nosniff"


def test_storage_check_reports_a_broken_backend(registry: Running) -> None:
    # the root becomes a symlink loop: listing it fails with ELOOP (a missing root would
    # only mean an empty registry, which is healthy)
    moved = registry.root.with_name("data.moved")
    registry.root.mkdir(exist_ok=True)
    registry.root.rename(moved)
    registry.root.symlink_to(registry.root)
    try:
        assert eventually(lambda: httpx.get(f"{registry.debug}/debug/health").status_code == 503)
        failing = httpx.get(f"{registry.debug}/debug/health").json()
        assert list(failing) == ["storagedriver_filesystem"]
    finally:
        registry.root.unlink()
        moved.rename(registry.root)
    assert eventually(lambda: httpx.get(f"{registry.debug}/debug/health").status_code == 200)


def test_vars(registry: Running) -> None:
    response = httpx.get(f"{registry.debug}/debug/vars")
    assert response.status_code == 200
    body = response.json()
    assert "serve" in body["cmdline"]
    assert body["process"]["pid"] == registry.process.proc.pid  # type: ignore[union-attr]


def metric(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_after_some_requests(registry: Running) -> None:
    before = httpx.get(f"{registry.debug}/custom-metrics").text
    with httpx.Client(base_url=registry.api) as client:
        for _ in range(3):
            assert client.get("/v2/").status_code == 200
        assert client.get("/v2/nothing/tags/list").status_code == 404
        start = client.post("/v2/metered/blobs/uploads/")
        assert start.status_code == 202
        assert client.patch(start.headers["location"], content=b"z" * 4096).status_code == 202
    response = httpx.get(f"{registry.debug}/custom-metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text

    def delta(series: str) -> float:
        return metric(after, series) - metric(before, series)

    assert delta('registry_http_requests_total{code="200",handler="base",method="GET"}') == 3
    assert delta('registry_http_requests_total{code="404",handler="tags",method="GET"}') == 1
    assert (
        delta('registry_http_requests_total{code="202",handler="blob_upload",method="POST"}') == 1
    )
    assert (
        delta('registry_http_request_bytes_total{handler="blob_upload_chunk",method="PATCH"}')
        == 4096
    )
    assert delta('registry_http_response_bytes_total{handler="base",method="GET"}') == 6  # "{}" x3
    assert delta('registry_http_request_duration_seconds_count{handler="base",method="GET"}') == 3
    assert "/v2/nothing" not in after  # paths never become labels
    assert httpx.get(f"{registry.debug}/metrics").status_code == 404  # the path is configurable
