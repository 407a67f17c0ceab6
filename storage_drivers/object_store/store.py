"""One bucket (or container) under one root: names for driver paths, and the blocking
operations a driver needs, run on the driver's thread pool with the store's errors turned
into the driver's (:meth:`ObjectStore.translate`)."""

from __future__ import annotations

import abc
import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, ParamSpec, TypeVar

from storage_drivers.threads import ThreadRunner

P = ParamSpec("P")
T = TypeVar("T")
#: An object as a listing shows it: its name, size and time.
Listed = tuple[str, int, datetime]


class ObjectStore(abc.ABC):
    """``root``: the name prefix of every path ("" or ``a/b``, no slash around it)."""

    #: The driver's name, for errors.
    driver = ""

    def __init__(self, root: str, max_threads: int) -> None:
        self.root = root
        self._threads = ThreadRunner(max_threads, self.driver or "objects")

    # -- names --------------------------------------------------------------------------

    def key(self, path: str) -> str:
        """The object name of a driver path (``/a/b`` -> ``<root>/a/b``)."""
        return f"{self.root}{path}" if self.root else path[1:]

    def prefix(self, path: str) -> str:
        """The name prefix of everything below ``path`` (a directory)."""
        if path == "/":
            return f"{self.root}/" if self.root else ""
        return self.key(path) + "/"

    def to_path(self, base: str, relative: str) -> str:
        return ("" if base == "/" else base) + "/" + relative

    # -- calls --------------------------------------------------------------------------

    async def call(self, path: str, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn`` on a pool thread, its errors as the driver's (``path``: for them)."""
        return await self._threads.run(functools.partial(self._guarded, path, fn, *args, **kwargs))

    def _guarded(self, path: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            translated = self.translate(exc, path)
            if translated is None:
                raise
            raise translated from None

    @abc.abstractmethod
    def translate(self, exc: Exception, path: str) -> Exception | None:
        """The driver error for the store's ``exc`` (None: let it through)."""

    # -- blocking operations (run them through call) ---------------------------------------

    @abc.abstractmethod
    def listing(self, prefix: str, delimiter: str | None = None) -> tuple[list[Listed], list[str]]:
        """Every object below ``prefix`` and, with a delimiter, the prefixes one level
        down (ending in it)."""

    @abc.abstractmethod
    def head(self, name: str) -> tuple[int, datetime] | None:
        """Size and time of an object; None when there is none."""

    @abc.abstractmethod
    def get(self, name: str) -> bytes:
        """A whole (small) object."""

    @abc.abstractmethod
    def read(self, name: str, offset: int, count: int) -> bytes:
        """``count`` bytes at ``offset`` (fewer at the end)."""

    @abc.abstractmethod
    def put(self, name: str, data: bytes) -> None:
        """Set an object's content in one request (atomic)."""

    @abc.abstractmethod
    def remove(self, name: str) -> None:
        """Delete an object (the store's not-found error when there is none)."""

    @abc.abstractmethod
    def copy(self, source: str, dest: str) -> None:
        """Copy an object server-side, whole, before returning."""

    @abc.abstractmethod
    def signed_url(self, name: str, method: str) -> str | None:
        """A URL that reads the object for a while, when the credentials can sign one."""

    # -- conditional writes (optional; blocking too) ------------------------------------

    #: Whether this store implements the three below (its server may still ignore the
    #: conditions: the driver asks it once, see ``conditions.py``).
    offers_conditions: ClassVar[bool] = False
    #: A version no object ever has, for that question.
    no_such_version: ClassVar[str] = ""

    def get_versioned(self, name: str) -> tuple[bytes, str]:
        """A whole (small) object and its version, as :meth:`put_if` compares it."""
        raise NotImplementedError

    def put_if(self, name: str, data: bytes, version: str | None) -> str:
        """:meth:`put` only if the object is absent (``version`` None) or still at
        ``version``; the new version. ConditionFailed when it is not."""
        raise NotImplementedError

    def remove_if(self, name: str, version: str) -> None:
        """:meth:`remove` only if the object is still at ``version`` (ConditionFailed)."""
        raise NotImplementedError

    def close(self) -> None:
        self._threads.close()
