"""Repository sizes in the SQLite index: what each manifest references, counted per blob.

A repository's size is the bytes of the distinct blobs its manifests (all of them, tagged
or not: what the repository stores) reference, the manifests themselves included; a blob
two of its manifests share counts once. ``manifest_blobs`` remembers each manifest's
blobs, so a delete subtracts exactly what its push added; ``repository_blobs`` counts how
many of a repository's manifests reference each blob, so a write costs a few rows, never
a pass over the repository. The functions run inside the caller's transaction and return
by how many bytes the repository's size moved.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Sequence

from pyregistry.index.backend import ManifestRow

SCHEMA = """
CREATE TABLE IF NOT EXISTS manifest_blobs (
    repository TEXT NOT NULL, manifest TEXT NOT NULL, blob TEXT NOT NULL,
    size INTEGER NOT NULL, PRIMARY KEY (repository, manifest, blob)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS repository_blobs (
    repository TEXT NOT NULL, blob TEXT NOT NULL, size INTEGER NOT NULL,
    refs INTEGER NOT NULL, PRIMARY KEY (repository, blob)) WITHOUT ROWID;
"""


def distinct(blobs: Sequence[tuple[str, int]]) -> dict[str, int]:
    """Each digest once, with the first size given for it."""
    found: dict[str, int] = {}
    for digest, size in blobs:
        found.setdefault(digest, size)
    return found


def add_manifest(db: sqlite3.Connection, name: str, manifest: str, blobs: dict[str, int]) -> int:
    """Count ``manifest``'s blobs in (nothing if it is counted already: pushed again)."""
    sql = "SELECT 1 FROM manifest_blobs WHERE repository = ? AND manifest = ? LIMIT 1"
    if db.execute(sql, (name, manifest)).fetchone() is not None:
        return 0
    db.executemany(
        "INSERT INTO manifest_blobs VALUES (?, ?, ?, ?)",
        [(name, manifest, blob, size) for blob, size in blobs.items()],
    )
    grown = 0
    for blob, size in blobs.items():
        updated = db.execute(
            "UPDATE repository_blobs SET refs = refs + 1 WHERE repository = ? AND blob = ?",
            (name, blob),
        ).rowcount
        if not updated:
            db.execute("INSERT INTO repository_blobs VALUES (?, ?, ?, 1)", (name, blob, size))
            grown += size
    return grown


def remove_manifest(db: sqlite3.Connection, name: str, manifest: str) -> int:
    """Count ``manifest``'s blobs out; a blob no other manifest references leaves."""
    sql = "SELECT blob FROM manifest_blobs WHERE repository = ? AND manifest = ?"
    blobs = [row[0] for row in db.execute(sql, (name, manifest))]
    sql = "DELETE FROM manifest_blobs WHERE repository = ? AND manifest = ?"
    db.execute(sql, (name, manifest))
    shrunk = 0
    for blob in blobs:
        sql = "SELECT refs, size FROM repository_blobs WHERE repository = ? AND blob = ?"
        row = db.execute(sql, (name, blob)).fetchone()
        if row is None:
            continue
        if row[0] > 1:
            sql = "UPDATE repository_blobs SET refs = refs - 1 WHERE repository = ? AND blob = ?"
        else:
            sql = "DELETE FROM repository_blobs WHERE repository = ? AND blob = ?"
            shrunk += int(row[1])
        db.execute(sql, (name, blob))
    return -shrunk


def replace(db: sqlite3.Connection, name: str, manifests: Sequence[ManifestRow]) -> int:
    """Count exactly ``manifests`` (a scan of storage); the repository's whole size."""
    forget(db, name)
    refs: Counter[str] = Counter()
    sizes: dict[str, int] = {}
    rows: list[tuple[str, str, str, int]] = []
    for manifest in manifests:
        blobs = distinct(manifest.blobs)
        rows.extend((name, manifest.digest, blob, size) for blob, size in blobs.items())
        refs.update(blobs.keys())
        for blob, size in blobs.items():
            sizes.setdefault(blob, size)
    db.executemany("INSERT OR IGNORE INTO manifest_blobs VALUES (?, ?, ?, ?)", rows)
    db.executemany(
        "INSERT INTO repository_blobs VALUES (?, ?, ?, ?)",
        [(name, blob, sizes[blob], count) for blob, count in refs.items()],
    )
    return sum(sizes.values())


def forget(db: sqlite3.Connection, name: str) -> None:
    for table in ("manifest_blobs", "repository_blobs"):
        db.execute(f"DELETE FROM {table} WHERE repository = ?", (name,))


def known(db: sqlite3.Connection, name: str) -> dict[str, ManifestRow]:
    """The manifests of ``name`` whose blobs are counted, with their media types."""
    found: dict[str, list[tuple[str, int]]] = {}
    sql = "SELECT manifest, blob, size FROM manifest_blobs WHERE repository = ?"
    for manifest, blob, size in db.execute(sql, (name,)):
        found.setdefault(manifest, []).append((blob, int(size)))
    sql = "SELECT digest, media_type FROM manifests WHERE repository = ?"
    types = dict(db.execute(sql, (name,)).fetchall())
    return {
        digest: ManifestRow(digest, types.get(digest) or "", tuple(blobs))
        for digest, blobs in found.items()
    }
