"""The bench's S3 server starts again on other ports when one it chose was taken before
it could bind it (another test worker's server took it: CI saw SeaweedFS's filer exit
with "address already in use")."""

from __future__ import annotations

import socket

import pytest

from bench import s3server
from bench.s3server import run_s3, s3_client


def test_seaweedfs_starts_on_other_ports_when_one_is_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    choose = s3server._port_block
    chosen: list[int] = []
    squatter = socket.socket()

    def taken_first(count: int) -> int:
        base = choose(count)
        if not chosen:  # the filer's port (base + 5) taken between choice and bind
            squatter.bind(("127.0.0.1", base + 5))
            squatter.listen()
        chosen.append(base)
        return base

    monkeypatch.setattr(s3server, "_port_block", taken_first)
    try:
        with run_s3("seaweedfs") as s3:
            assert len(chosen) == 2
            assert s3.endpoint == f"http://127.0.0.1:{chosen[1]}"
            buckets = s3_client(s3.endpoint).list_buckets()["Buckets"]
            assert s3server.BUCKET in [bucket["Name"] for bucket in buckets]
    finally:
        squatter.close()
