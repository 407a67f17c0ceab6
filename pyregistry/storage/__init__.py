"""Registry semantics over any storage driver, on exactly distribution's on-disk layout.

The HTTP layer and every capability are typed against the Protocols of
:mod:`pyregistry.storage.interfaces` (``Namespace``, ``RepositoryService``, ...); the
concrete classes are constructed once, at start-up (see ``docs/storage-api.md``).
"""

from pyregistry.storage.blob_read import BlobRead
from pyregistry.storage.blobs import BlobStore, LinkedBlobStore
from pyregistry.storage.cache import BlobDescriptorCache, InMemoryBlobDescriptorCache
from pyregistry.storage.descriptors import BlobDescriptor, PutManifestResult, StoredManifest
from pyregistry.storage.digest import Digest
from pyregistry.storage.errors import (
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    Denied,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestTooLarge,
    ManifestUnknown,
    NameInvalid,
    NameUnknown,
    RangeInvalid,
    RegistryError,
    SizeInvalid,
    StorageError,
    TagInvalid,
    Unsupported,
    UnsupportedDigestAlgorithm,
)
from pyregistry.storage.interfaces import (
    BlobEnumerator,
    BlobService,
    BlobUpload,
    GlobalBlobStore,
    ManifestEnumerator,
    ManifestService,
    Namespace,
    RepositoryEnumerator,
    RepositoryService,
    TagService,
    UploadService,
)
from pyregistry.storage.manifests import ManifestStore
from pyregistry.storage.policy import ManifestPolicy
from pyregistry.storage.registry import Registry, Repository
from pyregistry.storage.tags import TagStore
from pyregistry.storage.uploads import UploadSession, UploadStore

__all__ = [
    "BlobRead",
    "BlobEnumerator",
    "BlobService",
    "BlobUpload",
    "GlobalBlobStore",
    "ManifestEnumerator",
    "ManifestPolicy",
    "ManifestService",
    "Namespace",
    "RepositoryEnumerator",
    "RepositoryService",
    "TagService",
    "UploadService",
    "BlobDescriptor",
    "BlobDescriptorCache",
    "BlobStore",
    "BlobUnknown",
    "BlobUploadInvalid",
    "BlobUploadUnknown",
    "Denied",
    "Digest",
    "DigestInvalid",
    "InMemoryBlobDescriptorCache",
    "LinkedBlobStore",
    "ManifestBlobUnknown",
    "ManifestInvalid",
    "ManifestStore",
    "ManifestTooLarge",
    "ManifestUnknown",
    "NameInvalid",
    "NameUnknown",
    "PutManifestResult",
    "RangeInvalid",
    "Registry",
    "RegistryError",
    "Repository",
    "SizeInvalid",
    "StorageError",
    "StoredManifest",
    "TagInvalid",
    "TagStore",
    "UploadSession",
    "UploadStore",
    "Unsupported",
    "UnsupportedDigestAlgorithm",
]
