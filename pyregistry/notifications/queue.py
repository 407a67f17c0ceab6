"""The durable event queue: one SQLite file (stdlib ``sqlite3``) in a local directory.

Each event is written once per endpoint that wants it, in one transaction, before the
request that caused it is answered; a row is deleted only after its endpoint accepted it.
So an event survives a crash or restart at any point and is delivered at least once; the
stored JSON keeps its ``id`` for receivers to de-duplicate.

Several processes may share the file (uvicorn workers of one instance, or instances on one
host pointed at one directory): SQLite's WAL mode lets them all append, and
:class:`DeliveryLease` (an ``flock`` per endpoint) makes exactly one of them deliver each
endpoint's rows, in ``seq`` (insertion) order. The kernel drops the lock when its holder
dies, so another process takes over without any timeout to tune.

All methods block: callers run them in a thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

QUEUE_FILE = "queue.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint TEXT NOT NULL,
    event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pending_by_endpoint ON pending (endpoint, seq);
"""


@dataclass(frozen=True)
class QueuedEvent:
    """One row: an event waiting for one endpoint."""

    seq: int
    endpoint: str
    body: str  # the event's JSON, exactly as first written

    @property
    def event(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


class EventQueue:
    """Pending events per endpoint, in one SQLite file under ``directory``."""

    def __init__(self, directory: str, *, busy_timeout: float = 30.0) -> None:
        self.directory = os.path.abspath(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.path = os.path.join(self.directory, QUEUE_FILE)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path,
            timeout=busy_timeout,
            check_same_thread=False,
            isolation_level=None,  # explicit BEGIN/COMMIT below
        )
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed event is on disk before the registry answers the request.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def append(self, rows: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, int]:
        """Store ``(endpoint, event)`` pairs atomically, in order; returns how many rows
        are now pending for each endpoint appended to."""
        encoded = [(endpoint, json.dumps(event, separators=(",", ":"))) for endpoint, event in rows]
        if not encoded:
            return {}
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT INTO pending (endpoint, event) VALUES (?, ?)", encoded)
                counts = {name: self._count(name) for name in dict.fromkeys(e for e, _ in encoded)}
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return counts

    def _count(self, endpoint: str) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM pending WHERE endpoint = ?", (endpoint,)
        ).fetchone()
        return int(row[0])

    def head(self, endpoint: str, limit: int = 64) -> list[QueuedEvent]:
        """The oldest ``limit`` events still pending for ``endpoint``, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, event FROM pending WHERE endpoint = ? ORDER BY seq LIMIT ?",
                (endpoint, limit),
            ).fetchall()
        return [QueuedEvent(seq, endpoint, body) for seq, body in rows]

    def remove(self, seq: int) -> None:
        """Forget one delivered row.

        Not synced to disk on its own (the next append's sync carries it): losing a
        removal to a power cut means one more delivery, which at-least-once allows.
        """
        with self._lock:
            self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                self._db.execute("DELETE FROM pending WHERE seq = ?", (seq,))
            finally:
                self._db.execute("PRAGMA synchronous=FULL")

    def pending(self, endpoint: str) -> int:
        with self._lock:
            return self._count(endpoint)

    def pending_by_endpoint(self) -> dict[str, int]:
        """Every endpoint with pending rows (also ones no longer configured)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT endpoint, COUNT(*) FROM pending GROUP BY endpoint"
            ).fetchall()
        return {str(name): int(count) for name, count in rows}


class DeliveryLease:
    """Exclusive right to deliver one endpoint's events from one queue directory.

    An ``flock`` on ``<directory>/<endpoint>-<hash>.lock``: held until :meth:`release` or the
    holder's death. Locks on separately opened files exclude each other even within one
    process, so two queues on one directory in one process also take turns.
    """

    def __init__(self, directory: str, endpoint: str) -> None:
        # Readable, and unique per name even when two names differ only in odd characters.
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", endpoint)[:64]
        tag = hashlib.sha256(endpoint.encode()).hexdigest()[:12]
        self.path = os.path.join(directory, f"{safe}-{tag}.lock")
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lease if free; never waits."""
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the only descriptor drops the lock
