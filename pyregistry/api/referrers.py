"""``GET /v2/<name>/referrers/<digest>`` (end-12a/12b): the manifests whose ``subject`` is
``<digest>``, as an OCI image index; filtered by ``artifactType`` when asked."""

from __future__ import annotations

import json

from starlette.responses import Response

from pyregistry.api.headers import OCI_FILTERS_APPLIED, make_response
from pyregistry.api.state import ApiCall
from pyregistry.storage import Digest
from pyregistry.storage.errors import NameUnknown

INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"


async def get_referrers(call: ApiCall) -> Response:
    subject = Digest.parse(call.route.reference or "")
    artifact_type = call.request.query_params.get("artifactType") or None
    try:
        descriptors = await call.repository.referrers(subject, artifact_type)
    except NameUnknown:
        # A registry with the referrers API must not answer 404 here.
        descriptors = []
    headers = [("Content-Type", INDEX_MEDIA_TYPE)]
    if artifact_type is not None:
        headers.append((OCI_FILTERS_APPLIED, "artifactType"))
    index = {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": descriptors}
    body = json.dumps(index).encode()
    return make_response(200, headers, b"" if call.head else body, content_length=len(body))
