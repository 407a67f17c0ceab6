"""Repository sizes in the management API are exact right after a push or delete through
another ``pyregistry serve`` sharing the storage: with the default SQLite index (one host,
one file) and with the index in a shared Redis (``redis`` configured)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pyregistry.client.content import Built, build_image
from tests.index.helpers import push_blob
from tests.management.helpers import stored_bytes
from tests.support.redis import RedisServer
from tests.support.registry_process import RegistryProcess, free_port, write_config

#: This module's Redis database (see the other packages' choices before changing it).
REDIS_DB = 15
API = "/api/v1"
NAME = "sizes/shared"


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def instances(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    redis_server_process: RedisServer,
) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    work = tmp_path_factory.mktemp(f"sizes-{request.param}")
    sections: dict[str, Any] = {
        "storage": {
            "filesystem": {"rootdirectory": str(work / "data")},
            "delete": {"enabled": True},
        },
        "management": {"enabled": True},
    }
    if request.param == "redis":
        with redis_server_process.client(db=REDIS_DB) as client:
            client.flushdb()
        sections["redis"] = {"addr": redis_server_process.addr, "db": REDIS_DB}
    processes = []
    for name in ("a", "b"):
        (work / name).mkdir()
        port = free_port()
        config = write_config(work / name, port, **sections)
        processes.append(RegistryProcess(["serve", str(config)], port=port))
    with processes[0], processes[1]:
        clients = [
            httpx.Client(base_url=f"http://127.0.0.1:{p.port}", timeout=30) for p in processes
        ]
        with clients[0], clients[1]:
            yield clients[0], clients[1]


def push(client: httpx.Client, built: Built, tag: str) -> None:
    for data in built.blobs().values():
        push_blob(client, NAME, data)
    put = client.put(
        f"/v2/{NAME}/manifests/{tag}",
        content=built.manifest,
        headers={"Content-Type": built.media_type},
    )
    assert put.status_code == 201, put.text


def summary(client: httpx.Client) -> dict[str, Any]:
    """The repository as the list (searched) and as its own page give it; both agree."""
    listed = client.get(f"{API}/repositories", params={"search": NAME})
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [item["name"] for item in items] == [NAME]
    own = client.get(f"{API}/repositories/{NAME}")
    assert own.status_code == 200, own.text
    assert own.json() == items[0]
    found: dict[str, Any] = items[0]
    return found


def test_sizes_exact_on_the_other_instance(instances: tuple[httpx.Client, httpx.Client]) -> None:
    a, b = instances
    base = build_image(seed="across-base", layers=1)
    one = build_image(seed="across-one", layers=1, base_layers=base.layers)
    two = build_image(seed="across-two", layers=1, base_layers=base.layers)
    push(a, one, "one")
    deadline = time.monotonic() + 30
    while summary(b)["size"] is None:  # a fresh index is built in the background first
        assert time.monotonic() < deadline, "the index never answered"
        time.sleep(0.1)
    assert summary(b)["size"] == stored_bytes(one)
    push(b, two, "two")
    for client in (a, b):
        assert summary(client)["size"] == stored_bytes(one, two)
        assert summary(client)["tag_count"] == 2
    deleted = a.delete(f"/v2/{NAME}/manifests/{one.digest}")
    assert deleted.status_code == 202, deleted.text
    for client in (b, a):
        assert summary(client)["size"] == stored_bytes(two)
        assert summary(client)["tag_count"] == 1
    by_size = b.get(f"{API}/repositories", params={"sort": "size", "order": "desc"})
    assert by_size.status_code == 200 and by_size.json()["items"][0]["name"] == NAME
