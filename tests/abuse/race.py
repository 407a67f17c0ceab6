"""Two PATCHes with the same ``Content-Range`` racing on one upload session.

Exactly one may be acknowledged (202); the other must be refused with 416 and the
spec's JSON error body, and the session must then complete with the winner's bytes.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

MIB = 1024 * 1024
#: The size from the issue's reproduction: big enough for the two writes to overlap.
CHUNK = 3 * MIB


def _bodies(trial: int) -> tuple[bytes, bytes]:
    return bytes([65 + trial % 26]) * CHUNK, bytes([97 + trial % 26]) * CHUNK


def race_once(
    trial: int, first: Callable[[str], str], second: Callable[[str], str], repo: str
) -> int:
    """One trial: POST on ``first``, the two PATCHes on ``first`` and ``second`` at once,
    the final PUT and a GET. Returns which body won (0 or 1)."""
    bodies = _bodies(trial)
    with httpx.Client(timeout=60.0) as client:
        started = client.post(first(f"/v2/{repo}/blobs/uploads/"))
        assert started.status_code == 202, started.text
        location = started.headers["location"]
    barrier = threading.Barrier(2)

    def patch(index: int) -> httpx.Response:
        url = (first, second)[index](location)
        headers = {"Content-Type": "application/octet-stream", "Content-Range": f"0-{CHUNK - 1}"}
        with httpx.Client(timeout=60.0) as client:
            barrier.wait()
            return client.patch(url, content=bodies[index], headers=headers)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(patch, (0, 1)))
    statuses = [a.status_code for a in answers]
    assert sorted(statuses) == [202, 416], f"trial {trial}: both acknowledged? {statuses}"
    winner = statuses.index(202)
    refused = answers[1 - winner]
    assert refused.headers["content-type"].startswith("application/json")
    assert [e["code"] for e in refused.json()["errors"]] == ["BLOB_UPLOAD_INVALID"]
    digest = "sha256:" + hashlib.sha256(bodies[winner]).hexdigest()
    with httpx.Client(timeout=60.0) as client:
        status = client.get(first(location))
        assert status.headers["range"] == f"0-{CHUNK - 1}", "the session holds more than one chunk"
        done = client.put(first(location), params={"digest": digest})
        assert done.status_code == 201, done.text
        blob = client.get(first(f"/v2/{repo}/blobs/{digest}"), follow_redirects=True)
        assert blob.status_code == 200
        assert blob.content == bodies[winner], "the winner's bytes were not kept intact"
    return winner
