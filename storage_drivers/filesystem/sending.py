"""A blob's file sent from mapped windows that grow while the process has few to send.

Each window is one thread hop and one ``mmap``/``munmap`` (``mapping.py``), which cost
about as much as sending the MiB they map: a 1 GiB pull took 0.52 ms of the server's CPU
per MiB with 1 MiB windows and 0.36 with 16 MiB ones (1,800 against 2,700 MiB/s, 2 cores,
an httpx client). But a window's pages count in the process's resident memory until its
last byte is sent, so the windows of all the streams of a process share a budget
(:class:`MappedWindows`): one big pull gets 16 MiB windows, twenty at once 1 MiB each, and
the process never holds more than about :data:`MAPPED_BUDGET` of mapped blob. A stream's
first window is 1 MiB (its first byte does not wait for 16 MiB to be mapped, and a
client that reads a little and leaves cost little); each next one doubles, up to the
stream's share. The chunks handed on stay 1 MiB views of the window.
"""

from __future__ import annotations

from storage_drivers.base import DEFAULT_CHUNK_SIZE
from storage_drivers.filesystem.inline import InlineGate
from storage_drivers.filesystem.mapping import map_or_read
from storage_drivers.filesystem.reader import FileChunks
from storage_drivers.threads import ThreadRunner

#: Mapped bytes the sending streams of one process share.
MAPPED_BUDGET = 32 * 1024 * 1024
#: The most one stream maps at once, however alone it is.
LARGEST_WINDOW = 16 * 1024 * 1024


class MappedWindows:
    """How big the next window of a sending stream is: its share of the budget among the
    streams sending now (counted on the event loop: no lock)."""

    def __init__(self, budget: int = MAPPED_BUDGET, largest: int = LARGEST_WINDOW) -> None:
        self._budget = budget
        self._largest = largest
        self.streams = 0

    def joined(self) -> None:
        self.streams += 1

    def left(self) -> None:
        self.streams -= 1

    def next_size(self, last: int) -> int:
        """The window after one of ``last`` bytes (0 for the first): double it, within
        the stream's share; whole MiBs, never less than one."""
        share = self._budget // max(self.streams, 1)
        size = min(2 * last, share, self._largest)
        return max(size - size % DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_SIZE)


class WindowedChunks(FileChunks[bytes | memoryview]):
    """:class:`FileChunks` whose reads are mappings (``map_or_read``) of
    :class:`MappedWindows`'s size, handed on in views of at most one MiB."""

    def __init__(
        self,
        windows: MappedWindows,
        runner: ThreadRunner,
        path: str,
        fd: int,
        offset: int,
        remaining: int,
        gate: InlineGate | None = None,
    ) -> None:
        super().__init__(runner, path, fd, offset, remaining, gate, map_or_read)
        self._windows = windows
        self._window = 0
        #: The rest of the current window, not yet handed on.
        self._ahead: memoryview | None = None
        windows.joined()

    def _span(self) -> int:
        self._window = self._windows.next_size(self._window)
        return self._window

    async def __anext__(self) -> bytes | memoryview:
        ahead = self._ahead
        if ahead is None:
            chunk = await super().__anext__()
            if len(chunk) <= DEFAULT_CHUNK_SIZE:
                return chunk
            ahead = memoryview(chunk)
        self._ahead = ahead[DEFAULT_CHUNK_SIZE:] if len(ahead) > DEFAULT_CHUNK_SIZE else None
        return ahead[:DEFAULT_CHUNK_SIZE]

    def _release(self) -> None:
        had_fd = getattr(self, "_fd", None) is not None
        super()._release()
        if had_fd:
            self._windows.left()
            # ``_ahead`` stays: the chunks already read are still handed on
