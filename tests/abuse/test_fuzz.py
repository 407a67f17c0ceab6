"""Issue 11, item 11: a seeded fuzzer against real servers.

Hostile names, digests, upload ids, ranges, lengths, bodies and methods (see
``fuzz_requests.py``) go to a filesystem registry and to one behind token auth. The run
fails on any 5xx, any dropped answer (no response at all), any error answer that is not
the spec's JSON, and any error or traceback the server logs. The seed is printed with a
failure; ``PYREGISTRY_FUZZ_SEED`` replays it, ``PYREGISTRY_FUZZ_REQUESTS`` sets the
count. The run is bounded to about a minute even on a busy machine.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pyregistry.app import create_app
from tests.abuse.fuzz_requests import FuzzRequest, Known, RequestGenerator, digest_of
from tests.abuse.hostile import TOKEN_PASSWORD, TOKEN_USER, no_logged_errors, token_config
from tests.api.helpers import push_blob, push_image
from tests.support.server import filesystem_config, run_server

SEED = int(os.environ.get("PYREGISTRY_FUZZ_SEED", "20261104"))
REQUESTS = int(os.environ.get("PYREGISTRY_FUZZ_REQUESTS", "4000"))
#: Wall-clock bound per run: a loaded machine sends fewer requests, never runs longer.
DEADLINE_SECONDS = 24.0


def _seed_content(client: httpx.Client) -> Known:
    """Real blobs, manifests and upload sessions the fuzzer can aim at (none when the
    client may not push)."""
    known = Known()
    if client.post("/v2/fuzz/app/blobs/uploads/").status_code == 401:
        return known
    for i, name in enumerate(("fuzz/app", "fuzz/other")):
        layer = f"fuzz layer {i}".encode()
        digest, _ = push_image(client, name, "latest", layers=[layer])
        known.manifests.append(digest)
        known.blobs[digest_of(layer)] = layer
        known.blobs[push_blob(client, name, b"{}")] = b"{}"
        for _ in range(3):
            started = client.post(f"/v2/{name}/blobs/uploads/")
            if started.status_code == 202:
                known.uploads.append((name, started.headers["docker-upload-uuid"]))
    return known


def _check(request: FuzzRequest, response: httpx.Response, where: str) -> None:
    assert response.status_code < 500, f"{where}: {response.status_code} for {request.describe()}"
    if response.status_code < 400 or request.method == "HEAD" or not response.content:
        return
    try:
        errors = response.json()["errors"]
    except (ValueError, KeyError, TypeError):
        raise AssertionError(
            f"{where}: non-JSON error {response.status_code} {response.text[:200]!r} "
            f"for {request.describe()}"
        ) from None
    assert isinstance(errors, list) and errors and "code" in errors[0], response.text


def _learn(known: Known, request: FuzzRequest, response: httpx.Response) -> None:
    """Remember sessions and manifests the run created, so later requests can hit them."""
    if response.status_code == 202 and request.method == "POST":
        upload_id = response.headers.get("docker-upload-uuid")
        name = request.path.removeprefix("/v2/").rsplit("/blobs/uploads/", 1)[0]
        if upload_id and len(known.uploads) < 50:
            known.uploads.append((name, upload_id))
    if response.status_code == 201 and "/manifests/" in request.path:
        known.manifests.append(response.headers.get("docker-content-digest", ""))


def fuzz(
    base_url: str,
    seed: int,
    count: int,
    *,
    token: str | None = None,
    seconds: float = DEADLINE_SECONDS,
) -> int:
    """Send ``count`` generated requests (or as many as the deadline allows), with
    ``token`` as a Bearer token if given; the number sent. Raises AssertionError naming
    the seed and request on the first failure."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=base_url, timeout=30, headers=headers) as client:
        known = _seed_content(client)
        generator = RequestGenerator(seed, known)
        deadline = time.monotonic() + seconds
        sent = 0
        for index in range(count):
            if time.monotonic() > deadline:
                break
            request = generator.request()
            where = f"seed {seed}, request {index}"
            try:
                response = client.request(
                    request.method,
                    request.path,
                    params=request.params,
                    headers={
                        k.encode("latin-1"): v.encode("latin-1") for k, v in request.headers.items()
                    },
                    content=request.body,
                )
            except httpx.TransportError as exc:
                raise AssertionError(
                    f"{where}: no answer ({exc!r}) to {request.describe()}"
                ) from exc
            _check(request, response, where)
            _learn(known, request, response)
            sent += 1
        return sent


@pytest.fixture
def fs_url(tmp_path: Path) -> Iterator[str]:
    with run_server(create_app(filesystem_config(tmp_path / "storage"))) as url:
        yield url


@pytest.mark.slow
def test_fuzz_filesystem_registry(fs_url: str, tmp_path: Path) -> None:
    with no_logged_errors():
        sent = fuzz(fs_url, SEED, REQUESTS)
    print(f"fuzz: {sent} requests to a filesystem registry, seed {SEED}")
    assert sent >= min(REQUESTS, 200), f"only {sent} requests in {DEADLINE_SECONDS}s"
    # Nothing a request named escaped the storage root or left an odd file name in it.
    root = tmp_path / "storage"
    for path in root.rglob("*"):
        assert path.resolve().is_relative_to(root.resolve()), path
        assert all(c.isascii() and c.isprintable() for c in path.name), path


@pytest.mark.slow
def test_fuzz_behind_token_auth(tmp_path: Path) -> None:
    """Anonymous (every answer a challenge or a refusal), then with a token for fuzz/*."""
    with run_server(create_app(token_config(tmp_path))) as url, no_logged_errors():
        anonymous = fuzz(url, SEED + 1, REQUESTS // 4, seconds=DEADLINE_SECONDS / 2)
        token = httpx.get(
            url + "/auth/token",
            params=[
                ("service", "pyregistry"),
                *(
                    ("scope", f"repository:{n}:pull,push,delete")
                    for n in ("fuzz/app", "fuzz/other", "library/base")
                ),
            ],
            auth=(TOKEN_USER, TOKEN_PASSWORD),
        ).json()["token"]
        with_token = fuzz(url, SEED + 2, REQUESTS // 4, token=token, seconds=DEADLINE_SECONDS / 2)
    print(f"fuzz: {anonymous} anonymous and {with_token} authorized requests, seed {SEED}")
    assert min(anonymous, with_token) >= min(REQUESTS // 4, 100)


def test_same_seed_same_requests() -> None:
    """Deterministic by seed: a failure is replayed by its seed alone."""
    known = Known(blobs={digest_of(b"x"): b"x"}, manifests=[digest_of(b"m")])
    first = RequestGenerator(7, known)
    second = RequestGenerator(7, known)
    assert [first.request() for _ in range(200)] == [second.request() for _ in range(200)]
    other = RequestGenerator(8, known)
    assert [other.request() for _ in range(20)] != [
        RequestGenerator(7, known).request() for _ in range(20)
    ]
