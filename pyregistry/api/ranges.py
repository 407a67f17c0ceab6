"""Byte ranges: ``Range`` on blob downloads and ``Content-Range`` on upload chunks.

Downloads honour ranges as distribution does (``bytes=a-b``, ``bytes=a-``, ``bytes=-n``,
several of them in one header: a multipart answer); a header we will not serve (past the
end, malformed) is a 416, never a dropped connection.
Upload chunks are parsed leniently: ``a-b`` as the spec writes it, also with a ``bytes``
prefix or a ``/total`` suffix as some clients send.
"""

from __future__ import annotations

import re

from pyregistry.api.errors import RangeNotSatisfiable
from pyregistry.storage.errors import BlobUploadInvalid, RangeInvalid

_BYTES_UNIT = re.compile(r"[ \t]*bytes[ \t]*=(.*)", re.IGNORECASE | re.DOTALL)
_RANGE_SPEC = re.compile(r"([0-9]{0,19})[ \t]*-[ \t]*([0-9]{0,19})")
_CONTENT_RANGE = re.compile(
    r"[ \t]*(?:bytes[ \t=]+)?([0-9]+)[ \t]*-[ \t]*([0-9]+)[ \t]*(?:/[ \t]*(?:[0-9]+|\*))?[ \t]*",
    re.IGNORECASE,
)


#: More ranges than this in one request are not split out: the whole blob is served.
MAX_RANGES = 4096


def parse_ranges(header: str, size: int) -> list[tuple[int, int]] | None:
    """The inclusive ``(start, end)`` ranges a ``Range`` header asks for in a blob of
    ``size``, in the order asked (distribution's, Go's ``ServeContent``: clients such as
    containers/image match the parts of a multipart answer to their ranges by position).

    Ranges that start past the end are dropped; when none is left, or the header is
    malformed, RangeNotSatisfiable. None when the header is better ignored and the whole
    blob served (RFC 9110 allows it): ranges adding up to more than the blob (overlaps
    asking for bytes again and again) or more than :data:`MAX_RANGES` of them.
    """
    unit = _BYTES_UNIT.fullmatch(header)
    if not unit:
        raise RangeNotSatisfiable(size, header)
    ranges: list[tuple[int, int]] = []
    specs = [spec.strip(" \t") for spec in unit.group(1).split(",")]
    for spec in filter(None, specs):  # empty list elements are allowed
        m = _RANGE_SPEC.fullmatch(spec)
        if not m or (not m.group(1) and not m.group(2)):
            raise RangeNotSatisfiable(size, header)
        first, last = m.group(1), m.group(2)
        if not first:  # the last n bytes
            suffix = int(last)
            if suffix > 0 and size > 0:
                ranges.append((max(0, size - suffix), size - 1))
            continue
        start = int(first)
        if start >= size:
            continue
        end = min(int(last), size - 1) if last else size - 1
        if end < start:
            raise RangeNotSatisfiable(size, header)
        ranges.append((start, end))
    if not ranges:
        raise RangeNotSatisfiable(size, header)
    if len(ranges) > MAX_RANGES or sum(end - start + 1 for start, end in ranges) > size:
        return None
    return ranges


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
