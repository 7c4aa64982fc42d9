"""The body of the current request as a stream for the store, read in large pieces.

Under gunicorn, ``wsgi.input`` (``gunicorn.http.body.Body``) hands a Content-Length body
over 1 KiB at a time and re-copies its whole buffer after every piece; Werkzeug's
``request.stream`` then copies each read twice more. Streaming a 256 MiB evidence file that
way cost the web process more CPU than the socket reads and the SHA-256 together. The
length reader under gunicorn's ``Body`` reads the same bytes straight off its socket buffer,
so a streamed upload reads from it while nothing else has touched the body yet; any other
server, and the test client, get ``request.stream``.
"""

from __future__ import annotations

from flask import Request
from werkzeug.exceptions import ClientDisconnected

from app.storage.base import ReadableStream

try:
    from gunicorn.http.body import Body, LengthReader
except ImportError:  # pragma: no cover - gunicorn is a dependency, but not on every server
    Body = LengthReader = None  # type: ignore[assignment,misc]


class LengthBody:
    """Read at most ``size`` bytes from gunicorn's length reader, as ``request.stream`` would.

    A connection that closes or fails early raises ``ClientDisconnected`` (400), like
    Werkzeug's limited stream; reading past ``size`` returns ``b""``.
    """

    def __init__(self, reader: ReadableStream, size: int) -> None:
        self._reader = reader
        self._left = size

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1, /) -> bytes:
        if self._left <= 0:
            return b""
        wanted = self._left if size is None or size < 0 else min(size, self._left)
        if wanted == 0:
            return b""
        try:
            data = self._reader.read(wanted)
        except (OSError, ValueError) as error:
            raise ClientDisconnected() from error
        if not data:
            raise ClientDisconnected()
        self._left -= len(data)
        return data


def request_body(request: Request) -> ReadableStream:
    """The request's body: gunicorn's length reader when untouched, else ``request.stream``."""
    size = request.content_length
    wsgi_input = request.environ.get("wsgi.input")
    if (
        Body is not None
        and size
        and isinstance(wsgi_input, Body)
        and isinstance(wsgi_input.reader, LengthReader)
        # Nothing read or buffered yet: the reader still holds the whole body.
        and wsgi_input.reader.length == size
        and wsgi_input.buf.tell() == 0
    ):
        return LengthBody(wsgi_input.reader, size)
    return request.stream
