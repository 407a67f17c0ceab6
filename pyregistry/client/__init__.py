"""A registry client: the distribution API from the client's side, async at its core
(:class:`AsyncRegistryClient`) with a blocking face (:class:`RegistryClient`).

It answers Basic and Bearer challenges (tokens cached per scope until they expire),
streams blobs both ways in constant memory, uploads chunked with resume, mounts across
repositories, follows pagination and verifies every digest it reads. The embedding's
helpers, the bench and the tests use it; the pull-through cache and replication will.
:mod:`pyregistry.client.content` builds what to push.
"""

from __future__ import annotations

from pyregistry.client.aio import AsyncRegistryClient
from pyregistry.client.credential_helper import CredentialHelper
from pyregistry.client.errors import (
    DeniedError,
    DigestMismatchError,
    ErrorDetail,
    NotFoundError,
    RegistryClientError,
    RegistryResponseError,
    TokenError,
    TooManyRequestsError,
    UnauthorizedError,
    UploadRangeError,
)
from pyregistry.client.manifests import Manifest
from pyregistry.client.media import Descriptor
from pyregistry.client.sources import BlobSource, RepeatedBlob
from pyregistry.client.sync import RegistryClient

__all__ = [
    "AsyncRegistryClient",
    "BlobSource",
    "CredentialHelper",
    "DeniedError",
    "Descriptor",
    "DigestMismatchError",
    "ErrorDetail",
    "Manifest",
    "NotFoundError",
    "RegistryClient",
    "RegistryClientError",
    "RegistryResponseError",
    "RepeatedBlob",
    "TokenError",
    "TooManyRequestsError",
    "UnauthorizedError",
    "UploadRangeError",
]
