"""The browse questions (``browse``) as SQL on the index's SQLite file.

Search and project filters run in SQL over the ``repositories`` table (one row per
repository, its tag count and size kept by every write), so a page costs one indexed range or one
pass over the names, never a pass over the tags; only sorting by last push reads each
matching repository's newest tag (one probe each of the ``tags_by_push`` index).
"""

from __future__ import annotations

import sqlite3

from pyregistry.index.backend import TagRow
from pyregistry.index.browse import RepositoryListing, RepositoryQuery, RepositoryRow
from pyregistry.index.sqlite_store import IndexStore, Transaction, repository_key

_LAST_PUSH = "(SELECT MAX(pushed_at) FROM tags t WHERE t.repository = r.name)"
_ORDER = {
    "name": ("r.key",),
    "tags": ("r.tag_count", "r.key"),
    "size": ("COALESCE(r.size, 0)", "r.key"),
    "pushed": (_LAST_PUSH, "r.key"),
}


def _ready(db: sqlite3.Connection) -> bool:
    return IndexStore(db).ready()


def list_repositories(db: sqlite3.Connection, query: RepositoryQuery) -> RepositoryListing | None:
    """One page of repositories known present; None while no complete build exists."""
    where = ["r.present = 1"]
    params: list[object] = []
    if query.name is not None:
        where.append("r.key = ?")
        params.append(repository_key(query.name))
    if query.contains:
        where.append("instr(r.name, ?) > 0")
        params.append(query.contains)
    if query.projects is not None:
        if not query.projects:
            return RepositoryListing([], 0)
        marks = ", ".join("?" for _ in query.projects)
        where.append(f"substr(r.name, 1, instr(r.name || '/', '/') - 1) IN ({marks})")
        params.extend(query.projects)
    condition = " AND ".join(where)
    direction = " DESC" if query.descending else ""
    order = ", ".join(part + direction for part in _ORDER.get(query.sort, _ORDER["name"]))
    with Transaction(db):
        if not _ready(db):
            return None
        total = db.execute(f"SELECT COUNT(*) FROM repositories r WHERE {condition}", params)
        count = int(total.fetchone()[0])
        rows = db.execute(
            f"SELECT r.name, r.tag_count, {_LAST_PUSH}, COALESCE(r.size, 0), r.dirty "
            f"FROM repositories r WHERE {condition} "
            f"ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        ).fetchall()
    listed = [RepositoryRow(r[0], int(r[1]), r[2], int(r[3]), bool(r[4])) for r in rows]
    return RepositoryListing(listed, count)


def tag_rows(db: sqlite3.Connection, name: str) -> list[TagRow] | None:
    """A repository's tags, newest push first; None when the index cannot say."""
    with Transaction(db):
        if not _ready(db):
            return None
        sql = "SELECT present, dirty FROM repositories WHERE key = ?"
        row = db.execute(sql, (repository_key(name),)).fetchone()
        if row is None or not row[0] or row[1]:
            return None
        found = db.execute(
            "SELECT tag, digest, media_type, pushed_at FROM tags WHERE repository = ? "
            "ORDER BY pushed_at DESC, tag",
            (name,),
        ).fetchall()
    return [TagRow(bytes(r[0]).decode(), r[1], r[2], r[3]) for r in found]
