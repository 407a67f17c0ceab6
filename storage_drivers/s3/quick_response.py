"""http.client's response, its header block read as plain lines.

The standard library hands a response's header lines to the email package's parser
(``http.client.parse_headers``): on the S3 driver's small requests (a link, a HEAD, a
small PUT) that parser cost as much as signing the request, 0.09 ms of the 0.55 ms a
HEAD took. :class:`QuickResponse` reads the same lines itself and fills the same
``HTTPMessage``, so all that follows (``read``, ``getheaders``, keep-alive) is
http.client's own.
"""

from __future__ import annotations

import http.client

#: http.client's limits: the longest header line, the most header lines.
MAX_LINE = 65536
MAX_HEADERS = 100
#: Statuses whose answer has no body, whatever its headers say.
_BODILESS = (http.client.NO_CONTENT, http.client.NOT_MODIFIED)


class QuickResponse(http.client.HTTPResponse):
    """An ``HTTPResponse`` whose :meth:`begin` parses the header block without the email
    package (a connection's ``response_class``)."""

    def begin(self) -> None:
        if self.headers is not None:
            return  # already begun
        while True:
            version, status, reason = self._read_status()
            if status != http.client.CONTINUE:
                break
            self._header_lines()  # an interim answer's headers: skipped
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        message = http.client.HTTPMessage()
        for name, value in self._header_lines():
            message[name] = value
        self.headers = self.msg = message
        self._framing(status)

    def _framing(self, status: int) -> None:
        """How the body ends, from the headers: chunked, a length, or the close."""
        transfer = self.headers.get("transfer-encoding")
        self.chunked = transfer is not None and transfer.lower() == "chunked"
        if self.chunked:
            self.chunk_left = None
        self.will_close = self._check_close()  # type: ignore[attr-defined]
        self.length = None
        length = self.headers.get("content-length")
        if length and not self.chunked:
            try:
                self.length = int(length)
            except ValueError:
                self.length = None
            if self.length is not None and self.length < 0:
                self.length = None
        method = self._method  # type: ignore[attr-defined]
        if status in _BODILESS or 100 <= status < 200 or method == "HEAD":
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True  # the body runs to the close

    def _header_lines(self) -> list[tuple[str, str]]:
        """The header block's ``(name, value)`` pairs, up to its blank line; a folded
        line continues the header before it, a line with no colon is dropped."""
        pairs: list[tuple[str, str]] = []
        for _ in range(MAX_HEADERS + 1):
            line = self.fp.readline(MAX_LINE + 1)
            if len(line) > MAX_LINE:
                raise http.client.LineTooLong("header line")
            if line in (b"\r\n", b"\n", b""):
                return pairs
            text = line.decode("iso-8859-1")
            if text[0] in " \t":
                if pairs:
                    name, value = pairs[-1]
                    pairs[-1] = (name, f"{value} {text.strip()}")
                continue
            name, colon, value = text.partition(":")
            if colon:
                pairs.append((name.strip(), value.strip()))
        raise http.client.HTTPException(f"got more than {MAX_HEADERS} headers")
