"""An upload session distribution started goes on here: the rolling-migration case, where
distribution 2.8 (Debian's ``docker-registry``) and pyregistry serve one filesystem root
behind one address and a client's next chunk may reach either.

Distribution writes an upload's ``_uploads/<id>/data`` in place; pyregistry keeps
uncommitted bytes beside it and so first saw that file as committed, answering the next
PATCH with BLOB_UPLOAD_UNKNOWN: the client had to push the blob again.
"""

from __future__ import annotations

import random
from pathlib import Path

import httpx

from pyregistry.storage import Digest
from pyregistry.storage.hash_states import STATE_EVERY
from pyregistry.storage.resumable_hash import ResumableHash, new_running_hash, restore
from tests.support.distribution import DistributionFactory
from tests.support.pyregistry_target import run_pyregistry

FIRST = b"first chunk, sent to distribution " * 300
SECOND = b"second chunk, sent to pyregistry " * 200
LAST = b"the last bytes, with the PUT"


def _on(url: str, location: str) -> str:
    """``location`` (distribution's, with its signed ``_state``) on the server at ``url``."""
    parsed = httpx.URL(location)
    return str(httpx.URL(url).join(parsed.raw_path.decode()))


def _patch(
    client: httpx.Client, location: str | httpx.URL, data: bytes, start: int
) -> httpx.Response:
    return client.patch(
        location,
        content=data,
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{start}-{start + len(data) - 1}",
        },
    )


def test_a_chunked_upload_started_on_distribution_completes_on_pyregistry(
    tmp_path: Path, distribution_registry_factory: DistributionFactory
) -> None:
    root = tmp_path / "root"
    go = distribution_registry_factory(root)
    digest = Digest.from_bytes(FIRST + SECOND + LAST)
    with run_pyregistry(root) as (_, url), httpx.Client() as client:
        started = client.post(f"{go.url}/v2/team/app/blobs/uploads/")
        assert started.status_code == 202, started.text
        sent = _patch(client, httpx.URL(go.url).join(started.headers["location"]), FIRST, 0)
        assert sent.status_code == 202, sent.text
        location = _on(url, str(httpx.URL(go.url).join(sent.headers["location"])))

        status = client.get(location)
        assert status.status_code == 204
        assert status.headers["range"] == f"0-{len(FIRST) - 1}"
        # a chunk that does not start where distribution stopped is still refused
        wrong = _patch(client, location, SECOND, len(FIRST) + 1)
        assert wrong.status_code == 416, wrong.text
        more = _patch(client, location, SECOND, len(FIRST))
        assert more.status_code == 202, more.text
        assert more.headers["range"] == f"0-{len(FIRST + SECOND) - 1}"

        done = client.put(
            str(httpx.URL(url).join(more.headers["location"])),
            params={"digest": str(digest)},
            content=LAST,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert done.status_code == 201, done.text
        for server in (url, go.url):  # both serve the blob pyregistry committed
            got = client.get(f"{server}/v2/team/app/blobs/{digest}")
            assert got.status_code == 200
            assert got.content == FIRST + SECOND + LAST
        assert not list((root / "docker/registry/v2/repositories/team/app/_uploads").iterdir())


def test_a_wrong_digest_for_a_resumed_session_commits_nothing(
    tmp_path: Path, distribution_registry_factory: DistributionFactory
) -> None:
    root = tmp_path / "root"
    go = distribution_registry_factory(root)
    claimed = Digest.from_bytes(b"something else entirely")
    with run_pyregistry(root) as (_, url), httpx.Client() as client:
        started = client.post(f"{go.url}/v2/team/app/blobs/uploads/")
        sent = _patch(client, httpx.URL(go.url).join(started.headers["location"]), FIRST, 0)
        assert sent.status_code == 202, sent.text
        location = _on(url, str(httpx.URL(go.url).join(sent.headers["location"])))
        done = client.put(location, params={"digest": str(claimed)}, content=LAST)
        assert done.status_code == 400, done.text
        assert done.json()["errors"][0]["code"] == "DIGEST_INVALID"
        assert client.head(f"{url}/v2/team/app/blobs/{claimed}").status_code == 404
        assert client.head(f"{go.url}/v2/team/app/blobs/{claimed}").status_code == 404


def test_distributions_saved_hash_state_is_taken_up(
    tmp_path: Path, distribution_registry_factory: DistributionFactory
) -> None:
    """distribution saves its running hash after each chunk (Go's sha256 state, in
    ``_uploads/<id>/hashstates/sha256/<offset>``): pyregistry goes on from it. Shown
    both ways: the state read here hashes on to the blob's digest, and a state of other
    bytes put in its place makes the commit refuse the right digest (it was used, the
    data was not read again)."""
    root = tmp_path / "root"
    go = distribution_registry_factory(root)
    first = random.Random(1).randbytes(STATE_EVERY + 5)
    whole = first + SECOND + LAST
    digest = Digest.from_bytes(whole)
    uploads = root / "docker/registry/v2/repositories/team/app/_uploads"
    with run_pyregistry(root) as (_, url), httpx.Client(timeout=60) as client:
        for tampered in (False, True):
            started = client.post(f"{go.url}/v2/team/app/blobs/uploads/")
            sent = _patch(client, httpx.URL(go.url).join(started.headers["location"]), first, 0)
            assert sent.status_code == 202, sent.text
            (state_file,) = uploads.glob(f"*/hashstates/sha256/{len(first)}")
            taken = restore("sha256", state_file.read_bytes())
            assert taken is not None
            taken.update(SECOND + LAST)
            assert taken.hexdigest() == digest.hex
            if tampered:
                other = new_running_hash("sha256")
                assert isinstance(other, ResumableHash)
                other.update(bytes(len(first)))
                state_file.write_bytes(other.state())
            location = _on(url, str(httpx.URL(go.url).join(sent.headers["location"])))
            more = _patch(client, location, SECOND, len(first))
            assert more.status_code == 202, more.text
            done = client.put(
                str(httpx.URL(url).join(more.headers["location"])),
                params={"digest": str(digest)},
                content=LAST,
            )
            assert done.status_code == (400 if tampered else 201), done.text
