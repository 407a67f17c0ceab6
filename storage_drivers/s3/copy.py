"""Server-side copy of a big object in parts, for ``move`` above the multipart threshold.

CopyObject is limited to 5 GiB and copies in one request; UploadPartCopy copies ranges
of ``multipartcopychunksize`` bytes, ``multipartcopymaxconcurrency`` at a time, so a big
layer moves in parallel and never passes through this process.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from storage_drivers.errors import StorageDriverError
from storage_drivers.s3.backend import S3Backend


async def multipart_copy(backend: S3Backend, source: str, dest: str, size: int) -> None:
    """Copy the ``size`` bytes at ``source`` to ``dest``; on failure nothing stays behind."""
    options = backend.options
    dest_key = backend.key(dest)
    created = await backend.call(
        "create_multipart_upload", dest, Key=dest_key, **options.object_args()
    )
    upload_id = created["UploadId"]
    chunk = options.multipartcopychunksize
    limit = asyncio.Semaphore(options.multipartcopymaxconcurrency)
    source_ref = {"Bucket": options.bucket, "Key": backend.key(source)}

    async def copy_part(number: int, first: int) -> dict[str, Any]:
        last = min(first + chunk, size) - 1
        async with limit:
            response = await backend.call(
                "upload_part_copy",
                source,
                Key=dest_key,
                UploadId=upload_id,
                PartNumber=number,
                CopySource=source_ref,
                CopySourceRange=f"bytes={first}-{last}",
            )
        return {"PartNumber": number, "ETag": response["CopyPartResult"]["ETag"]}

    try:
        parts = await asyncio.gather(
            *(copy_part(i + 1, first) for i, first in enumerate(range(0, size, chunk)))
        )
        await backend.call(
            "complete_multipart_upload",
            dest,
            Key=dest_key,
            UploadId=upload_id,
            MultipartUpload={"Parts": list(parts)},
        )
    except BaseException:
        await asyncio.shield(_abort_quietly(backend, dest, dest_key, upload_id))
        raise


async def _abort_quietly(backend: S3Backend, path: str, key: str, upload_id: str) -> None:
    """Abort the copy's upload; any failure to do so must not hide the copy's own error."""
    with contextlib.suppress(StorageDriverError):
        await backend.call("abort_multipart_upload", path, Key=key, UploadId=upload_id)
