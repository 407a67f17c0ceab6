"""The access log of several workers sharing one pipe (as under systemd or docker): every
request gets exactly one whole line, although lines are written a batch at a time.

Also the bound that keeps them whole: a batch is written in pieces no larger than a pipe
delivers in one piece (``PIPE_BUF``), each of whole lines."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import httpx
import pytest

from pyregistry.access_log import ATOMIC_WRITE, _writes
from pyregistry.shared_pipe import _lock_path
from tests.support.command import stop_process
from tests.support.registry_process import REPO_ROOT, free_port, wait_for_port, write_config

REQUESTS = 1200
#: Combined Log Format as distribution prints it, with the test's own user agent.
LINE = re.compile(
    r'127\.0\.0\.1 - - \[[^\]]+\] "GET /v2/(?P<path>\S*) HTTP/1\.1" (?P<status>\d{3}) \d+ '
    r'"" "(?P<agent>agent-(?P<n>\d+)-x*)" [\d.]+(s|ms|µs|ns)'
)
AGENT = re.compile(r"agent-(?P<n>\d+)-x*")


def _agent(number: int) -> str:
    # Lengths from a few bytes to past ATOMIC_WRITE, so batches of every size are written.
    return f"agent-{number}-" + "x" * ((number * 97) % (ATOMIC_WRITE + 300))


def _read_slowly(stream: IO[bytes], out: list[bytes]) -> None:
    """Read the pipe a little at a time, so it stays nearly full and a write longer than
    the room left in it goes in pieces (a reader that kept it empty never showed that)."""
    while piece := stream.read1(2048):  # type: ignore[attr-defined]
        out.append(piece)
        time.sleep(0.0005)


def _agent_number(line: str, formatter: str) -> int:
    """The request number a whole line names; fails on anything else."""
    if formatter == "json":
        try:
            entry = json.loads(line)
        except ValueError:
            entry = {}
        match = AGENT.fullmatch(str(entry.get("http.request.useragent")))
        assert entry.get("msg") == "response completed" and match, f"not one whole line: {line!r}"
    else:
        match = LINE.fullmatch(line)
        assert match, f"not one whole access-log line: {line[:200]!r}...{line[-100:]!r}"
    return int(match["n"])


@pytest.mark.parametrize("formatter", ["text", "json"])
def test_two_workers_on_one_pipe_write_one_whole_line_per_request(
    tmp_path: Path, formatter: str
) -> None:
    port = free_port()
    config = write_config(tmp_path, port, log={"level": "warn", "formatter": formatter})
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyregistry", "serve", str(config), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    status = os.fstat(proc.stdout.fileno())
    pipe = (status.st_dev, status.st_ino)
    out: list[bytes] = []
    reader = threading.Thread(target=_read_slowly, args=(proc.stdout, out), daemon=True)
    reader.start()
    try:
        wait_for_port(port, 20, proc)

        limits = httpx.Limits(max_connections=16)
        with (
            httpx.Client(base_url=f"http://127.0.0.1:{port}", limits=limits) as client,
            ThreadPoolExecutor(16) as pool,
        ):

            def get(number: int) -> int:
                path = "/v2/" if number % 3 else f"/v2/repo{number}/tags/list"
                return client.get(path, headers={"user-agent": _agent(number)}).status_code

            statuses = list(pool.map(get, range(REQUESTS)))
    finally:
        stop_process(proc, timeout=20)
        reader.join(timeout=20)
    # the workers' lock file (pyregistry/shared_pipe.py) went with the supervisor
    assert not Path(_lock_path(pipe)).exists()
    lines = b"".join(out).decode().splitlines()
    seen = [_agent_number(line, formatter) for line in lines]
    assert sorted(seen) == list(range(REQUESTS))
    assert statuses == [200 if n % 3 else 404 for n in range(REQUESTS)]


def test_a_batch_is_written_in_pipe_sized_pieces_of_whole_lines() -> None:
    lines = [f"line {n} " + "y" * (n * 37 % 1500) for n in range(200)]
    lines.append("z" * (ATOMIC_WRITE * 2))  # longer than a piece: a write of its own
    lines.append("é" * 1500)  # 3,000 bytes once encoded, not 1,500
    writes = _writes(lines)
    assert "".join(writes) == "".join(line + "\n" for line in lines)
    for text in writes:
        assert text.endswith("\n")
        if text.count("\n") > 1:
            assert len(text.encode()) <= ATOMIC_WRITE, text[:80]
    assert len(writes) < len(lines) / 2  # short lines do share writes
