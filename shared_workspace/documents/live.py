"""The live co-editing socket of a document section:
``/workspaces/<id>/documents/<id>/sections/<key>/live``.

Everything is checked before the connection is upgraded, as for any page (sign-in, the
tenant's scope, the document being in the workspace, the section existing and being editable
live), and a cross-site page cannot open it (the Origin must be this site). A plain GET gets
the page answers (sign in, 404), then 400: this address speaks WebSocket only.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, request
from flask_login import current_user
from simple_websocket import ConnectionClosed, Server
from werkzeug.wrappers import Response

from app.db import get_session
from app.tenancy import get_or_404
from shared_workspace.documents import live_protocol as wire
from shared_workspace.documents import live_service, service
from shared_workspace.documents.live_rooms import Hub
from shared_workspace.documents.models import Document
from shared_workspace.models import Workspace
from shared_workspace.views import bp

log = logging.getLogger(__name__)

LIVE = "/<int:workspace_id>/documents/<int:document_id>/sections/<section_key>/live"
#: Pings keep proxies from closing an idle socket and reveal dead clients.
PING_SECONDS = 25
_hub_lock = threading.Lock()


def hub(app: Flask | None = None) -> Hub:
    """This process's rooms, started on first use (nothing runs at import or app creation)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    with _hub_lock:
        if "live_hub" not in app.extensions:
            app.extensions["live_hub"] = Hub(app)
        return app.extensions["live_hub"]  # type: ignore[no-any-return]


def _same_origin() -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser: cookies are not sent by cross-site pages anyway
    return urlsplit(origin).netloc == request.host


def _is_upgrade() -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


def live_section(workspace_id: int, document_id: int, section_key: str) -> Response:
    """The socket; ids are checked (and answered 404) before anything else, as on any page."""
    if not _same_origin():
        abort(403)
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    document = get_or_404(db, Document, document_id)
    if document.workspace_id != workspace.id:
        abort(404)
    if not _is_upgrade():
        abort(400)
    body = next(
        (s["body"] for s in service.head(db, document).sections if s["key"] == section_key), None
    )
    if body is None:
        abort(404)
    who = live_service.identity_of(current_user._get_current_object())
    target = live_service.Target(workspace.id, document.id, section_key)
    access = live_service.access(db, who, target)
    if access is live_service.Access.NONE:
        abort(404)
    _release_request_session()
    rooms = hub()
    ws = Server(request.environ, max_message_size=wire.MAX_FRAME, ping_interval=PING_SECONDS)
    conn = None
    try:
        conn = rooms.join(target, who, access, ws)
        while not conn.closing:
            frame = ws.receive(timeout=PING_SECONDS * 2)
            if frame is None:
                continue
            try:
                rooms.receive(conn, frame)
            except wire.Refused as refused:
                log.info("live: closing a socket of user %s: %s", who.user_id, refused.reason)
                conn.close(refused.code, refused.reason)
    except ConnectionClosed:
        pass
    except LookupError:
        _close(ws, wire.CLOSE_NOT_FOUND, "This section no longer exists")
    finally:
        if conn is not None:
            rooms.leave(conn)
            conn.writer.join(timeout=5)
    return _SocketDone(ws)


# The same view for WebSocket requests and plain ones (which it answers like a page would:
# sign in first, 404 for ids that are not yours, then 400).
bp.add_url_rule(LIVE, view_func=live_section, websocket=True)
bp.add_url_rule(LIVE, view_func=live_section)


def _release_request_session() -> None:
    """End the request's transaction now: the socket may stay open for hours."""
    session = g.pop("db_session", None)
    if session is not None:
        session.commit()
        session.close()


def _close(ws: Server, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):  # already closed
        ws.close(reason=code, message=reason)


class _SocketDone(Response):
    """The answer after a socket closed: nothing more may be written to the connection."""

    def __init__(self, ws: Server) -> None:
        super().__init__()
        self.ws = ws

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        if self.ws.mode == "gunicorn":
            raise StopIteration()
        return super().__call__(environ, start_response)
