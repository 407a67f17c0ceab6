"""The test ACME server starts again on other ports when one it chose was taken before
it could bind it (by another test worker's server), as the S3 servers of the tests do."""

from __future__ import annotations

import json
import socket
import ssl
from pathlib import Path

import httpx
import pytest

from tests.support import pebble as pebble_support
from tests.support.command import free_port


def test_pebble_starts_on_other_ports_when_one_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write = pebble_support._write_config
    squatter = socket.socket()
    listens: list[int] = []

    def taken_first(work: Path, cert: Path, key: Path, tls_port: int) -> tuple[Path, int, int]:
        path, listen, management = write(work, cert, key, tls_port)
        if not listens:  # the directory's port taken between choice and bind
            squatter.bind(("127.0.0.1", listen))
            squatter.listen()
        listens.append(listen)
        return path, listen, management

    monkeypatch.setattr(pebble_support, "_write_config", taken_first)
    try:
        with pebble_support.running_pebble(tmp_path, tls_port=free_port()) as pebble:
            assert len(listens) == 2
            assert pebble.directory_url == f"https://127.0.0.1:{listens[1]}/dir"
            config = json.loads((tmp_path / "pebble-config.json").read_text())
            assert config["pebble"]["listenAddress"] == f"127.0.0.1:{listens[1]}"
            trusting = ssl.create_default_context(cafile=str(pebble.listener_ca))
            directory = httpx.get(pebble.directory_url, verify=trusting).json()
            assert "newOrder" in directory
    finally:
        squatter.close()
