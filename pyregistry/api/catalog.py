"""``GET /v2/_catalog``: repository names in lexical order, paginated like distribution
(100 per page by default, ``n`` at most ``catalog.maxentries``, ``Link`` to the next page)."""

from __future__ import annotations

import json

from starlette.responses import Response

from pyregistry.api.headers import JSON, make_response
from pyregistry.api.pagination import last_entry, page_size
from pyregistry.api.state import DEFAULT_CATALOG_PAGE, ApiCall


async def get_catalog(call: ApiCall) -> Response:
    maximum = call.state.catalog_max_entries
    n = page_size(call.request, maximum)
    if n is None:
        n = min(DEFAULT_CATALOG_PAGE, maximum)
    last = last_entry(call.request)
    headers = [("Content-Type", JSON)]
    repositories: list[str] = []
    if n > 0:
        repositories = await call.state.registry.catalog(n + 1, last)
        if len(repositories) > n:
            repositories = repositories[:n]
            headers.append(("Link", call.state.urls.next_link("_catalog", n, repositories[-1])))
    body = json.dumps({"repositories": repositories}).encode()
    return make_response(200, headers, b"" if call.head else body, content_length=len(body))
