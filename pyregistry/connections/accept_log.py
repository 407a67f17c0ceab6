"""Rate-limited logging for floods: accept errors when the process runs out of file
descriptors, and the connection guard's own notes.

When ``accept()`` fails with EMFILE, asyncio and uvloop log the error with a traceback
each time they retry, which under a connection flood wrote hundreds of thousands of lines
in seconds. :class:`AcceptErrorFilter` lets one line through per interval and says how
many it held back.
"""

from __future__ import annotations

import logging
import time

#: What asyncio and uvloop say when ``accept()`` fails for lack of resources.
_ACCEPT_MARKERS = ("socket.accept() out of system resource", "error status in uv_stream_t.listen")
DEFAULT_INTERVAL = 10.0
#: asyncio retries ``accept()`` a second after EMFILE even when the server has closed the
#: socket meanwhile (at shutdown): the retry fails on fd -1, harmlessly.
_RETRY_AFTER_CLOSE = "Exception in callback BaseSelectorEventLoop._start_serving"


def _closed_socket(record: logging.LogRecord) -> bool:
    error = record.exc_info[1] if record.exc_info else None
    return isinstance(error, ValueError) and "-1" in str(error)


class LogLimiter:
    """Allows one log line per ``interval`` seconds and counts the ones it held back."""

    def __init__(self, interval: float = DEFAULT_INTERVAL) -> None:
        self.interval = interval
        self._last = float("-inf")
        self.suppressed = 0

    def allow(self) -> tuple[bool, int]:
        """(whether to log now, how many were held back since the last line)."""
        now = time.monotonic()
        if now - self._last < self.interval:
            self.suppressed += 1
            return False, 0
        held, self.suppressed, self._last = self.suppressed, 0, now
        return True, held


class AcceptErrorFilter(logging.Filter):
    """On the ``asyncio`` logger: accept errors become one line per interval, no traceback."""

    def __init__(self, interval: float = DEFAULT_INTERVAL) -> None:
        super().__init__()
        self.limiter = LogLimiter(interval)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith(_RETRY_AFTER_CLOSE) and _closed_socket(record):
            return False
        if not message.startswith(_ACCEPT_MARKERS):
            return True
        allowed, held = self.limiter.allow()
        if not allowed:
            return False
        error = record.exc_info[1] if record.exc_info else None
        reason = getattr(error, "strerror", None) or (str(error) if error else "unknown error")
        more = f" ({held} more since the last report)" if held else ""
        record.msg = (
            f"cannot accept connections: {reason}{more}; lower http.maxconnections "
            f"or raise the open-file limit (ulimit -n)"
        )
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def install_accept_log_limit(interval: float = DEFAULT_INTERVAL) -> None:
    """Put one :class:`AcceptErrorFilter` on the ``asyncio`` logger (idempotent)."""
    logger = logging.getLogger("asyncio")
    if not any(isinstance(f, AcceptErrorFilter) for f in logger.filters):
        logger.addFilter(AcceptErrorFilter(interval))
