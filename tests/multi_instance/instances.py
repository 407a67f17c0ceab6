"""Two ``pyregistry serve`` processes sharing one S3 bucket and one Redis, as in production.

A load balancer may send each request of a push or pull to a different instance, so the
instances must keep nothing a client depends on in their own memory: upload sessions
live in storage, blob descriptors in the shared Redis, and ``http.secret`` is the same.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis
import yaml

from tests.support.redis import RedisServer
from tests.support.registry_process import RegistryProcess, free_port
from tests.support.s3 import S3Server

#: Shared by both instances of a pair, as a real deployment must.
HTTP_SECRET = "multi-instance-shared-secret"


@dataclass
class Instance:
    """One running registry process and how to reach it."""

    name: str
    port: int
    process: RegistryProcess

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, for ``docker://`` references."""
        return f"127.0.0.1:{self.port}"

    @property
    def base(self) -> str:
        return f"http://{self.host}"

    def url(self, path: str) -> str:
        """``path`` (``/v2/...``) or any URL the other instance handed out, on this host."""
        parts = httpx.URL(path)
        return str(httpx.URL(self.base).copy_with(path=parts.path, query=parts.query or None))


@dataclass
class RegistryPair:
    """Instances A and B on one bucket root and one Redis database."""

    a: Instance
    b: Instance
    s3: S3Server
    redis_server: RedisServer
    redis_db: int
    rootdirectory: str
    redirect: bool
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=60.0))

    def redis_client(self) -> redis.Redis:
        """A client on the pair's Redis database, to see what the instances cached."""
        return self.redis_server.client(db=self.redis_db)

    @property
    def s3_endpoint(self) -> str:
        """``http://127.0.0.1:PORT`` of the object store redirects must point to."""
        return self.s3.endpoint


def instance_config(
    *,
    port: int,
    s3: S3Server,
    rootdirectory: str,
    redis_server: RedisServer,
    redis_db: int,
    redirect: bool,
) -> dict[str, object]:
    """The config.yml of one instance; only ``http.addr`` differs between A and B."""
    return {
        "version": 0.1,
        "log": {"level": "info"},
        "storage": {
            "s3": {
                "regionendpoint": s3.endpoint,
                "bucket": s3.bucket,
                "region": s3.region,
                "forcepathstyle": True,
                "accesskey": s3.access_key,
                "secretkey": s3.secret_key,
                "secure": False,
                "rootdirectory": rootdirectory,
            },
            "cache": {"blobdescriptor": "redis"},
            "delete": {"enabled": True},
            "redirect": {"disable": not redirect},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "redis": {"addr": redis_server.addr, "db": redis_db},
        "http": {"addr": f"127.0.0.1:{port}", "secret": HTTP_SECRET},
    }


@contextlib.contextmanager
def run_pair(
    workdir: Path,
    *,
    s3: S3Server,
    redis_server: RedisServer,
    redis_db: int,
    redirect: bool,
    workers: int = 1,
) -> Iterator[RegistryPair]:
    """Start A and B (``workers`` processes each) on a fresh root directory and an emptied
    Redis database.

    Leaving the block stops both and fails if either answered a 5xx or logged a traceback.
    """
    root = f"/multi-{uuid.uuid4().hex[:12]}"
    with redis_server.client(db=redis_db) as client:
        client.flushdb()
    with contextlib.ExitStack() as stack:
        instances = []
        for name in ("a", "b"):
            port = free_port()
            config = workdir / f"config-{name}.yml"
            settings = instance_config(
                port=port,
                s3=s3,
                rootdirectory=root,
                redis_server=redis_server,
                redis_db=redis_db,
                redirect=redirect,
            )
            config.write_text(yaml.safe_dump(settings))
            process = stack.enter_context(
                RegistryProcess(
                    ["serve", str(config)], port=port, env={"PYREGISTRY_WORKERS": str(workers)}
                )
            )
            instances.append(Instance(name.upper(), port, process))
        pair = RegistryPair(
            a=instances[0],
            b=instances[1],
            s3=s3,
            redis_server=redis_server,
            redis_db=redis_db,
            rootdirectory=root,
            redirect=redirect,
        )
        stack.callback(pair.client.close)
        yield pair
