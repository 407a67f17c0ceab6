"""Byte ranges: ``Range`` on blob downloads and ``Content-Range`` on upload chunks.

Downloads honour one range (``bytes=a-b``, ``bytes=a-``, ``bytes=-n``); anything we will
not serve - past the end, malformed, several ranges - is a 416, never a dropped connection.
Upload chunks are parsed leniently: ``a-b`` as the spec writes it, also with a ``bytes``
prefix or a ``/total`` suffix as some clients send.
"""

from __future__ import annotations

import re

from pyregistry.api.errors import RangeNotSatisfiable
from pyregistry.storage.errors import BlobUploadInvalid, RangeInvalid

_BYTES_RANGE = re.compile(
    r"[ \t]*bytes[ \t]*=[ \t]*([0-9]*)[ \t]*-[ \t]*([0-9]*)[ \t]*", re.IGNORECASE
)
_CONTENT_RANGE = re.compile(
    r"[ \t]*(?:bytes[ \t=]+)?([0-9]+)[ \t]*-[ \t]*([0-9]+)[ \t]*(?:/[ \t]*(?:[0-9]+|\*))?[ \t]*",
    re.IGNORECASE,
)


def parse_range(header: str, size: int) -> tuple[int, int]:
    """The inclusive ``(start, end)`` a ``Range`` header asks for in a blob of ``size``."""
    m = _BYTES_RANGE.fullmatch(header)
    if not m or (not m.group(1) and not m.group(2)):
        raise RangeNotSatisfiable(size, header)
    first, last = m.group(1), m.group(2)
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(size, header)
        return max(0, size - suffix), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable(size, header)
    return start, min(end, size - 1)


def parse_content_range(header: str) -> tuple[int, int]:
    """The inclusive ``(start, end)`` of an upload chunk; BLOB_UPLOAD_INVALID if malformed,
    416 (RangeInvalid) if it ends before it starts."""
    m = _CONTENT_RANGE.fullmatch(header)
    if not m:
        raise BlobUploadInvalid(
            f"invalid Content-Range: {header!r}", detail={"Content-Range": header}
        )
    start, end = int(m.group(1)), int(m.group(2))
    if end < start:
        raise RangeInvalid(
            f"Content-Range ends before it starts: {header!r}", detail={"Content-Range": header}
        )
    return start, end
