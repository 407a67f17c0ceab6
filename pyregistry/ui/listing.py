"""Search, sort and page parameters of a list page, read from its query string and turned
back into links (a column header that sorts by it, the next and previous pages).

Bad values never fail a page: an unknown sort is the default one, a page number that is
not one is the first page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from starlette.requests import Request

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
MAX_SEARCH = 200


@dataclass(frozen=True)
class ListQuery:
    search: str
    sort: str
    descending: bool
    page: int
    size: int = PAGE_SIZE
    #: The list's own page size (left out of links when ``size`` is that).
    default_size: int = PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def params(self, **changes: Any) -> dict[str, Any]:
        """The query string of this list with ``changes`` (for links)."""
        query = replace(self, **changes)
        return {
            "q": query.search,
            "sort": query.sort,
            "order": "desc" if query.descending else "asc",
            "page": query.page if query.page > 1 else None,
            "size": query.size if query.size != query.default_size else None,
        }

    def sort_link(self, key: str) -> dict[str, Any]:
        """Sorting by ``key``: ascending first, the other way when it is already sorted so."""
        descending = not self.descending if key == self.sort else False
        return self.params(sort=key, descending=descending, page=1)

    def aria_sort(self, key: str) -> str | None:
        if key != self.sort:
            return None
        return "descending" if self.descending else "ascending"

    def pages(self, total: int | None) -> int:
        if not total:
            return 1
        return (total + self.size - 1) // self.size


def _number(text: str | None, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(int(text or default), high))
    except ValueError:
        return default


def list_query(
    request: Request,
    sorts: Sequence[str],
    default: str,
    *,
    descending: bool = False,
    size: int = PAGE_SIZE,
) -> ListQuery:
    """The list's parameters: ``q``, ``sort``, ``order`` (``asc``/``desc``), ``page`` and
    ``size`` (1 to 100 a page)."""
    params = request.query_params
    sort = params.get("sort", default)
    if sort not in sorts:
        sort = default
    order = params.get("order")
    desc = descending if order not in ("asc", "desc") else order == "desc"
    page = _number(params.get("page"), 1, 1, 10**6)
    search = params.get("q", "").strip()[:MAX_SEARCH]
    chosen = _number(params.get("size"), size, 1, MAX_PAGE_SIZE)
    return ListQuery(search, sort, desc, page, chosen, size)
