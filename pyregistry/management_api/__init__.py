"""The JSON management API (``/api/v1`` by default; ``docs/management-api.md``): an HTTP
front end to the service layer in :mod:`pyregistry.management`, with an OpenAPI
document generated from its route table (``<prefix>/openapi.json``) and optional CORS.

``create_app`` mounts it when ``management.enabled`` (:class:`ManagementFeature`).
"""

from __future__ import annotations

from pyregistry.management_api.feature import ManagementFeature, api_prefix

__all__ = ["ManagementFeature", "api_prefix"]
