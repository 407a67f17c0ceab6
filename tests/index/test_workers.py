"""``pyregistry serve --workers 2``: every listing is exact right after each write,
whichever worker took the write and whichever answers the listing; also after the index
directory is deleted under the running workers.

Each request opens a new connection, so the kernel hands them to either worker."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.index.helpers import index_directory, push_tagged, wait_until
from tests.support.registry_process import RegistryProcess, free_port, write_config

ROUNDS = 16


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[httpx.Client, Path]]:
    port = free_port()
    config = write_config(
        tmp_path,
        port,
        storage={
            "filesystem": {"rootdirectory": str(tmp_path / "data")},
            "delete": {"enabled": True},
        },
    )
    fresh = httpx.Limits(max_keepalive_connections=0)  # one connection per request
    with (
        RegistryProcess(["serve", "--workers", "2", str(config)], port=port),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", limits=fresh, timeout=30) as client,
    ):
        yield client, tmp_path / "data"


def _tags(client: httpx.Client, name: str) -> list[str]:
    response = client.get(f"/v2/{name}/tags/list")
    assert response.status_code == 200, response.text
    tags: list[str] = response.json()["tags"]
    return tags


def _catalog(client: httpx.Client) -> list[str]:
    names: list[str] = client.get("/v2/_catalog").json()["repositories"]
    return names


def _exercise(client: httpx.Client, expected: dict[str, list[str]], label: str) -> None:
    """Pushes, tag deletes and manifest deletes, each checked by several listings."""
    for i in range(ROUNDS):
        name = f"{label}/repo{i % 4}"
        digest = push_tagged(client, name, [f"t{i}", f"u{i}"], f"{label}-{i}")
        expected.setdefault(name, []).extend([f"t{i}", f"u{i}"])
        if i % 3 == 1:
            assert client.delete(f"/v2/{name}/manifests/t{i}").status_code == 202
            expected[name].remove(f"t{i}")
        if i % 5 == 2:
            assert client.delete(f"/v2/{name}/manifests/{digest}").status_code == 202
            expected[name] = [t for t in expected[name] if not t.endswith(str(i))]
        for _ in range(3):
            assert _tags(client, name) == sorted(expected[name])
            assert _catalog(client) == sorted(expected, key=lambda n: n.replace("/", "\0"))
        page = client.get(f"/v2/{name}/tags/list", params={"n": 1})
        assert page.json()["tags"] == sorted(expected[name])[:1]


def test_listings_exact_across_workers(served: tuple[httpx.Client, Path]) -> None:
    client, root = served
    expected: dict[str, list[str]] = {}
    _exercise(client, expected, "first")
    state = wait_until(index_directory(root), "clean")
    assert state.tags == {name: sorted(tags) for name, tags in expected.items() if tags}
    assert state.repositories == _catalog(client)


@pytest.mark.slow
def test_index_deleted_under_running_workers(served: tuple[httpx.Client, Path]) -> None:
    client, root = served
    expected: dict[str, list[str]] = {}
    _exercise(client, expected, "before")
    wait_until(index_directory(root), "clean")
    shutil.rmtree(index_directory(root))
    _exercise(client, expected, "after")
    state = wait_until(index_directory(root), "clean")
    assert state.tags == {name: sorted(tags) for name, tags in expected.items() if tags}
