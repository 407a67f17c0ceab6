"""``GET /v2/<name>/tags/list`` (end-8a/8b), paginated with ``n``, ``last`` and ``Link``."""

from __future__ import annotations

import json

from starlette.responses import Response

from pyregistry.api.headers import JSON, make_response
from pyregistry.api.pagination import last_entry, page_size
from pyregistry.api.state import ApiCall
from pyregistry.storage.errors import NameUnknown


async def list_tags(call: ApiCall) -> Response:
    n = page_size(call.request)
    last = last_entry(call.request)
    repo = call.repository
    headers = [("Content-Type", JSON)]
    if n == 0:
        # The spec wants an empty list without Link; an unknown repository is still 404.
        if not await repo.exists():
            raise NameUnknown(detail={"name": repo.name})
        tags: list[str] = []
    elif n is None:
        tags = await repo.tags.list(None, last)
    else:
        # One more than asked tells whether another page follows.
        tags = await repo.tags.list(n + 1, last)
        if len(tags) > n:
            tags = tags[:n]
            headers.append(
                ("Link", call.state.urls.next_link(f"{repo.name}/tags/list", n, tags[-1]))
            )
    body = json.dumps({"name": repo.name, "tags": tags}).encode()
    return make_response(200, headers, b"" if call.head else body, content_length=len(body))
