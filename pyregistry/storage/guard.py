"""Keep driver exceptions inside the storage layer.

Expected driver errors (a missing path) are mapped to registry errors where they happen;
anything left over is a backend failure and becomes ``StorageError`` (HTTP 500), so the
API never has to know about ``storage_drivers`` exceptions.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from pyregistry.storage.errors import StorageError
from storage_drivers.errors import StorageDriverError

P = ParamSpec("P")
T = TypeVar("T")


def _wrap(exc: StorageDriverError) -> StorageError:
    return StorageError(f"storage driver error: {exc}", detail={"path": exc.path})


def guarded(
    fn: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """Decorate a public async method: leftover driver errors become StorageError."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await fn(*args, **kwargs)
        except StorageDriverError as exc:
            raise _wrap(exc) from exc

    return wrapper


async def guarded_stream(chunks: AsyncIterator[T]) -> AsyncIterator[T]:
    """Re-yield a driver stream, turning mid-stream driver errors into StorageError."""
    try:
        async for chunk in chunks:
            yield chunk
    except StorageDriverError as exc:
        raise _wrap(exc) from exc
