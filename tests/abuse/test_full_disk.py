"""A full disk on a small root: pushes fail with clean JSON errors (507, no storage paths
or OS error text), nothing acknowledged is lost, and pushes work again once space is
freed. The root is a tmpfs this test mounts (tests run as root)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.abuse.registry_runner import Registry

SIZE = "8m"
BLOB = 512 * 1024


@pytest.fixture
def small_root(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "small"
    root.mkdir()
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mount.returncode != 0:
        pytest.fail(f"cannot mount a {SIZE} tmpfs (this test needs root): {mount.stderr}")
    try:
        yield root
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)


def _push(client: httpx.Client, data: bytes, chunked: bool) -> httpx.Response:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    start = client.post("/v2/fill/blobs/uploads/")
    if start.status_code != 202:
        return start
    location = start.headers["location"]
    if chunked:
        half = len(data) // 2
        patch = client.patch(
            location,
            content=data[:half],
            headers={"Content-Range": f"0-{half - 1}", "Content-Type": "application/octet-stream"},
        )
        if patch.status_code != 202:
            return patch
        location, data = patch.headers["location"], data[half:]
    return client.put(location, params={"digest": digest}, content=data)


def _assert_clean(response: httpx.Response, root: Path) -> None:
    assert response.status_code == 507, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    errors = json.loads(response.content)["errors"]
    assert errors and errors[0]["code"] and errors[0]["message"]
    text = response.text
    for leak in (str(root), "/docker/registry", "No space", "Errno", "_uploads", "Traceback"):
        assert leak not in text, f"{leak!r} in the error body: {text}"


def test_a_full_disk_gives_clean_errors_and_recovers(small_root: Path) -> None:
    storage = {"filesystem": {"rootdirectory": str(small_root / "registry")}}
    filler = small_root / "filler"
    filler.write_bytes(b"\0" * (3 * 1024 * 1024))  # freed later, to make room again
    with Registry(small_root.parent, storage=storage) as registry:
        acknowledged: dict[str, bytes] = {}
        failures: list[httpx.Response] = []
        with httpx.Client(base_url=registry.url, timeout=30) as client:
            for attempt in range(40):
                data = os.urandom(BLOB)
                response = _push(client, data, chunked=attempt % 2 == 1)
                if response.status_code == 201:
                    acknowledged[response.headers["docker-content-digest"]] = data
                else:
                    _assert_clean(response, small_root)
                    failures.append(response)
                    if len(failures) >= 6:
                        break
            assert len(failures) >= 6, "the disk never filled up"
            assert acknowledged, "nothing fitted at all"
            for digest, data in acknowledged.items():  # nothing acknowledged was lost
                fetched = client.get(f"/v2/fill/blobs/{digest}")
                assert fetched.status_code == 200 and fetched.content == data, digest

            filler.unlink()
            data = os.urandom(BLOB)
            again = _push(client, data, chunked=True)
            assert again.status_code == 201, again.text
            digest = again.headers["docker-content-digest"]
            assert client.get(f"/v2/fill/blobs/{digest}").content == data
    log = registry.stderr
    assert "Traceback" not in log, log[-3000:]
    assert "No space left on device" in log  # the operator sees the detail
    statuses = {int(s) for s in re.findall(r'HTTP/[\d.]+" (\d{3}) ', registry.stdout)}
    assert statuses <= {200, 201, 202, 507}, statuses
