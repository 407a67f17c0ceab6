"""The bench's "WAN" relay holds its rate and its round trip (real sockets, ~1 s)."""

from __future__ import annotations

import asyncio
import time

from bench.relay import Link, Relay


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


async def _through_relay(link: Link, payload: bytes) -> tuple[bytes, float]:
    """``payload`` sent through a relay to an echo server; what came back, and seconds."""
    echo = await asyncio.start_server(_echo, "127.0.0.1", 0)
    relay = Relay(("127.0.0.1", echo.sockets[0].getsockname()[1]), link)
    port = await relay.start()
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def send() -> None:
        writer.write(payload)
        await writer.drain()
        writer.write_eof()

    sending = asyncio.create_task(send())
    echoed = await reader.read(-1)
    elapsed = time.monotonic() - started
    await sending
    writer.close()
    await relay.close()
    echo.close()
    return echoed, elapsed


def test_relay_holds_the_rate_each_way() -> None:
    payload = bytes(range(256)) * (12 * 4096)  # 12 MiB: ~0.5 s each way at 24 MiB/s
    echoed, elapsed = asyncio.run(_through_relay(Link(mib_s=24), payload))
    assert echoed == payload
    # each direction is paced on its own (full duplex): 12 MiB at 24 MiB/s, minus one burst
    assert elapsed >= 0.45
    assert elapsed < 0.5 + 4.0, "the relay is far slower than its rate"


def test_relay_adds_its_round_trip() -> None:
    echoed, elapsed = asyncio.run(_through_relay(Link(rtt_ms=150), b"ping"))
    assert echoed == b"ping"
    # the handshake's round trip, then there and back again
    assert elapsed >= 0.3
