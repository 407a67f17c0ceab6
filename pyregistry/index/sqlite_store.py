"""The index's tables in one SQLite file, and every read and write as one transaction.

Several worker processes open the same file (WAL: readers never wait for the writer).
Each method is one transaction, so what a reader sees is always a state some sequence of
whole writes produced. The rules that keep answers right (``docs/index.md``):

* ``begin`` records an intent for a repository before storage is touched and moves the
  global ``clock``; ``finish`` removes it. A repository with an intent, or marked
  ``dirty``, is answered from storage.
* ``finish`` applies a write's effect only when no other write overlapped it on that
  repository (their order in storage is unknown); otherwise it marks the repository dirty.
* ``repair_commit`` replaces a repository's rows with a storage scan only if no write began
  or finished since ``repair_start`` (compare-and-set on the repository's generation).

Repository keys are ``path_order(name)`` as bytes and tags are bytes, so SQLite's byte
order is exactly the order the storage listings use.
"""

from __future__ import annotations

import sqlite3
import urllib.parse
from collections.abc import Iterable, Sequence

from pyregistry.index import sqlite_sizes as sizes
from pyregistry.index.backend import (
    SCHEMA_VERSION,
    ManifestRow,
    Op,
    RepositoryScan,
    TagsAnswer,
    decode_blobs,
)
from pyregistry.storage.catalog import path_order

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS repositories (
    key BLOB PRIMARY KEY, name TEXT NOT NULL, present INTEGER NOT NULL DEFAULT 0,
    dirty INTEGER NOT NULL DEFAULT 0, generation INTEGER NOT NULL DEFAULT 0,
    tag_count INTEGER NOT NULL DEFAULT 0, size INTEGER);
CREATE TABLE IF NOT EXISTS tags (
    repository TEXT NOT NULL, tag BLOB NOT NULL, digest TEXT NOT NULL, media_type TEXT,
    pushed_at REAL, size INTEGER, PRIMARY KEY (repository, tag)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tags_by_digest ON tags (repository, digest);
CREATE INDEX IF NOT EXISTS tags_by_push ON tags (repository, pushed_at);
CREATE TABLE IF NOT EXISTS manifests (
    repository TEXT NOT NULL, digest TEXT NOT NULL, media_type TEXT NOT NULL, size INTEGER,
    PRIMARY KEY (repository, digest)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS intents (
    token TEXT PRIMARY KEY, repository TEXT NOT NULL, started REAL NOT NULL);
CREATE INDEX IF NOT EXISTS intents_by_repository ON intents (repository);
INSERT OR IGNORE INTO meta VALUES ('clock', '0'), ('ready', '0'), ('builder', '');
"""  # ``meta`` also holds ``schema``: set by a build, so a file of an older schema is rebuilt


def repository_key(name: str) -> bytes:
    return path_order(name).encode("utf-8", "surrogatepass")


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def connect(path: str, busy_timeout_ms: int, *, create: bool = False) -> sqlite3.Connection:
    """A connection in WAL mode with the schema in place (raises sqlite3.Error). Without
    ``create`` a missing file is an error, never silently a new empty database."""
    uri = f"file:{urllib.parse.quote(path)}?mode={'rwc' if create else 'rw'}"
    connection = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    try:
        connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")  # the index is derived: no fsync
        connection.executescript(SCHEMA + sizes.SCHEMA)
    except sqlite3.Error:
        connection.close()
        raise
    return connection


class Transaction:
    """``with Transaction(conn, immediate=True):`` BEGIN ... COMMIT, ROLLBACK on error."""

    def __init__(self, connection: sqlite3.Connection, immediate: bool = False) -> None:
        self.connection = connection
        self.immediate = immediate

    def __enter__(self) -> sqlite3.Connection:
        self.connection.execute("BEGIN IMMEDIATE" if self.immediate else "BEGIN")
        return self.connection

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.connection.execute("COMMIT")
        elif self.connection.in_transaction:
            self.connection.execute("ROLLBACK")


class IndexStore:
    """The operations of the index on one connection (one thread at a time)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.db = connection

    def close(self) -> None:
        self.db.close()

    # -- small helpers (inside a transaction) ------------------------------------------

    def _meta(self, key: str) -> str:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else ""

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def _tick(self) -> int:
        clock = int(self._meta("clock") or 0) + 1
        self._set_meta("clock", str(clock))
        return clock

    def _row(self, name: str) -> tuple[int, int, int] | None:
        """(present, dirty, generation) of a repository."""
        sql = "SELECT present, dirty, generation FROM repositories WHERE key = ?"
        row: tuple[int, int, int] | None = self.db.execute(sql, (repository_key(name),)).fetchone()
        return row

    def _ensure(self, name: str, generation: int) -> None:
        """The repository's row, at ``generation``. A new row of a built index knows the
        repository empty; one made while the index is unbuilt knows nothing (dirty): a
        build may have passed it, and a write's ops applied to an empty row would list
        only what that write added."""
        self.db.execute(
            "INSERT INTO repositories (key, name, generation, size, dirty) VALUES (?, ?, ?, 0, ?) "
            "ON CONFLICT (key) DO UPDATE SET generation = excluded.generation",
            (repository_key(name), name, generation, int(not self.ready())),
        )

    def _intents(self, name: str) -> list[float]:
        sql = "SELECT started FROM intents WHERE repository = ?"
        return [row[0] for row in self.db.execute(sql, (name,))]

    def _recount(self, name: str) -> None:
        self.db.execute(
            "UPDATE repositories SET tag_count = "
            "(SELECT COUNT(*) FROM tags WHERE repository = ?) WHERE key = ?",
            (name, repository_key(name)),
        )

    # -- reads -------------------------------------------------------------------------

    def ready(self) -> bool:
        """Built completely, by a pyregistry that keeps the rows this one reads."""
        return self._meta("ready") == "1" and self._meta("schema") == SCHEMA_VERSION

    def present(self, name: str) -> bool:
        row = self._row(name)
        return bool(row and row[0])

    def read_tags(
        self, name: str, n: int | None, last: str | None, stale_before: float
    ) -> TagsAnswer:
        with Transaction(self.db):
            if not self.ready():
                return TagsAnswer("unready", [], 0)
            intents = self._intents(name)
            if intents:
                return TagsAnswer("busy" if max(intents) >= stale_before else "stale", [], 0)
            sql = "SELECT present, dirty, tag_count FROM repositories WHERE key = ?"
            row = self.db.execute(sql, (repository_key(name),)).fetchone()
            if row is not None and row[1]:
                return TagsAnswer("stale", [], 0)
            if row is None or not row[0]:
                return TagsAnswer("unknown", [], 0)  # not (yet) a repository it knows
            if n is not None and n <= 0:
                return TagsAnswer("ok", [], row[2])
            sql = "SELECT tag FROM tags WHERE repository = ? AND tag > ? ORDER BY tag LIMIT ?"
            limit = -1 if n is None else n
            rows = self.db.execute(sql, (name, _bytes(last or ""), limit))
            return TagsAnswer("ok", [bytes(r[0]).decode() for r in rows], row[2])

    def read_catalog(self, n: int | None, last: str | None) -> tuple[list[str], list[str]] | None:
        """(names known present, names to check in storage), after ``last``; None: unready."""
        with Transaction(self.db):
            if not self.ready():
                return None
            after = repository_key(last) if last else b""
            present = self.db.execute(
                "SELECT name FROM repositories WHERE present = 1 AND key > ? ORDER BY key LIMIT ?",
                (after, -1 if n is None else n),
            )
            names = [row[0] for row in present]
            pending = self.db.execute(
                "SELECT name FROM repositories WHERE present = 0 AND key > ?", (after,)
            )
            return names, [row[0] for row in pending]

    def manifest_rows(self, name: str) -> dict[str, ManifestRow]:
        return sizes.known(self.db, name)

    # -- writes ------------------------------------------------------------------------

    def begin(self, name: str, token: str, now: float) -> bool:
        """Record the intent ``token`` to write; whether the repository is known present."""
        with Transaction(self.db, immediate=True):
            self._ensure(name, self._tick())
            self.db.execute("INSERT INTO intents VALUES (?, ?, ?)", (token, name, now))
            row = self._row(name)
            return bool(row and row[0])

    def finish(
        self, name: str, token: str, ops: Sequence[Op] | None, exists: bool | None, now: float
    ) -> None:
        """End a write (``ops`` None: it failed, its effect is unknown); ``exists`` is
        storage's answer when it was asked."""
        with Transaction(self.db, immediate=True):
            mine = self.db.execute("DELETE FROM intents WHERE token = ?", (token,)).rowcount
            row = self._row(name)
            generation = self._tick()
            if row is None:
                self._ensure(name, generation)
                row = (0, 1, generation)  # unknown to this file: trust nothing
            clean = ops is not None and mine == 1 and not self._intents(name) and not row[1]
            if clean and ops:
                self._apply(name, ops, now)
            present = bool(row[0]) or bool(exists)
            if clean and not present and exists is False:
                self._drop(name)  # it never came to be
                return
            self.db.execute(
                "UPDATE repositories SET generation = ?, present = ?, dirty = ? WHERE key = ?",
                (generation, int(present), int(not clean), repository_key(name)),
            )

    def mark_dirty(self, names: Iterable[str]) -> None:
        """Writes to ``names`` happened that this database never heard of."""
        with Transaction(self.db, immediate=True):
            for name in names:
                self._ensure(name, self._tick())
                sql = "UPDATE repositories SET dirty = 1 WHERE key = ?"
                self.db.execute(sql, (repository_key(name),))

    def mark_present(self, names: Iterable[str]) -> None:
        with Transaction(self.db, immediate=True):
            for name in names:
                sql = "UPDATE repositories SET present = 1 WHERE key = ?"
                self.db.execute(sql, (repository_key(name),))

    def _drop(self, name: str, *, keep: bool = False) -> None:
        """Forget the repository's rows (``keep``: all but its own)."""
        for table in ("tags", "manifests"):
            self.db.execute(f"DELETE FROM {table} WHERE repository = ?", (name,))
        sizes.forget(self.db, name)
        if not keep:
            self.db.execute("DELETE FROM repositories WHERE key = ?", (repository_key(name),))

    def _apply(self, name: str, ops: Sequence[Op], now: float) -> None:
        grown = 0
        for op in ops:
            if op[0] == "tag":
                found = self.db.execute(
                    "SELECT media_type FROM manifests WHERE repository = ? AND digest = ?",
                    (name, op[2]),
                ).fetchone()
                self.db.execute(
                    "INSERT OR REPLACE INTO tags (repository, tag, digest, media_type, "
                    "pushed_at) VALUES (?, ?, ?, ?, ?)",
                    (name, _bytes(op[1]), op[2], found[0] if found else None, now),
                )
            elif op[0] == "untag":
                sql = "DELETE FROM tags WHERE repository = ? AND tag = ?"
                self.db.execute(sql, (name, _bytes(op[1])))
            elif op[0] == "manifest":
                self.db.execute(
                    "INSERT OR REPLACE INTO manifests VALUES (?, ?, ?, ?)",
                    (name, op[1], op[2], int(op[3])),
                )
                blobs = sizes.distinct([(op[1], int(op[3])), *decode_blobs(op[4])])
                grown += sizes.add_manifest(self.db, name, op[1], blobs)
            elif op[0] == "unmanifest":
                for table in ("tags", "manifests"):
                    sql = f"DELETE FROM {table} WHERE repository = ? AND digest = ?"
                    self.db.execute(sql, (name, op[1]))
                grown += sizes.remove_manifest(self.db, name, op[1])
        self._recount(name)
        if grown:
            sql = "UPDATE repositories SET size = COALESCE(size, 0) + ? WHERE key = ?"
            self.db.execute(sql, (grown, repository_key(name)))

    # -- repairs and rebuilds ------------------------------------------------------------

    def repair_start(self, name: str, stale_before: float) -> int | None:
        """Drop intents older than ``stale_before`` (their writer is gone); the generation
        to compare at commit, or None while a live write is in flight."""
        with Transaction(self.db, immediate=True):
            sql = "DELETE FROM intents WHERE repository = ? AND started < ?"
            if self.db.execute(sql, (name, stale_before)).rowcount:
                self._ensure(name, self._tick())  # their writes are unknown: until a scan
                sql = "UPDATE repositories SET dirty = 1 WHERE key = ?"  # commits, trust none
                self.db.execute(sql, (repository_key(name),))
            if self._intents(name):
                return None
            row = self._row(name)
            if row is None:
                self._ensure(name, self._tick())
                row = self._row(name)
            return row[2] if row else None

    def repair_commit(self, name: str, generation: int, scan: RepositoryScan) -> bool:
        """Replace ``name``'s tags and manifests with a scan, unless a write moved it since
        the start."""
        with Transaction(self.db, immediate=True):
            row = self._row(name)
            if row is None or row[2] != generation or self._intents(name):
                return False
            self._drop(name, keep=scan.exists)
            if not scan.exists:
                return True
            rows, manifests = scan.tags, scan.manifests
            self.db.executemany(
                "INSERT INTO tags (repository, tag, digest, media_type, pushed_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(name, _bytes(r.tag), r.digest, r.media_type, r.pushed_at) for r in rows],
            )
            self.db.executemany(
                "INSERT OR IGNORE INTO manifests (repository, digest, media_type, size) "
                "VALUES (?, ?, ?, ?)",
                [(name, m.digest, m.media_type, dict(m.blobs).get(m.digest)) for m in manifests],
            )
            size = sizes.replace(self.db, name, manifests)
            self._recount(name)
            sql = "UPDATE repositories SET present = 1, dirty = 0, size = ? WHERE key = ?"
            self.db.execute(sql, (size, repository_key(name)))
            return True

    def claim_build(self, token: str, now: float, stale_before: float, force: bool) -> bool:
        """Become the builder unless another live one is (``force``: regardless)."""
        with Transaction(self.db, immediate=True):
            builder, beat = self._meta("builder"), float(self._meta("heartbeat") or 0)
            if not force and (self.ready() or (builder and beat >= stale_before)):
                return False
            self._set_meta("builder", token)
            self._set_meta("heartbeat", str(now))
            self._set_meta("ready", "0")
            self._set_meta("schema", SCHEMA_VERSION)
            self._set_meta("watermark", str(self._tick()))
            for table in ("tags", "manifests", "manifest_blobs", "repository_blobs"):
                self.db.execute(f"DELETE FROM {table}")
            self.db.execute(
                "UPDATE repositories SET present = 0, dirty = 1, tag_count = 0, size = 0"
            )
            return True

    def claim_check(self, now: float, lease: float) -> bool:
        """Whether this process should compare the index with storage: no other one is
        (one that started more than ``lease`` seconds ago is gone)."""
        with Transaction(self.db, immediate=True):
            if now - float(self._meta("checking") or 0) < lease:
                return False
            self._set_meta("checking", str(now))
            return True

    def release_check(self) -> None:
        with Transaction(self.db, immediate=True):
            self._set_meta("checking", "0")

    def heartbeat(self, token: str, now: float) -> bool:
        """Still the builder? (another one took over: stop)."""
        with Transaction(self.db, immediate=True):
            if self._meta("builder") != token:
                return False
            self._set_meta("heartbeat", str(now))
            return True

    def finish_build(self, token: str) -> bool:
        """Mark the build complete; rows untouched since it began are not in storage."""
        with Transaction(self.db, immediate=True):
            if self._meta("builder") != token:
                return False
            self.db.execute(
                "DELETE FROM repositories WHERE present = 0 AND generation <= ? AND name NOT "
                "IN (SELECT repository FROM intents)",
                (int(self._meta("watermark") or 0),),
            )
            self._set_meta("builder", "")
            self._set_meta("ready", "1")
            return True
