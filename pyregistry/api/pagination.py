"""The ``n``/``last`` query parameters shared by the tag list and the catalog."""

from __future__ import annotations

import re

from starlette.requests import Request

from pyregistry.api.errors import PaginationNumberInvalid

_DECIMAL = re.compile(r"[0-9]+")


def page_size(request: Request, maximum: int | None = None) -> int | None:
    """``n`` as an int (None when absent); PAGINATION_NUMBER_INVALID when it is not a
    non-negative integer or exceeds ``maximum``."""
    raw = request.query_params.get("n")
    if raw is None or raw == "":
        return None
    if not _DECIMAL.fullmatch(raw):  # int() would also take " 5", "1_0" and non-ASCII digits
        raise PaginationNumberInvalid(detail={"n": raw})
    n = int(raw)
    if n < 0 or (maximum is not None and n > maximum):
        raise PaginationNumberInvalid(detail={"n": raw, "maximum": maximum})
    return n


def last_entry(request: Request) -> str | None:
    return request.query_params.get("last") or None
