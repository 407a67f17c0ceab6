"""Which worker process of a multi-worker registry holds a given client connection.

The workers share one listening socket and the kernel hands each new connection to one of
them. A test that must write through one worker and read through another opens
connections until it holds one to each, and asks ``/proc`` who owns which: the server end
of the connection is the socket in ``/proc/net/tcp`` whose peer is the client's port, and
its owner is the worker with that socket inode among its open files.
"""

from __future__ import annotations

import http.client
import os
from pathlib import Path


def _parent(pid: str) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])  # the name may hold spaces and ")"


def worker_pids(pid: int) -> list[int]:
    """The children of supervisor ``pid`` that are workers (spawned by multiprocessing; a
    resource tracker may be a child as well)."""
    workers: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or _parent(entry) != pid:
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            workers.append(int(entry))
    return sorted(workers)


def _server_socket_inode(server_port: int, client_port: int) -> int | None:
    """The inode of the server's end of the connection 127.0.0.1:client -> :server."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        remote_port = int(fields[2].rsplit(":", 1)[1], 16)
        if local_port == server_port and remote_port == client_port:
            return int(fields[9])
    return None


def _pid_owning(inode: int, pids: list[int]) -> int | None:
    target = f"socket:[{inode}]"
    for pid in pids:
        fd_dir = f"/proc/{pid}/fd"
        try:
            names = os.listdir(fd_dir)
        except OSError:
            continue
        for name in names:
            try:
                if os.readlink(f"{fd_dir}/{name}") == target:
                    return pid
            except OSError:
                continue
    return None


def owner(connection: http.client.HTTPConnection, server_port: int, pids: list[int]) -> int:
    """The worker pid serving ``connection`` (which must be open: send a request first)."""
    assert connection.sock is not None, "the connection is not open"
    client_port = connection.sock.getsockname()[1]
    inode = _server_socket_inode(server_port, client_port)
    assert inode is not None, f"no server socket for client port {client_port}"
    pid = _pid_owning(inode, pids)
    assert pid is not None, f"no worker among {pids} holds socket {inode}"
    return pid


def connection_per_worker(
    port: int, supervisor_pid: int, attempts: int = 200
) -> dict[int, http.client.HTTPConnection]:
    """One open keep-alive connection to each worker, keyed by worker pid."""
    pids = worker_pids(supervisor_pid)
    assert len(pids) >= 2, f"expected several workers, found {pids}"
    found: dict[int, http.client.HTTPConnection] = {}
    for _ in range(attempts):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/v2/")
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        pid = owner(connection, port, pids)
        if pid in found:
            connection.close()
        else:
            found[pid] = connection
        if len(found) == len(pids):
            return found
    for connection in found.values():
        connection.close()
    raise AssertionError(f"{attempts} connections reached only workers {sorted(found)} of {pids}")
