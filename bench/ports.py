"""Blocks of free loopback ports for servers that bind several, some of them late (the
bench's SeaweedFS, and the tests' SeaweedFS, Swift and Redis servers)."""

from __future__ import annotations

import random
import socket
from pathlib import Path


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As the servers bind (Go sets SO_REUSEADDR): ports in TIME_WAIT count as free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


#: Where the kernel picks the local port of an outgoing connection (Linux's default).
_EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")
#: Lowest port handed out here (below it: well-known and registered services).
_LOWEST_PORT = 10_000


def _ephemeral_start() -> int:
    try:
        return int(_EPHEMERAL.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_port_block(count: int) -> int:
    """First of ``count`` consecutive free loopback ports, below the ephemeral range.

    SeaweedFS binds its last ports seconds after start; a port from the ephemeral range
    could meanwhile become the local end of another process's outgoing connection (the
    other test worker's clients), and SeaweedFS then exits with "address already in use".
    Below that range the kernel never hands a port out by itself.
    """
    highest = _ephemeral_start() - count
    for _ in range(200):
        base = random.randrange(_LOWEST_PORT, highest)
        if all(_port_free(base + i) for i in range(count)):
            return base
    raise RuntimeError(f"no block of {count} free loopback ports found")
