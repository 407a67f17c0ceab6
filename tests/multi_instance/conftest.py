"""Registry pairs for the multi-instance tests, started once for the whole directory.

Each pair has its own bucket root and Redis database (the descriptor cache is keyed by
digest only, so two storages must never share a database).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.multi_instance.instances import RegistryPair, run_pair
from tests.support.redis import RedisServer
from tests.support.s3 import S3Server

#: Redis databases of the two pairs (other test packages use database 0).
PROXIED_DB = 7
REDIRECT_DB = 8


@contextlib.contextmanager
def _pair(
    s3: S3Server, redis_server: RedisServer, db: int, redirect: bool
) -> Iterator[RegistryPair]:
    with (
        tempfile.TemporaryDirectory(prefix="pyregistry-multi-") as work,
        run_pair(
            Path(work), s3=s3, redis_server=redis_server, redis_db=db, redirect=redirect
        ) as pair,
    ):
        yield pair


@pytest.fixture(scope="package")
def proxied_pair(
    seaweedfs_server: S3Server, redis_server_process: RedisServer
) -> Iterator[RegistryPair]:
    """A and B with ``storage.redirect.disable: true``: every byte goes through them."""
    with _pair(seaweedfs_server, redis_server_process, PROXIED_DB, redirect=False) as pair:
        yield pair


@pytest.fixture(scope="package")
def redirect_pair(
    seaweedfs_server: S3Server, redis_server_process: RedisServer
) -> Iterator[RegistryPair]:
    """A and B with redirects on (the default): blob GETs answer 307 to SeaweedFS."""
    with _pair(seaweedfs_server, redis_server_process, REDIRECT_DB, redirect=True) as pair:
        yield pair
