"""The ``s3`` driver (distribution's s3-aws): registry paths as objects in an S3 bucket.

``driver`` is the driver itself; the modules beside it are its parts: ``options`` (the
``storage.s3`` parameters), ``backend`` (boto3, threads, error translation), ``writer``
(resumable uploads), ``copy`` (server-side multipart copy), ``reader`` and ``walk``.
"""

from storage_drivers.s3.driver import S3Driver

__all__ = ["S3Driver"]
