"""``storage.maintenance``: upload purging runs in the background of a serving registry;
read-only mode refuses every write."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from pyregistry.app import create_app
from pyregistry.config import Config, config_from_document
from tests.api.helpers import error_codes, push_blob
from tests.support.server import run_server


def config(root: Path, maintenance: dict[str, Any]) -> Config:
    return config_from_document(
        {
            "version": "0.1",
            "storage": {"filesystem": {"rootdirectory": str(root)}, "maintenance": maintenance},
        }
    )


def wait_for(condition: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_abandoned_uploads_are_purged_while_fresh_ones_stay(tmp_path: Path) -> None:
    purging = {"uploadpurging": {"enabled": True, "age": "1h", "interval": "50ms"}}
    app = create_app(config(tmp_path, purging))
    uploads = tmp_path / "docker/registry/v2/repositories/team/app/_uploads"
    with run_server(app) as url, httpx.Client(base_url=url) as client:
        fresh = client.post("/v2/team/app/blobs/uploads/").headers["location"]
        abandoned = client.post("/v2/team/app/blobs/uploads/").headers["location"]
        assert client.patch(abandoned, content=b"half a layer").status_code == 202
        session = uploads / abandoned.rsplit("/", 1)[-1]
        (session / "startedat").write_text("2001-02-03T04:05:06Z")  # a push died long ago
        assert wait_for(lambda: client.get(abandoned).status_code == 404)
        assert error_codes(client.get(abandoned)) == ["BLOB_UPLOAD_UNKNOWN"]
        # unknown once its start marker went; the rest of the directory follows
        assert wait_for(lambda: not session.exists())
        runs = app.state.upload_purger.runs
        assert wait_for(lambda: app.state.upload_purger.runs >= runs + 2)
        assert client.get(fresh).status_code == 204
        # sessions keep being created and used while the purger walks the storage
        for _ in range(20):
            location = client.post("/v2/team/app/blobs/uploads/").headers["location"]
            assert client.patch(location, content=b"x").status_code == 202
    assert app.state.upload_purger.purged == 1


def test_dry_run_only_counts(tmp_path: Path) -> None:
    dry = {"uploadpurging": {"age": "1ms", "interval": "20ms", "dryrun": True}}
    app = create_app(config(tmp_path, dry))
    with run_server(app) as url, httpx.Client(base_url=url) as client:
        location = client.post("/v2/dry/run/blobs/uploads/").headers["location"]
        assert wait_for(lambda: app.state.upload_purger.purged >= 1)
        assert client.get(location).status_code == 204


@pytest.mark.parametrize(
    "maintenance",
    [{"uploadpurging": {"enabled": False}}, {"readonly": {"enabled": True}}],
)
def test_no_purger_when_disabled_or_read_only(tmp_path: Path, maintenance: dict[str, Any]) -> None:
    assert create_app(config(tmp_path, maintenance)).state.upload_purger is None


def test_purging_defaults_follow_distribution(tmp_path: Path) -> None:
    purger = create_app(config(tmp_path, {})).state.upload_purger
    assert (purger.age, purger.interval, purger.dry_run) == (168 * 3600, 24 * 3600, False)
    assert 0 <= purger.jitter <= 3600


def test_read_only_mode_from_the_config_refuses_writes(tmp_path: Path) -> None:
    with TestClient(create_app(config(tmp_path, {}))) as client:
        digest = push_blob(client, "r", b"content")
    readonly = config(tmp_path, {"readonly": {"enabled": True}})
    with TestClient(create_app(readonly)) as client:
        assert client.get(f"/v2/r/blobs/{digest}").content == b"content"
        location = f"/v2/r/blobs/uploads/{'0' * 8}-0000-4000-8000-{'0' * 12}"
        for method, path in [
            ("POST", "/v2/r/blobs/uploads/"),
            ("PATCH", location),
            ("PUT", location),
            ("PUT", "/v2/r/manifests/latest"),
            ("DELETE", f"/v2/r/blobs/{digest}"),
            ("DELETE", "/v2/r/manifests/latest"),
        ]:
            response = client.request(method, path, content=b"{}")
            assert response.status_code == 405, (method, path)
            assert error_codes(response) == ["UNSUPPORTED"]
