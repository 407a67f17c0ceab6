"""Driver paths for every registry object: exactly distribution's layout, built in one place.

An upload session's resumable hash states (``_uploads/<id>/hashstates/<alg>/<offset>``)
are distribution's, in its format: either registry takes up the other's running hash
(``hash_states.py``).

Every function validates its inputs (repository name, tag, digest, upload id) before it
builds anything, so ``..``, encoded slashes and friends raise a typed registry error
before any driver call can see them.
"""

from __future__ import annotations

import re

from pyregistry.storage.digest import ALGORITHMS, Digest
from pyregistry.storage.errors import DigestInvalid
from pyregistry.storage.names import check_name, check_tag, check_upload_id

ROOT = "/docker/registry/v2"
#: pyregistry's own objects (leases, replication queues, the audit log, mirror pull times),
#: beside distribution's tree: distribution only ever
#: reads and walks under ``ROOT``, so its catalog and garbage-collect never see them.
PYREGISTRY_ROOT = "/pyregistry"
LEASES_ROOT = f"{PYREGISTRY_ROOT}/leases"
BLOBS_ROOT = f"{ROOT}/blobs"
REPOSITORIES_ROOT = f"{ROOT}/repositories"

_HEX = re.compile(r"[a-f0-9]+")
_LEASE_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")


def check_digest(digest: Digest) -> Digest:
    """Re-check a Digest (it may have been built directly, bypassing ``Digest.parse``)."""
    if not isinstance(digest, Digest):
        raise DigestInvalid(f"invalid digest: {digest!r}", detail={"digest": str(digest)})
    length = ALGORITHMS.get(digest.algorithm)
    if length is None or len(digest.hex) != length or not _HEX.fullmatch(digest.hex):
        raise DigestInvalid(f"invalid digest: {digest}", detail={"digest": str(digest)})
    return digest


def _digest_dirs(digest: Digest) -> str:
    check_digest(digest)
    return f"{digest.algorithm}/{digest.hex}"


# --- global blob store -------------------------------------------------------------------


def blob_path(digest: Digest) -> str:
    """The directory of a blob: ``blobs/<alg>/<first 2 hex>/<hex>``."""
    check_digest(digest)
    return f"{BLOBS_ROOT}/{digest.algorithm}/{digest.hex[:2]}/{digest.hex}"


def blob_data_path(digest: Digest) -> str:
    return f"{blob_path(digest)}/data"


# --- repositories ------------------------------------------------------------------------


def repository_path(name: str) -> str:
    return f"{REPOSITORIES_ROOT}/{check_name(name)}"


def layers_path(name: str) -> str:
    return f"{repository_path(name)}/_layers"


def layer_link_path(name: str, digest: Digest) -> str:
    return f"{layers_path(name)}/{_digest_dirs(digest)}/link"


def manifests_path(name: str) -> str:
    return f"{repository_path(name)}/_manifests"


def manifest_revisions_path(name: str) -> str:
    return f"{manifests_path(name)}/revisions"


def manifest_revision_link_path(name: str, digest: Digest) -> str:
    return f"{manifest_revisions_path(name)}/{_digest_dirs(digest)}/link"


def tags_path(name: str) -> str:
    return f"{manifests_path(name)}/tags"


def tag_path(name: str, tag: str) -> str:
    return f"{tags_path(name)}/{check_tag(tag)}"


def tag_current_link_path(name: str, tag: str) -> str:
    return f"{tag_path(name, tag)}/current/link"


def tag_index_link_path(name: str, tag: str, digest: Digest) -> str:
    return f"{tag_path(name, tag)}/index/{_digest_dirs(digest)}/link"


def referrers_path(name: str, subject: Digest) -> str:
    """Our addition: one link per manifest whose ``subject`` is ``subject``."""
    return f"{manifests_path(name)}/referrers/{_digest_dirs(subject)}"


def referrer_entry_path(name: str, subject: Digest, digest: Digest) -> str:
    return f"{referrers_path(name, subject)}/{_digest_dirs(digest)}"


def referrer_link_path(name: str, subject: Digest, digest: Digest) -> str:
    return f"{referrer_entry_path(name, subject, digest)}/link"


# --- upload sessions ---------------------------------------------------------------------


def uploads_path(name: str) -> str:
    return f"{repository_path(name)}/_uploads"


def upload_path(name: str, upload_id: str) -> str:
    return f"{uploads_path(name)}/{check_upload_id(upload_id)}"


def upload_data_path(name: str, upload_id: str) -> str:
    return f"{upload_path(name, upload_id)}/data"


def upload_started_at_path(name: str, upload_id: str) -> str:
    return f"{upload_path(name, upload_id)}/startedat"


def upload_hash_states_path(name: str, upload_id: str, algorithm: str) -> str:
    """The folder of a session's saved hash states of ``algorithm``, one per offset."""
    if algorithm not in ALGORITHMS:
        raise DigestInvalid(f"unsupported digest algorithm {algorithm!r}")
    return f"{upload_path(name, upload_id)}/hashstates/{algorithm}"


def upload_hash_state_path(name: str, upload_id: str, algorithm: str, offset: int) -> str:
    """The hash state after the session's first ``offset`` bytes."""
    if offset < 0:
        raise ValueError(f"negative offset {offset}")
    return f"{upload_hash_states_path(name, upload_id, algorithm)}/{offset}"


def upload_lock_path(name: str, upload_id: str) -> str:
    """Our addition: the lease (or lock file) that makes one request at a time write the
    session. Inside the session, so it goes when the session does; distribution ignores
    files it does not know there."""
    return f"{upload_path(name, upload_id)}/lock"


# --- pyregistry's own objects ------------------------------------------------------------


def lease_path(lease: str) -> str:
    """The record of a background job's lease (``[a-z0-9]`` words joined by ``._-``)."""
    if not _LEASE_NAME.fullmatch(lease):
        raise ValueError(f"invalid lease name: {lease!r}")
    return f"{LEASES_ROOT}/{lease}"
