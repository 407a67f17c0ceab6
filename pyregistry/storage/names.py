"""Repository names, tags and upload ids: the grammar the spec gives, enforced up front."""

from __future__ import annotations

import re

from pyregistry.storage.errors import BlobUploadUnknown, NameInvalid, TagInvalid

# Every pattern is applied with ``fullmatch``: ``re.match`` with ``$`` also accepts a value
# followed by a newline, which would then reach storage paths and headers.
# distribution/reference: path components of lower-case alphanumerics with separators.
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
NAME_PATTERN = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
TAG_PATTERN = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
UPLOAD_ID_PATTERN = re.compile(r"[a-zA-Z0-9_-]{1,128}")
MAX_NAME_LENGTH = 255


#: Names already found valid (every path builder checks the name again); dropped when full.
_VALID_NAMES: set[str] = set()
_VALID_NAMES_MAX = 4096


def check_name(name: str) -> str:
    if name in _VALID_NAMES:
        return name
    if not name or len(name) > MAX_NAME_LENGTH or not NAME_PATTERN.fullmatch(name):
        raise NameInvalid(f"invalid repository name: {name!r}", detail={"name": name})
    if len(_VALID_NAMES) >= _VALID_NAMES_MAX:
        _VALID_NAMES.clear()
    _VALID_NAMES.add(name)
    return name


def check_tag(tag: str) -> str:
    if not TAG_PATTERN.fullmatch(tag or ""):
        raise TagInvalid(f"invalid tag: {tag!r}", detail={"tag": tag})
    return tag


def check_upload_id(upload_id: str) -> str:
    if not UPLOAD_ID_PATTERN.fullmatch(upload_id or "") or upload_id.strip("-_") == "":
        raise BlobUploadUnknown(detail={"uuid": upload_id})
    return upload_id
