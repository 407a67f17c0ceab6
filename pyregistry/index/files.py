"""Where the SQLite index lives on disk, and noticing when it was deleted or replaced.

The index directory holds ``current`` (the name of the live database file) and that file,
``index-<random>.sqlite`` (plus SQLite's ``-wal`` and ``-shm``). A missing or corrupt
database is never recreated under the same name: processes still holding the old one
open would share its ``-wal``/``-shm`` with the new one and corrupt both. Instead a fresh
file gets a fresh name and ``current`` is switched to it atomically; every process checks
``current`` and its database (two ``stat`` calls) before using its connections.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sqlite3
import time

from pyregistry.index.sqlite_store import IndexStore, connect

log = logging.getLogger("pyregistry.index")

POINTER = "current"
#: Files of replaced databases are removed once this old (no process uses them by then).
ORPHAN_AGE = 600.0
#: Tries to open the current database while other processes keep replacing it.
MAX_OPEN_ATTEMPTS = 10
#: How long a transaction waits for another process's write transaction.
BUSY_MS = 5000


def _signature(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_mtime_ns


def read_pointer(directory: str) -> str | None:
    """The database file ``current`` names (None: no usable pointer)."""
    try:
        with open(os.path.join(directory, POINTER), encoding="utf-8") as handle:
            name = handle.read().strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not name.startswith("index-") or "/" in name or os.sep in name:
        return None
    return name


def create_database(directory: str) -> str:
    """A fresh, empty (not ready) database, made current; returns its file name."""
    os.makedirs(directory, exist_ok=True)
    name = f"index-{secrets.token_hex(8)}.sqlite"
    connect(os.path.join(directory, name), BUSY_MS, create=True).close()
    pointer = os.path.join(directory, POINTER)
    temporary = f"{pointer}.{secrets.token_hex(4)}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(name + "\n")
    os.replace(temporary, pointer)
    log.info("metadata index: new database %s", os.path.join(directory, name))
    _remove_orphans(directory, name)
    return name


def _remove_orphans(directory: str, keep: str) -> None:
    cutoff = time.time() - ORPHAN_AGE
    for entry in os.listdir(directory):
        if entry.startswith(keep) or not entry.startswith("index-"):
            continue
        path = os.path.join(directory, entry)
        with contextlib.suppress(OSError):
            if os.stat(path).st_mtime < cutoff:
                os.unlink(path)


class IndexFile:
    """This process's connection to the current database, reopened whenever ``current``
    or the database file changes. Used from one thread at a time."""

    def __init__(self, directory: str, busy_ms: int = BUSY_MS, *, create: bool = True) -> None:
        self.directory = directory
        self.busy_ms = busy_ms
        #: Whether a missing or unreadable database may be replaced from here.
        self.create = create
        self.name: str | None = None
        self.store: IndexStore | None = None
        self._pointer: tuple[int, int, int] | None = None

    def _pointer_signature(self) -> tuple[int, int, int] | None:
        return _signature(os.path.join(self.directory, POINTER))

    def valid(self) -> bool:
        """Whether the open connection still is the current database's."""
        if self.name is None:
            return False
        if not os.path.exists(os.path.join(self.directory, self.name)):
            return False
        return self._pointer_signature() == self._pointer

    def open(self, *, replace: bool = False) -> None:
        """(Re)open the current database; a missing, unreadable or ``replace``d one is
        replaced by a fresh one. Raises OSError / sqlite3.Error when that fails too.

        The pointer is stat'ed before it is read and again after connecting: if another
        process switched it meanwhile, this one follows rather than keep a stale file."""
        self.close()
        for _ in range(MAX_OPEN_ATTEMPTS):
            if replace and not self.create:
                raise OSError(f"no usable metadata index in {self.directory}")
            if replace:
                create_database(self.directory)
                replace = False
            before = self._pointer_signature()
            name = read_pointer(self.directory)
            if name is None or not os.path.exists(os.path.join(self.directory, name)):
                replace = True
                continue
            try:
                store = self._connect(name)
            except sqlite3.Error as exc:
                if not self.create:
                    raise
                log.warning("metadata index %s is unreadable (%s): replacing it", name, exc)
                replace = True
                continue
            if self._pointer_signature() != before:
                store.close()  # switched while connecting: follow the new pointer
                continue
            self.store, self.name, self._pointer = store, name, before
            return
        raise OSError(f"the metadata index pointer in {self.directory} keeps changing")

    def _connect(self, name: str) -> IndexStore:
        store = IndexStore(connect(os.path.join(self.directory, name), self.busy_ms))
        try:
            store.ready()  # a file that is not a database fails here
        except sqlite3.Error:
            store.close()
            raise
        return store

    def close(self) -> None:
        if self.store is not None:
            with contextlib.suppress(sqlite3.Error):
                self.store.close()
        self.store = None
        self.name = None
        self._pointer = None
