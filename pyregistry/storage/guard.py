"""Keep driver exceptions inside the storage layer.

Expected driver errors (a missing path) are mapped to registry errors where they happen;
anything left over is a backend failure and becomes ``StorageError`` (HTTP 500), or
``StorageFull`` (507) when the backend is out of space, so the API never has to know
about ``storage_drivers`` exceptions. The driver's own text (storage paths, OS error
messages) goes to the log, never into the client's error body.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from pyregistry.storage.errors import StorageError, StorageFull
from storage_drivers.errors import StorageDriverError
from storage_drivers.errors import StorageFull as DriverStorageFull

P = ParamSpec("P")
T = TypeVar("T")


def _wrap(exc: StorageDriverError) -> StorageError:
    """The registry error for a leftover driver error; raise it ``from exc`` so whoever
    logs it can name the driver's own message."""
    return StorageFull() if isinstance(exc, DriverStorageFull) else StorageError()


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
