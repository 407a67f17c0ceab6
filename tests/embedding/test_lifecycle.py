"""Starting and stopping embedded registries: speed, options, several at once, nothing
left behind, and the asyncio variant."""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import pyregistry
from pyregistry.config import Config, ConfigError, StorageConfig
from pyregistry.embedding import BackgroundServer
from storage_drivers.errors import StorageDriverError


def _socket_fds() -> set[str]:
    """This process's open sockets (``socket:[inode]`` links under /proc/self/fd)."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:"):
            found.add(target)
    return found


def _wait_for(condition: object, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.02)
    return bool(callable(condition) and condition())


def _refuses_connections(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_starts_in_memory_and_answers() -> None:
    """The start-up time itself is a target for ``python -m bench --startup``."""
    with pyregistry.serve(storage="inmemory") as reg:
        assert httpx.get(f"{reg.url}/v2/", trust_env=False).status_code == 200
        assert reg.host == f"127.0.0.1:{reg.port}"


def test_exit_stops_the_server_and_leaves_no_threads_or_sockets() -> None:
    threads_before = set(threading.enumerate())
    sockets_before = _socket_fds()
    with pyregistry.serve() as reg:
        port = reg.port
        reg.push_random_image("leak/check", "v1")
        with httpx.Client(trust_env=False) as client:  # a keep-alive connection into it
            assert client.get(f"{reg.url}/v2/leak/check/tags/list").json()["tags"] == ["v1"]
            assert len(set(threading.enumerate()) - threads_before) >= 1
        assert len(_socket_fds() - sockets_before) >= 1
    assert not reg.running
    assert _refuses_connections(port)
    assert _wait_for(lambda: set(threading.enumerate()) <= threads_before), (
        f"threads left: {set(threading.enumerate()) - threads_before}"
    )
    assert _wait_for(lambda: not (_socket_fds() - sockets_before)), "sockets left open"
    with pytest.raises(RuntimeError, match="not running"):
        _ = reg.url


def test_two_registries_at_once_are_independent() -> None:
    with pyregistry.serve() as first, pyregistry.serve(storage="filesystem") as second:
        assert first.port != second.port
        a = first.push_random_image("shared/name", "v1", seed="first")
        b = second.push_random_image("shared/name", "v1", seed="second")
        assert a != b
        assert first.get_manifest("shared/name", "v1").digest == a
        assert second.get_manifest("shared/name", "v1").digest == b
        second.push_random_image("only/second", "v1")
        assert first.catalog() == ["shared/name"]
        assert second.catalog() == ["only/second", "shared/name"]

        results: dict[str, int] = {}

        def hit(name: str, reg: pyregistry.EmbeddedRegistry) -> None:
            for _ in range(20):
                reg.get_manifest("shared/name", "v1")
            results[name] = len(reg.tags("shared/name"))

        workers = [
            threading.Thread(target=hit, args=(name, reg))
            for name, reg in (("first", first), ("second", second))
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(30)
        assert results == {"first": 1, "second": 1}


def test_filesystem_storage_gets_a_temporary_root_removed_on_exit() -> None:
    with pyregistry.serve(storage="filesystem") as reg:
        root = Path(reg.config.storage.parameters["rootdirectory"])
        reg.push_random_image("fs/app", "v1")
        assert (root / "docker/registry/v2/repositories/fs/app").is_dir()
    assert not root.exists()


def test_filesystem_root_given_is_kept(tmp_path: Path) -> None:
    storage = {"filesystem": {"rootdirectory": tmp_path / "data"}}
    with pyregistry.serve(storage=storage) as reg:
        digest = reg.push_random_image("kept/app", "v1")
    with pyregistry.serve(storage=storage) as again:
        assert again.get_manifest("kept/app", "v1").digest == digest
    assert (tmp_path / "data").is_dir()


def test_options_as_a_config_document() -> None:
    document = {
        "version": "0.1",
        "storage": {"inmemory": {}, "delete": {"enabled": False}},
        "http": {"headers": {"X-Embedded": ["yes"]}},
    }
    with pyregistry.serve(document) as reg:
        assert reg.config.storage.driver == "inmemory"
        digest = reg.push_random_image("opts/app", "v1")
        response = httpx.delete(f"{reg.url}/v2/opts/app/manifests/{digest}", trust_env=False)
        assert response.status_code == 405
        assert response.json()["errors"][0]["code"] == "UNSUPPORTED"
        assert response.headers["x-embedded"] == "yes"


def test_options_as_a_config_object_and_keywords_win() -> None:
    config = Config(storage=StorageConfig(driver="inmemory", delete_enabled=False))
    with pyregistry.serve(config, delete=True) as reg:
        assert reg.config is not config and config.http.addr == ":5000"
        digest = reg.push_random_image("opts/app", "v1")
        reg.delete_manifest("opts/app", digest)
        with pytest.raises(pyregistry.RegistryResponseError, match="404"):
            reg.get_manifest("opts/app", digest)


def test_config_file_path(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text("version: 0.1\nstorage:\n  inmemory: {}\n  delete:\n    enabled: true\n")
    with pyregistry.serve(path) as reg:
        assert reg.config.storage.driver == "inmemory"
        assert reg.config.storage.delete_enabled


def test_bad_options_raise_at_start() -> None:
    with (
        pytest.raises(StorageDriverError, match="nosuchdriver"),
        pyregistry.serve(storage="nosuchdriver"),
    ):
        pass
    with (
        pytest.raises(ConfigError, match="auth"),
        pyregistry.serve(auth={"token": {"service": "x"}}),
    ):
        pass


def test_start_and_stop_without_with() -> None:
    reg = pyregistry.serve().start()
    try:
        assert reg.running and repr(reg).endswith(f"{reg.url}>")
    finally:
        reg.stop()
        reg.stop()  # twice is fine
    assert not reg.running
    with pytest.raises(RuntimeError, match="once"):
        reg.start()


async def test_async_variant() -> None:
    async with pyregistry.serve_async(storage="inmemory") as reg:
        digest = await reg.push_random_image("async/app", "v1")
        async with httpx.AsyncClient(base_url=reg.url, trust_env=False) as client:
            response = await client.get(
                "/v2/async/app/manifests/v1",
                headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
            )
        assert response.headers["docker-content-digest"] == digest
        referrer = await reg.push_artifact("async/app", "application/x-sig", [b"s"], subject="v1")
        index = await reg.referrers("async/app", digest)
        assert [m["digest"] for m in index["manifests"]] == [referrer]
        # a blocking call inside the test does not starve the server (it has its own loop)
        assert httpx.get(f"{reg.url}/v2/", trust_env=False).status_code == 200  # noqa: ASYNC210
        assert await reg.tags("async/app") == ["v1"]
        await asyncio.sleep(0)
    assert not reg.sync.running


def _embedded_temp_dirs() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("pyregistry-embedded-*")}


def test_temporary_directories_never_leak() -> None:
    before = _embedded_temp_dirs()
    with pytest.raises(ConfigError, match="http.net"):  # root made, then the schema failed
        pyregistry.serve({"http": {"net": "carrier-pigeon"}}, storage="filesystem")
    unreadable = {"realm": "r", "service": "s", "issuer": "i", "rootcertbundle": "/nonexistent"}
    with pytest.raises(ConfigError):  # failed at start: the root goes with it
        pyregistry.serve(storage="filesystem", auth={"token": unreadable}).start()
    auth = {"token": {**unreadable, "issue": {}}}
    with pytest.raises(ConfigError):  # the same with a temporary users file and key made
        pyregistry.serve(storage="filesystem", auth=auth, credentials=("a", "b")).start()
    unused = pyregistry.serve(storage="filesystem")  # made, never started, dropped
    root = Path(unused.config.storage.parameters["rootdirectory"])
    assert root.is_dir()
    del unused
    gc.collect()
    assert not root.exists()
    assert _embedded_temp_dirs() <= before


def test_background_server_serves_any_asgi_app() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"hello"})

    with BackgroundServer(app, name="plain") as server:
        assert httpx.get(server.url, trust_env=False).text == "hello"
        port = server.port
    assert _refuses_connections(port)
