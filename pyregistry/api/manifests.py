"""Manifests by tag or digest (end-3, end-7, end-9): GET/HEAD, PUT (with ``?tag=``), DELETE."""

from __future__ import annotations

from starlette.responses import Response

from pyregistry.api.blobs import etag_matches
from pyregistry.api.bodies import read_bounded
from pyregistry.api.headers import CONTENT_DIGEST, OCI_SUBJECT, OCI_TAG, make_response
from pyregistry.api.negotiation import manifest_content_type
from pyregistry.api.state import ApiCall
from pyregistry.storage import Digest
from pyregistry.storage.names import check_tag


def parse_reference(reference: str) -> tuple[Digest | None, str | None]:
    """A reference is a digest when it has a colon (DIGEST_INVALID if malformed), else a
    tag (TAG_INVALID if malformed)."""
    if ":" in reference:
        return Digest.parse(reference), None
    return None, check_tag(reference)


async def get_manifest(call: ApiCall) -> Response:
    digest, tag = parse_reference(call.route.reference or "")
    repo = call.repository
    if tag is not None:
        digest = await repo.tags.get(tag)
    assert digest is not None
    manifest = await repo.manifests.get(digest, tag=tag)
    dgst = str(manifest.digest)
    headers = [(CONTENT_DIGEST, dgst), ("ETag", f'"{dgst}"')]
    if etag_matches(call.request.headers.get("if-none-match"), dgst):
        return make_response(304, headers)
    content_type = manifest_content_type(call.request, manifest.media_type)
    headers.insert(0, ("Content-Type", content_type))
    body = b"" if call.head else manifest.content
    return make_response(200, headers, body, content_length=len(manifest.content))


async def put_manifest(call: ApiCall) -> Response:
    request = call.request
    ref_digest, ref_tag = parse_reference(call.route.reference or "")
    query_tags = [check_tag(t) for t in request.query_params.getlist("tag")]
    tags = list(dict.fromkeys(([ref_tag] if ref_tag else []) + query_tags))

    content = await read_bounded(request, call.state.max_manifest_size)
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip() or None
    # Every rule (digest, size, media type, references, policy) is checked behind put.
    result = await call.repository.manifests.put(
        content, content_type, digest=ref_digest, tags=tags
    )

    dgst = str(result.digest)
    headers = [
        ("Location", call.state.urls.manifest(request, call.name, dgst)),
        (CONTENT_DIGEST, dgst),
    ]
    if result.subject is not None:
        headers.append((OCI_SUBJECT, str(result.subject)))
    headers.extend((OCI_TAG, tag) for tag in query_tags)
    return make_response(201, headers)


async def delete_manifest(call: ApiCall) -> Response:
    digest, tag = parse_reference(call.route.reference or "")
    repo = call.repository
    if tag is not None:
        await repo.tags.untag(tag)
    else:
        assert digest is not None
        await repo.manifests.delete(digest)
    return make_response(202, [])
