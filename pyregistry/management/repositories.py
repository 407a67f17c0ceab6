"""Repositories and their tags, as people browse them: listed, searched, sorted and paged
from the metadata index (``pyregistry.index.browse``) with their tag counts and sizes,
and tag details from each manifest (read once per digest, ``facts``).

Without an index (in-memory storage, ``index.enabled: false``) or while it is being
built, the same answers come from the storage layer's listings, without sizes: fine for
a small registry, slow for a large one, which is what the index is for.
"""

from __future__ import annotations

import builtins

from pyregistry.auth.rules import project_of
from pyregistry.index.backend import TagRow
from pyregistry.index.browse import SORT_KEYS, RepositoryListing, RepositoryQuery, order_rows
from pyregistry.index.browse import RepositoryRow as Row
from pyregistry.index.service import IndexService
from pyregistry.management.authority import Authority
from pyregistry.management.errors import Invalid, NotFound
from pyregistry.management.facts import FactsCache
from pyregistry.management.principal import Principal
from pyregistry.management.views import Page, RepositorySummary, TagSummary
from pyregistry.storage.errors import NameUnknown, RegistryError
from pyregistry.storage.interfaces import Namespace

MAX_PAGE = 500


def check_page(offset: int, limit: int) -> None:
    if offset < 0:
        raise Invalid("offset must be 0 or more")
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be between 1 and {MAX_PAGE}")


class Repositories:
    def __init__(
        self,
        namespace: Namespace,
        index: IndexService | None,
        authority: Authority,
        facts: FactsCache,
    ) -> None:
        self.namespace = namespace
        self.index = index
        self.authority = authority
        self.facts = facts

    async def list(
        self,
        who: Principal,
        *,
        search: str | None = None,
        project: str | None = None,
        sort: str = "name",
        descending: bool = False,
        offset: int = 0,
        limit: int = 50,
    ) -> Page[RepositorySummary]:
        """The repositories ``who`` may see whose name contains ``search``."""
        check_page(offset, limit)
        if sort not in SORT_KEYS:
            raise Invalid(f"sort must be one of {', '.join(SORT_KEYS)}")
        projects = self.authority.visible_projects(who)
        if project is not None:
            projects = [project] if projects is None or project in projects else []
        query = RepositoryQuery(
            contains=(search or "").strip().lower() or None,
            projects=projects,
            sort=sort,
            descending=descending,
            offset=offset,
            limit=limit,
        )
        listing = await self.index.list_repositories(query) if self.index else None
        if listing is None:
            listing = await self._from_storage(query)
        items = [_summary(row) for row in listing.rows]
        return Page(items, listing.total, offset, limit)

    async def _from_storage(self, query: RepositoryQuery) -> RepositoryListing:
        names = [n for n in await self.namespace.catalog() if query.matches(n)]
        rows = []
        for name in names:
            try:
                count = len(await self.namespace.repository(name).tags.list())
            except NameUnknown:
                count = 0
            rows.append(Row(name, count, None))
        return order_rows(rows, query)

    async def get(self, who: Principal, name: str) -> RepositorySummary:
        self.authority.require_pull(who, name)
        if self.index is not None:
            listing = await self.index.list_repositories(RepositoryQuery(name=name, limit=1))
            if listing is not None and listing.rows:
                return _summary(listing.rows[0])
        rows = await self._tag_rows(name)
        pushed = max((r.pushed_at for r in rows if r.pushed_at is not None), default=None)
        return RepositorySummary(name, project_of(name), len(rows), None, pushed)

    async def _tag_rows(self, name: str) -> builtins.list[TagRow]:
        rows = await self.index.tag_rows(name) if self.index else None
        if rows is not None:
            return rows
        repository = self.namespace.repository(name)
        try:
            tags = await repository.tags.list()
        except NameUnknown as exc:
            raise NotFound(f"repository {name!r} not found") from exc
        except RegistryError as exc:
            raise Invalid(str(exc)) from exc
        found = []
        for tag in tags:
            try:
                found.append(TagRow(tag, str(await repository.tags.get(tag)), None, None))
            except RegistryError:
                continue  # untagged meanwhile
        return found

    async def tags(
        self, who: Principal, name: str, *, offset: int = 0, limit: int = 50
    ) -> Page[TagSummary]:
        """A repository's tags, newest push first, with digest, size and platforms."""
        check_page(offset, limit)
        self.authority.require_pull(who, name)
        rows = await self._tag_rows(name)
        repository = self.namespace.repository(name)
        items = []
        for row in rows[offset : offset + limit]:
            try:
                facts = await self.facts.get(repository, row.digest)
            except (RegistryError, ValueError):
                items.append(
                    TagSummary(row.tag, row.digest, row.media_type, None, [], row.pushed_at)
                )
                continue
            items.append(
                TagSummary(
                    row.tag,
                    row.digest,
                    row.media_type or facts.media_type,
                    facts.total_size,
                    facts.platforms,
                    row.pushed_at,
                )
            )
        return Page(items, len(rows), offset, limit)


def _summary(row: Row) -> RepositorySummary:
    return RepositorySummary(row.name, project_of(row.name), row.tag_count, row.size, row.pushed_at)
