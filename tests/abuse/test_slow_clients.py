"""Slow and idle clients over real sockets: header and idle timeouts, the connection cap
under a low open-file limit, quiet accept errors, and the request-rate limit. Each runs
with h11 on asyncio and httptools on uvloop."""

from __future__ import annotations

import contextlib
import json
import resource
import selectors
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.abuse.registry_runner import STACKS, Registry

STACK_IDS = [f"{parser}-{loop}" for parser, loop in STACKS]


@pytest.fixture(autouse=True, scope="module")
def _many_descriptors() -> None:
    """This test process opens over a thousand sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096 <= hard or hard == resource.RLIM_INFINITY:
        resource.setrlimit(resource.RLIMIT_NOFILE, (4096, hard))
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= 4096, "need 4096 open files"


def _closed(sock: socket.socket) -> bool:
    """Whether the server closed ``sock`` (EOF or reset), reading past any 4xx it sent."""
    return _count_closed([sock]) == 1


def _count_closed(socks: list[socket.socket], wait: float = 0.1) -> int:
    """How many of ``socks`` the server has closed: one poll over all of them."""
    closed = 0
    with selectors.DefaultSelector() as selector:
        for sock in socks:
            if sock.fileno() == -1:
                closed += 1
            else:
                selector.register(sock, selectors.EVENT_READ)
        for key, _ in selector.select(timeout=wait):
            ready = key.fileobj
            assert isinstance(ready, socket.socket)
            ready.setblocking(False)
            try:
                while data := ready.recv(65536):
                    del data
                closed += 1  # EOF
            except BlockingIOError:
                pass  # data, but still open
            except OSError:
                closed += 1
    return closed


def _connect(port: int, count: int, first: bytes = b"") -> list[socket.socket]:
    socks = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if first:
            sock.sendall(first)
        socks.append(sock)
    return socks


@pytest.mark.parametrize(("parser", "loop"), STACKS, ids=STACK_IDS)
def test_slow_headers_are_closed_after_the_header_timeout(
    tmp_path: Path, parser: str, loop: str
) -> None:
    timeouts = {"header": "1s", "idle": "30s"}
    with Registry(tmp_path, parser=parser, loop=loop, http={"timeouts": timeouts}) as registry:
        socks = _connect(registry.port, 500, b"GET /v2/ HTTP/1.1\r\n")
        try:
            started = time.monotonic()
            open_after = len(socks)
            while time.monotonic() - started < 6 and open_after:
                for sock in socks:  # one more header line each round: never complete
                    with contextlib.suppress(OSError):
                        sock.sendall(b"X-Slow: 1\r\n")
                time.sleep(0.25)
                open_after = len(socks) - _count_closed(socks)
            elapsed = time.monotonic() - started
            assert open_after == 0, f"{open_after} of 500 slow connections still open"
            assert elapsed > 0.7, "closed before the header timeout"
            assert httpx.get(f"{registry.url}/v2/", timeout=5).status_code == 200
        finally:
            for sock in socks:
                sock.close()
    assert not registry.server_errors()
    assert "sent no complete request headers in 1s" in registry.stderr


@pytest.mark.parametrize(("parser", "loop"), STACKS, ids=STACK_IDS)
def test_idle_keep_alive_connections_are_closed(tmp_path: Path, parser: str, loop: str) -> None:
    timeouts = {"header": "30s", "idle": "1s"}
    with Registry(tmp_path, parser=parser, loop=loop, http={"timeouts": timeouts}) as registry:
        (sock,) = _connect(registry.port, 1, b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
        with sock:
            sock.settimeout(5)
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            assert not _closed(sock), "closed at once: keep-alive did not keep the connection"
            deadline = time.monotonic() + 5
            while not _closed(sock) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert _closed(sock), "an idle keep-alive connection outlived http.timeouts.idle"
            assert time.monotonic() - (deadline - 5) >= 0.8


@pytest.mark.parametrize(("parser", "loop"), STACKS, ids=STACK_IDS)
def test_requests_are_served_while_idle_connections_exceed_the_file_limit(
    tmp_path: Path, parser: str, loop: str
) -> None:
    """1,100 idle connections against a 1,024 open-file limit: the cap (default: below the
    limit) closes the longest-waiting ones, so real requests still get answers."""
    with Registry(tmp_path, parser=parser, loop=loop, nofile=1024) as registry:
        socks = _connect(registry.port, 1100)
        try:
            time.sleep(0.5)
            for attempt in range(3):
                response = httpx.get(f"{registry.url}/v2/", timeout=10)
                assert response.status_code == 200, attempt
            socks += _connect(registry.port, 200)  # a second wave, after the cap is reached
            assert httpx.get(f"{registry.url}/v2/", timeout=10).status_code == 200
            closed = _count_closed(socks)
            assert closed >= 1300 - 1024, f"only {closed} connections closed at the cap"
        finally:
            for sock in socks:
                sock.close()
    log = registry.stderr
    assert "Traceback" not in log
    assert "at the connection cap" in log
    assert log.count("at the connection cap") <= 3, "the cap note is not rate limited"
    assert log.count("\n") < 60, f"the log grew under the flood:\n{log[-3000:]}"


@pytest.mark.parametrize(("parser", "loop"), STACKS, ids=STACK_IDS)
def test_accept_errors_are_logged_once_per_interval(tmp_path: Path, parser: str, loop: str) -> None:
    """A cap set above the open-file limit lets accept() fail with EMFILE: the log says so
    in a line or two, not once per retry (nor with a traceback), and service comes back
    once clients leave."""
    http_section = {"maxconnections": 5000, "timeouts": {"header": "60s"}}
    with Registry(tmp_path, parser=parser, loop=loop, nofile=256, http=http_section) as registry:
        socks = _connect(registry.port, 400)
        time.sleep(3)
        for sock in socks:
            sock.close()
        deadline = time.monotonic() + 10
        status = 0
        while time.monotonic() < deadline and status != 200:
            try:
                status = httpx.get(f"{registry.url}/v2/", timeout=2).status_code
            except httpx.HTTPError:
                time.sleep(0.2)
        assert status == 200, "no service after the flood ended"
    log = registry.stderr
    assert "Application startup complete" in log, f"{registry.directory}: {log!r}"
    lines = [line for line in log.splitlines() if "cannot accept connections" in line]
    assert len(lines) <= 2, "\n".join(lines)
    if loop == "asyncio":  # libuv stops accepting quietly on EMFILE; asyncio logs it
        assert lines, f"the accept errors were not reported:\n{log[-2000:]}"
        assert "Too many open files" in lines[0]
    assert "Traceback" not in log, log[log.index("Traceback") - 400 :][:3000]
    assert log.count("\n") < 40, f"the log grew under the flood:\n{log[-3000:]}"


def test_request_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    ratelimit = {"rate": 50, "methods": [{"method": "GET", "rate": 5}]}
    with Registry(tmp_path, http={"ratelimit": ratelimit}) as registry, httpx.Client() as client:
        statuses = [client.get(f"{registry.url}/v2/").status_code for _ in range(20)]
        assert statuses[:5] == [200] * 5
        assert 429 in statuses
        limited = client.get(f"{registry.url}/v2/")
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.headers["content-type"].startswith("application/json")
        assert json.loads(limited.content)["errors"][0]["code"] == "TOOMANYREQUESTS"
        # another method has only the overall limit
        assert client.head(f"{registry.url}/v2/").status_code == 200
        time.sleep(1.1)
        assert client.get(f"{registry.url}/v2/").status_code == 200


def test_at_the_cap_with_every_connection_busy_a_newcomer_gets_503(tmp_path: Path) -> None:
    """Busy connections (headers in, body still coming) are never closed to make room:
    the newcomer is turned away with a JSON 503 instead."""
    with Registry(tmp_path, http={"maxconnections": 4}) as registry:
        busy = []
        for _ in range(4):  # each streams a body into its own upload session, slowly
            start = httpx.post(f"{registry.url}/v2/busy/blobs/uploads/", timeout=5)
            path = httpx.URL(start.headers["location"]).raw_path
            head = b"PATCH " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nab"
            busy += _connect(registry.port, 1, head)
        try:
            time.sleep(0.5)
            (newcomer,) = _connect(registry.port, 1, b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
            with newcomer:
                newcomer.settimeout(5)
                answer = newcomer.recv(65536)
            assert answer.startswith(b"HTTP/1.1 503"), answer
            assert b"retry-after: 1" in answer.lower()
            assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["errors"][0]["code"] == "UNAVAILABLE"
            assert _count_closed(busy) == 0, "a busy connection was closed"
        finally:
            for sock in busy:
                sock.close()
        deadline = time.monotonic() + 10
        while httpx.get(f"{registry.url}/v2/", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, "no service once the busy clients left"
            time.sleep(0.2)
    assert "with every connection busy" in registry.stderr
