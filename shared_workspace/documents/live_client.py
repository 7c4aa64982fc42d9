"""A live co-editing client in Python (pycrdt over a WebSocket), speaking what the browser's
editor speaks. Used by the tests and the ``live_coediting`` benchmark; also a starting point
for scripts that want to write into a section live.

Edits made while disconnected stay in the client's document and are merged when it
reconnects: the server asks for what it lacks (sync step 1) and the client answers with it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from pycrdt import Doc, XmlFragment
from simple_websocket import Client, ConnectionClosed

from shared_workspace.documents import live_protocol as wire
from shared_workspace.documents.live_content import FRAGMENT, doc_html


class LiveClient:
    def __init__(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        on_remote: Callable[[LiveClient], None] | None = None,
    ) -> None:
        self.url = url
        self.headers = dict(headers or {})
        self.doc = Doc()
        self.lock = threading.RLock()
        self.synced = threading.Event()
        self.closed = threading.Event()
        self.close_code: int | None = None
        self.close_reason = ""
        self.awareness: dict[int, dict[str, Any] | None] = {}
        self.on_remote = on_remote
        self.ws: Any = None
        self.reader: threading.Thread | None = None

    @property
    def fragment(self) -> XmlFragment:
        return self.doc.get(FRAGMENT, type=XmlFragment)

    def html(self) -> str:
        with self.lock:
            return doc_html(self.doc)

    # --- connection --------------------------------------------------------------------------

    def connect(self, timeout: float = 10.0) -> LiveClient:
        self.synced.clear()
        self.closed.clear()
        self.close_code, self.close_reason = None, ""
        self.ws = Client.connect(self.url, headers=self.headers)
        self.reader = threading.Thread(target=self._read, args=(self.ws,), daemon=True)
        self.reader.start()
        with self.lock:
            state = self.doc.get_state()
        self.send(wire.sync_message(wire.SYNC_STEP1, state))
        if not self.synced.wait(timeout) and not self.closed.is_set():
            raise TimeoutError("the server did not answer the sync")
        return self

    def disconnect(self) -> None:
        ws, self.ws = self.ws, None
        if ws is not None:
            with contextlib.suppress(ConnectionClosed):
                ws.close()
        if self.reader is not None:
            self.reader.join(timeout=5)

    def send(self, message: bytes) -> bool:
        ws = self.ws
        if ws is None:
            return False
        try:
            ws.send(message)
        except (ConnectionClosed, OSError):
            return False
        return True

    def _read(self, ws: Any) -> None:
        try:
            while True:
                frame = ws.receive()
                if frame is None:
                    continue
                self._handle(frame)
        except ConnectionClosed as closed:
            self.close_code, self.close_reason = closed.reason, closed.message or ""
        except OSError:
            pass
        finally:
            self.closed.set()

    def _handle(self, frame: bytes) -> None:
        message = wire.parse(frame) if frame[:1] != bytes([wire.MESSAGE_AUTH]) else None
        if message is None:
            return
        if message.kind == wire.MESSAGE_SYNC:
            if message.step == wire.SYNC_STEP1:
                with self.lock:
                    reply = self.doc.get_update(message.payload)
                self.send(wire.sync_message(wire.SYNC_STEP2, reply))
                return
            with self.lock:
                if message.payload != wire.EMPTY_UPDATE:
                    self.doc.apply_update(message.payload)
            if message.step == wire.SYNC_STEP2:
                self.synced.set()
            if self.on_remote is not None:
                self.on_remote(self)
        elif message.kind == wire.MESSAGE_AWARENESS:
            for entry in wire.parse_awareness(message.payload):
                self.awareness[entry.client_id] = entry.state

    # --- editing -----------------------------------------------------------------------------

    def edit(self, change: Callable[[XmlFragment], None]) -> bytes:
        """Apply ``change`` to the local document and send it if connected (kept otherwise)."""
        with self.lock:
            before = self.doc.get_state()
            with self.doc.transaction():
                change(self.fragment)
            update = self.doc.get_update(before)
        self.send(wire.update_message(update))
        return update

    def type_text(self, text: str, paragraph: int = 0, at: int | None = None) -> bytes:
        """Type ``text`` into a paragraph (at the end unless ``at`` is given)."""

        def change(fragment: XmlFragment) -> None:
            block = fragment.children[paragraph]
            children = list(block.children)
            if not children:
                from pycrdt import XmlText

                children = [block.children.append(XmlText())]
            target = children[-1] if at is None else children[0]
            position = len(target) if at is None else min(at, len(target))
            target.insert(position, text)

        return self.edit(change)

    def say_where(self, cursor: dict[str, Any] | None = None, clock: int = 1) -> None:
        state = {"cursor": cursor, "user": {"name": "forged"}}
        entry = wire.AwarenessEntry(self.doc.client_id, clock, state)
        self.send(wire.awareness_message(wire.encode_awareness([entry])))
