"""``kill -9`` during many concurrent uploads, with one and with two workers: after each
restart every blob acknowledged with 201 is intact (its digest verified), and no blob
is visible half-written - whatever is served matches its digest, in the API and on disk."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.abuse.registry_runner import Registry

ROUNDS = 3
UPLOADERS = 8


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Uploads:
    """Uploaders pushing random blobs (monolithic and chunked) until the registry dies."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.acknowledged: set[str] = set()
        self.attempted: set[str] = set()
        self.lock = threading.Lock()

    def _one(self, client: httpx.Client, data: bytes, chunked: bool) -> None:
        digest = _digest(data)
        with self.lock:
            self.attempted.add(digest)
        start = client.post("/v2/crash/blobs/uploads/")
        assert start.status_code == 202, start.text
        location = start.headers["location"]
        if chunked:
            cut = len(data) // 3
            for begin, end in ((0, cut), (cut, 2 * cut)):
                headers = {
                    "Content-Range": f"{begin}-{end - 1}",
                    "Content-Type": "application/octet-stream",
                }
                patch = client.patch(location, content=data[begin:end], headers=headers)
                assert patch.status_code == 202, patch.text
                location = patch.headers["location"]
            data = data[2 * cut :]
        done = client.put(location, params={"digest": digest}, content=data)
        assert done.status_code == 201, done.text
        with self.lock:
            self.acknowledged.add(digest)

    def run(self, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while True:
                data = rng.randbytes(rng.randint(1, 256) * 1024)
                try:
                    self._one(client, data, chunked=rng.random() < 0.5)
                except httpx.HTTPError:
                    return  # the registry was killed


def _check_disk(root: Path) -> int:
    """Every blob data file under the storage root holds what its name says."""
    blobs = root / "docker" / "registry" / "v2" / "blobs" / "sha256"
    count = 0
    for data in blobs.glob("*/*/data"):
        assert hashlib.sha256(data.read_bytes()).hexdigest() == data.parent.name, data
        count += 1
    return count


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_kill_9_during_uploads_loses_no_acknowledged_blob(tmp_path: Path, workers: int) -> None:
    registry = Registry(tmp_path, workers=workers)
    uploads = Uploads(registry.url)
    rng = random.Random(workers)
    try:
        for round_number in range(ROUNDS):
            registry.start()
            threads = [
                threading.Thread(target=uploads.run, args=(round_number * 100 + i,))
                for i in range(UPLOADERS)
            ]
            for thread in threads:
                thread.start()
            time.sleep(rng.uniform(0.8, 1.6))
            registry.kill()
            for thread in threads:
                thread.join(timeout=30)
        registry.start()
        with httpx.Client(base_url=registry.url, timeout=30) as client:
            for digest in sorted(uploads.attempted):
                response = client.get(f"/v2/crash/blobs/{digest}")
                if digest in uploads.acknowledged:
                    assert response.status_code == 200, (digest, response.status_code)
                if response.status_code == 200:  # served: whole, never half-written
                    assert _digest(response.content) == digest
                else:
                    assert response.status_code == 404, response.text
    finally:
        registry.stop()
    assert len(uploads.acknowledged) >= ROUNDS * 2, "too few uploads finished to tell"
    assert _check_disk(tmp_path / "data") >= len(uploads.acknowledged)
    assert "Traceback" not in registry.stderr, registry.stderr[-3000:]
