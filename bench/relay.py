"""A rate-limited TCP relay on 127.0.0.1: a stand-in for the long link to an upstream.

A mirror exists because its upstream is far away; on loopback the upstream is as close
as the mirror, and the mirror's own work (receive, hash, store, re-send) is all the
benchmark sees. ``python -m bench.mirror --link-mib-s N`` puts this relay in front of the
upstream, and every puller (the direct pull and each mirror's upstream fetches) crosses it,
so both paths share one "WAN" link of ``N`` MiB/s.

The link is full duplex: one token bucket per direction, shared by every connection (a
link has one capacity, however many connections cross it). With ``rtt`` each connection
is opened one round trip late (a TCP handshake) and every byte arrives half a round trip
after it was sent, in each direction; bytes still flow back to back, so a request and its
answer cost one round trip more, a long transfer no more than the rate allows.

Run it as ``python -m bench.relay --target HOST:PORT --port PORT [--mib-s N] [--rtt-ms M]``
(the bench starts it as its own process, so it takes no CPU from the bench's client), or
use :class:`Relay` inside an event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.servers import READY_TIMEOUT, REPO_ROOT, BenchSetupError, free_port, stop_process

MiB = 1024 * 1024
CHUNK = 256 * 1024
#: A stream's read buffer: a few chunks, so one read takes a whole chunk when it is there.
BUFFER = 4 * CHUNK
#: Bytes a bucket may save up while idle: one chunk and a little, so a burst stays short.
BURST = 4 * CHUNK


@dataclass
class TokenBucket:
    """``rate`` bytes per second; :meth:`take` waits until the bytes taken are paid for.

    A taker may overdraw: the debt sets its wait, and the next taker waits behind it, so
    concurrent connections share the rate in the order they asked.
    """

    rate: float
    burst: float = BURST
    tokens: float = field(init=False)
    stamp: float = field(init=False, default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    async def take(self, count: int) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= count
        if self.tokens < 0:
            await asyncio.sleep(-self.tokens / self.rate)


@dataclass(frozen=True)
class Link:
    """The link's shape: ``mib_s`` MiB/s each way (None: unlimited), ``rtt_ms`` round trip."""

    mib_s: float | None = None
    rtt_ms: float = 0.0

    def describe(self) -> str:
        rate = f"{self.mib_s:g} MiB/s" if self.mib_s else "unlimited"
        return f"{rate}, rtt {self.rtt_ms:g} ms"


class Relay:
    """Accepts on ``127.0.0.1:port`` and relays each connection to ``target`` over ``link``."""

    def __init__(self, target: tuple[str, int], link: Link) -> None:
        self.target = target
        self.link = link
        rate = link.mib_s * MiB if link.mib_s else None
        self.upload = TokenBucket(rate) if rate else None
        self.download = TokenBucket(rate) if rate else None
        self.server: asyncio.Server | None = None

    async def start(self, port: int = 0) -> int:
        """Listen (``port`` 0: any free port) and answer the port listened on."""
        self.server = await asyncio.start_server(self._connection, "127.0.0.1", port, limit=BUFFER)
        bound: int = self.server.sockets[0].getsockname()[1]
        return bound

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _connection(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        delay = self.link.rtt_ms / 2000
        try:
            if delay:
                await asyncio.sleep(2 * delay)  # the handshake's round trip
            upstream_reader, upstream_writer = await asyncio.open_connection(
                *self.target, limit=BUFFER
            )
        except OSError:
            client_writer.close()
            return
        pipes = [
            asyncio.create_task(_pipe(client_reader, upstream_writer, self.upload, delay)),
            asyncio.create_task(_pipe(upstream_reader, client_writer, self.download, delay)),
        ]
        try:
            # both directions end (half-closed in turn), or one breaks: then close both
            await asyncio.wait(pipes, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for writer in (client_writer, upstream_writer):
                writer.close()
            await asyncio.gather(*pipes, return_exceptions=True)


async def _pipe(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    bucket: TokenBucket | None,
    delay: float,
) -> None:
    """Copy one direction until end of stream, paced by ``bucket``, each chunk ``delay``
    seconds late; then half-close (HTTP keeps the other direction going)."""
    in_flight: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(_queue_size(bucket, delay))
    failures: list[OSError] = []

    async def deliver() -> None:
        while data := await _due(in_flight):
            if failures:
                continue  # drained, so the reader never waits on a full queue
            try:
                writer.write(data)
                await writer.drain()
            except OSError as error:
                failures.append(error)

    delivering = asyncio.create_task(deliver())
    try:
        while True:
            data = b"" if failures else await reader.read(CHUNK)
            if data and bucket is not None:
                await bucket.take(len(data))
            await in_flight.put((time.monotonic() + delay, data))
            if not data:
                break
        await delivering
    finally:
        delivering.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await delivering
    if failures:
        raise failures[0]
    if writer.can_write_eof():
        writer.write_eof()


async def _due(in_flight: asyncio.Queue[tuple[float, bytes]]) -> bytes:
    """The next chunk once its time has come (empty: end of stream)."""
    due, data = await in_flight.get()
    wait = due - time.monotonic()
    if data and wait > 0:
        await asyncio.sleep(wait)
    return data


def _queue_size(bucket: TokenBucket | None, delay: float) -> int:
    """Chunks in flight: the bandwidth-delay product (with room), or a few without delay."""
    if not delay:
        return 2
    if bucket is None:
        return 1024
    return 16 + math.ceil(bucket.rate * delay / CHUNK)


@contextlib.contextmanager
def run_relay(upstream_url: str, link: Link, work: Path) -> Iterator[str]:
    """``python -m bench.relay`` in front of ``upstream_url`` (``http://127.0.0.1:PORT``)
    until the block ends; yields the relay's URL, to be used wherever the upstream's was."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.relay", "--target", upstream_url.split("//", 1)[1]]
    argv += ["--port", str(port), "--rtt-ms", str(link.rtt_ms)]
    if link.mib_s:
        argv += ["--mib-s", str(link.mib_s)]
    with open(work / "relay.log", "wb") as log:
        process = subprocess.Popen(argv, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                log_text = (work / "relay.log").read_text(errors="replace")[-2000:]
                raise BenchSetupError(f"the relay did not start:\n{log_text}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def _serve(target: tuple[str, int], port: int, link: Link) -> None:
    relay = Relay(target, link)
    await relay.start(port)
    try:
        await asyncio.Event().wait()
    finally:
        await relay.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.relay", description=__doc__)
    parser.add_argument("--target", required=True, help="HOST:PORT to relay to")
    parser.add_argument("--port", type=int, required=True, help="127.0.0.1 port to listen on")
    parser.add_argument("--mib-s", type=float, default=None, help="rate each way (MiB/s)")
    parser.add_argument("--rtt-ms", type=float, default=0.0, help="added round trip (ms)")
    args = parser.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve((host, int(port)), args.port, Link(args.mib_s, args.rtt_ms)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
