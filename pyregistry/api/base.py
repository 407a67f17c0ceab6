"""``GET /v2/`` (end-1): the version check every client makes first."""

from __future__ import annotations

from starlette.responses import Response

from pyregistry.api.headers import JSON, make_response
from pyregistry.api.state import ApiCall


async def get_base(call: ApiCall) -> Response:
    body = b"{}"
    return make_response(
        200, [("Content-Type", JSON)], b"" if call.head else body, content_length=len(body)
    )
