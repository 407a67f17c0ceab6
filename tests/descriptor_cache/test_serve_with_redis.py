"""``pyregistry serve`` with ``cache.blobdescriptor: redis``, as a real process: the cache is
filled through the API, and a Redis outage shows on /debug/health while pushes and pulls
go on from storage."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.api.helpers import push_blob_at
from tests.support.redis import RedisServer
from tests.support.registry_process import RegistryProcess, free_port


def _wait_for(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_serve_fills_redis_and_survives_an_outage(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    port, debug_port = free_port(), free_port()
    config = tmp_path / "config.yml"
    config.write_text(
        f"""
version: 0.1
storage:
  filesystem: {{rootdirectory: {tmp_path / "root"}}}
  cache: {{blobdescriptor: redis}}
  delete: {{enabled: true}}
http:
  addr: 127.0.0.1:{port}
  debug: {{addr: 127.0.0.1:{debug_port}}}
redis:
  addr: {redis_server.addr}
  db: 0
  dialtimeout: 200ms
health:
  storagedriver: {{enabled: true, interval: 1s, threshold: 1}}
"""
    )
    base = f"http://127.0.0.1:{port}"
    debug = f"http://127.0.0.1:{debug_port}"
    with RegistryProcess(["serve", str(config)], port=port, wait_ports=(debug_port,)) as proc:
        digest = push_blob_at(base, "team/app", b"cached layer")
        client = redis_server.client()
        assert client.hget(f"blobs::{digest}", "size") == "12"
        assert client.sismember("repository::team/app::blobs", digest)

        redis_server.stop()
        try:
            # Requests go on from storage while Redis is down...
            other = push_blob_at(base, "team/app", b"pushed during the outage")
            head = httpx.head(f"{base}/v2/team/app/blobs/{digest}")
            assert head.status_code == 200
            assert head.headers["content-length"] == "12"
            assert httpx.get(f"{base}/v2/team/app/blobs/{other}").content == (
                b"pushed during the outage"
            )
            # ...and the debug server says what is wrong.
            _wait_for(lambda: httpx.get(f"{debug}/debug/health").status_code == 503, 30.0)
            assert "redis" in httpx.get(f"{debug}/debug/health").json()
            assert httpx.get(f"{base}/v2/").status_code == 200
        finally:
            redis_server.start()
        _wait_for(lambda: httpx.get(f"{debug}/debug/health").status_code == 200, 30.0)
    # The outage is logged once, not once per request.
    outage = [line for line in proc.stderr.splitlines() if "serving blob descriptors" in line]
    assert len(outage) == 1, proc.stderr
