"""Collected content is forgotten by the Redis blob descriptor cache, so it can come back.

distribution leaves its cache answering for collected blobs: the client's HEAD says
"present", the upload is skipped, the manifest push succeeds and the pull then fails
(distribution #4269, #3743). Here the registry runs with Redis, an image is pushed and
deleted, the registry stops, ``garbage-collect`` runs with the same config, and the same
image pushed again must pull completely.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pyregistry.client import RegistryClient
from pyregistry.client.content import build_image
from tests.support.redis import RedisServer
from tests.support.registry_process import REPO_ROOT, RegistryProcess, free_port, write_config


def test_repush_after_collection_pulls_completely(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    port = free_port()
    config = write_config(
        tmp_path,
        port,
        storage={
            "filesystem": {"rootdirectory": str(tmp_path / "data")},
            "cache": {"blobdescriptor": "redis"},
            "delete": {"enabled": True},
        },
        redis={"addr": redis_server.addr, "db": 0},
    )
    image = build_image(seed="comes-back", layers=2)
    base = f"http://127.0.0.1:{port}"
    redis = redis_server.client()

    with RegistryProcess(["serve", str(config)], port=port), RegistryClient(base) as client:
        digest = client.push("team/app", image, tag="v1")
        for layer in image.layer_digests:
            assert client.blob_exists("team/app", layer)  # fills the cache, as clients do
            assert redis.sismember("repository::team/app::blobs", layer)
        client.delete_manifest("team/app", digest)

    done = subprocess.run(
        [sys.executable, "-m", "pyregistry", "garbage-collect", str(config), "-q"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert "4 blobs deleted" in done.stdout  # manifest, config and two layers
    for blob in (*image.layer_digests, image.config_digest):
        assert redis.hget(f"blobs::{blob}", "size") is None
        assert not redis.sismember("repository::team/app::blobs", blob)
        assert not redis.exists(f"repository::team/app::blobs::{blob}")

    with RegistryProcess(["serve", str(config)], port=port), RegistryClient(base) as client:
        assert client.push("team/app", image, tag="v1") == digest
        pulled = client.get_manifest("team/app", "v1")
        assert pulled.digest == digest
        for blob, data in image.blobs().items():
            assert client.get_blob("team/app", blob) == data


def test_an_unreachable_redis_stops_the_collection_before_any_removal(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        free_port(),
        storage={
            "filesystem": {"rootdirectory": str(tmp_path / "data")},
            "cache": {"blobdescriptor": "redis"},
        },
        redis={"addr": f"127.0.0.1:{free_port()}", "dialtimeout": "200ms"},
    )
    orphan = tmp_path / "data/docker/registry/v2/blobs/sha256/ab" / ("ab" + "0" * 62) / "data"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"unreferenced")
    (tmp_path / "data/docker/registry/v2/repositories").mkdir(parents=True)
    done = subprocess.run(
        [sys.executable, "-m", "pyregistry", "garbage-collect", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert done.returncode == 1
    assert "blob descriptor cache unreachable" in done.stderr
    assert "nothing was deleted" in done.stderr
    assert orphan.exists()
