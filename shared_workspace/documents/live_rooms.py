"""Rooms of live editors in one web process, and the fan-out between processes.

Each section being edited has a room in every process that has someone on it: a pycrdt
document rebuilt from the stored updates on first join, the sockets on it and everyone's
awareness (cursor, selection, who they are). An update is checked and stored first, then
applied and sent to the room; with Redis configured it is also published on the room's
channel, and every other process with that room applies it and sends it to its own sockets.

Threads: a socket is served by its request thread (gunicorn gthread or the development
server), with one writer thread so that a slow client never holds up the others. A ticker
thread per process compacts rooms at intervals and rechecks every socket's permission, so a
person removed from the workspace is disconnected within ``RECHECK_SECONDS``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from typing import Any

from flask import Flask
from pycrdt import Doc, merge_updates

from app.db import get_database
from shared_workspace.documents import live_content, live_service, richtext
from shared_workspace.documents import live_protocol as wire
from shared_workspace.documents.live_bridge import RedisBridge
from shared_workspace.documents.live_service import Access, Identity, Target
from shared_workspace.documents.models import Document

log = logging.getLogger(__name__)

#: Seconds between compactions of a room that has new edits.
COMPACT_SECONDS = 30.0
#: Seconds between permission checks of every open socket.
RECHECK_SECONDS = 5.0
#: Messages a client may send per second, sustained, and in a burst.
RATE_PER_SECOND = 60.0
RATE_BURST = 240.0
#: Frames queued for a client before it counts as gone (it reconnects and resyncs).
OUTBOX_LIMIT = 2000
#: Queued messages a writer sends in one go (updates among them merged into one frame).
BATCH = 200
#: Characters of HTML one byte of an update can become at most ("&" is written "&amp;").
LENGTH_FACTOR = 5
#: Total update bytes a room accepts before refusing more (the section is far too long).
MAX_ROOM_BYTES = 32 * 1024 * 1024


class TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Connection:
    """One socket in a room: its person, what they may do, and a queue to send to them."""

    def __init__(self, ws: Any, who: Identity, access: Access, room: Room) -> None:
        self.ws = ws
        self.who = who
        self.access = access
        self.room = room
        self.client_ids: set[int] = set()
        self.bucket = TokenBucket(RATE_PER_SECOND, RATE_BURST)
        #: Messages to send: raw frames, ("update", payload) to batch, or (close code, reason).
        self.outbox: queue.SimpleQueue[bytes | tuple[Any, Any]] = queue.SimpleQueue()
        self.closing = False
        self.writer = threading.Thread(target=self._write, daemon=True, name="live-writer")
        self.writer.start()

    @property
    def user(self) -> dict[str, Any]:
        """What others see of this person (set by the server, never by the client)."""
        return {
            "name": self.who.name,
            "inspectorate": self.who.inspectorate,
            "colour": self.who.colour,
            "tenant": self.who.tenant_id,
        }

    def send(self, data: bytes) -> None:
        if self.closing:
            return
        if self.outbox.qsize() > OUTBOX_LIMIT:
            self.close(wire.CLOSE_RESTART, "Falling behind: reconnecting")
            return
        self.outbox.put(data)

    def send_update(self, update: bytes) -> None:
        """Queue a document update; updates queued together go out merged, as one frame."""
        if not self.closing:
            self.send(("update", update))  # type: ignore[arg-type]

    def close(self, code: int, reason: str) -> None:
        if not self.closing:
            self.closing = True
            self.outbox.put((code, reason[:120]))

    def _write(self) -> None:
        try:
            while True:
                batch = [self.outbox.get()]
                while len(batch) < BATCH and not self.outbox.empty():
                    batch.append(self.outbox.get())
                for frame in self._frames(batch):
                    if isinstance(frame, tuple):
                        self.ws.close(reason=frame[0], message=frame[1])
                        return
                    self.ws.send(frame)
        except Exception:  # noqa: BLE001, S110 - the socket is gone; the reader sees it too
            pass
        finally:
            self.closing = True
            # Wake the request thread blocked in receive() so that it leaves the room.
            event = getattr(self.ws, "event", None)
            if event is not None:
                event.set()

    @staticmethod
    def _frames(batch: list[Any]) -> list[Any]:
        """The frames to send for a batch: runs of updates merged into one (under load this
        keeps a busy room from sending thousands of tiny frames a second)."""
        frames: list[Any] = []
        run: list[bytes] = []
        for item in batch:
            if isinstance(item, tuple) and item[0] == "update":
                run.append(item[1])
                continue
            if run:
                frames.append(wire.update_message(run[0] if len(run) == 1 else merge_updates(*run)))
                run = []
            frames.append(item)
        if run:
            frames.append(wire.update_message(run[0] if len(run) == 1 else merge_updates(*run)))
        return frames


class Room:
    def __init__(self, target: Target, live_section_id: int, doc: Doc, size: int) -> None:
        self.target = target
        self.key = f"{target.document_id}:{target.section_key}"
        self.live_section_id = live_section_id
        self.doc = doc
        self.size = size
        self.lock = threading.RLock()
        self.compacting = threading.Lock()
        self.connections: list[Connection] = []
        #: client id → (clock, state or None, the local connection or None when remote)
        self.awareness: dict[int, tuple[int, dict[str, Any] | None, Connection | None]] = {}
        self.dirty = False
        self.last_compacted = time.monotonic()
        self.last_editor: Identity | None = None
        self.closed = False
        #: An upper estimate of the section's HTML length: exact when measured, then raised by
        #: LENGTH_FACTOR times each update's size (an update carries every character it
        #: inserts; one byte becomes at most five characters of HTML, "&" as "&amp;"), so the
        #: exact (costly) measurement runs only near the limit.
        self.length_estimate = 0
        #: The estimate's share for updates counted but not yet applied to ``doc``.
        self.length_in_flight = 0
        #: Held by an update checked exactly (near the limit) until it is applied, so two
        #: such updates cannot both pass on the same text.
        self.length_lock = threading.Lock()

    def others(self, conn: Connection | None) -> list[Connection]:
        with self.lock:
            return [c for c in self.connections if c is not conn]

    def awareness_states(self) -> bytes | None:
        with self.lock:
            entries = [
                wire.AwarenessEntry(client_id, clock, state)
                for client_id, (clock, state, _conn) in self.awareness.items()
                if state is not None
            ]
        return wire.awareness_message(wire.encode_awareness(entries)) if entries else None


class Hub:
    """Every room of this process, for one app."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.database = get_database(app)
        self.rooms: dict[str, Room] = {}
        self.lock = threading.Lock()
        self.origin = uuid.uuid4().bytes
        self.bridge: RedisBridge | None = None
        redis_url = app.extensions["config"].redis_url
        if redis_url:
            self.bridge = RedisBridge(redis_url, self)
        self.ticker = threading.Thread(target=self._tick, daemon=True, name="live-ticker")
        self.stopped = threading.Event()
        self.ticker.start()

    # --- joining and leaving -----------------------------------------------------------------

    def join(self, target: Target, who: Identity, access: Access, ws: Any) -> Connection:
        key = f"{target.document_id}:{target.section_key}"
        with self.lock:
            room = self.rooms.get(key)
            if room is None:
                room = self._load(target, who)
                self.rooms[key] = room
                if self.bridge is not None:
                    self.bridge.publish(key, b"q", b"")
            conn = Connection(ws, who, access, room)
            with room.lock:
                room.connections.append(conn)
                state = room.doc.get_state()
        conn.send(wire.sync_message(wire.SYNC_STEP1, state))
        states = room.awareness_states()
        if states:
            conn.send(states)
        return conn

    def _load(self, target: Target, who: Identity) -> Room:
        with self.database.transaction() as session:
            live_service.act_as(session, who.user_id, who.tenant_id)
            document = session.get(Document, target.document_id)
            if document is None:
                raise LookupError(target.document_id)
            section = live_service.open_section(session, document, target.section_key)
            payloads = live_service.updates(session, section.id)
            section_id = section.id
        doc = Doc()
        for payload in payloads:
            doc.apply_update(payload)
        room = Room(target, section_id, doc, sum(len(p) for p in payloads))
        room.length_estimate = len(live_content.doc_html(doc))
        room.last_editor = who
        # Edits left by a process that stopped, and versions saved by other means meanwhile.
        self.compact(room, who)
        return room

    def leave(self, conn: Connection) -> None:
        room = conn.room
        with room.lock:
            if conn in room.connections:
                room.connections.remove(conn)
            gone = []
            for client_id in conn.client_ids:
                clock, _state, owner = room.awareness.get(client_id, (0, None, None))
                if owner is conn:
                    room.awareness.pop(client_id, None)
                    gone.append(wire.AwarenessEntry(client_id, clock + 1, None))
            editors_left = any(c.access is Access.EDIT for c in room.connections)
        conn.close(1000, "")
        if gone:
            self._broadcast_awareness(room, None, wire.encode_awareness(gone))
        if not editors_left and room.dirty:
            self.compact(room, conn.who)
        with self.lock, room.lock:
            if not room.connections and self.rooms.get(room.key) is room:
                del self.rooms[room.key]
                room.closed = True

    # --- messages from a client --------------------------------------------------------------

    def receive(self, conn: Connection, frame: object) -> None:
        """Handle one frame from ``conn``; raises wire.Refused to close it."""
        if not conn.bucket.take():
            raise wire.Refused(wire.CLOSE_TOO_MANY, "Too many messages: slow down and reconnect")
        message = wire.parse(frame)
        room = conn.room
        if message.kind == wire.MESSAGE_SYNC and message.step == wire.SYNC_STEP1:
            try:
                with room.lock:
                    diff = room.doc.get_update(message.payload)
            except Exception:  # noqa: BLE001 - pycrdt rejects a state vector it cannot read
                raise wire.malformed("unreadable state vector") from None
            conn.send(wire.sync_message(wire.SYNC_STEP2, diff))
        elif message.kind == wire.MESSAGE_SYNC:
            self._update(conn, message.payload)
        elif message.kind == wire.MESSAGE_AWARENESS:
            self._awareness(conn, message.payload)
        else:
            states = room.awareness_states()
            if states:
                conn.send(states)

    def _update(self, conn: Connection, update: bytes) -> None:
        if update == wire.EMPTY_UPDATE:
            return
        if conn.access is not Access.EDIT:
            raise wire.Refused(wire.CLOSE_FORBIDDEN, "You can read this section but not change it")
        try:
            Doc().apply_update(update)
        except BaseException as exc:  # noqa: BLE001 - pycrdt may panic on garbage
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            raise wire.malformed("not a Yjs update") from None
        room = conn.room
        if room.size + len(update) > MAX_ROOM_BYTES:
            raise wire.Refused(wire.CLOSE_TOO_LARGE, "This section is too long to edit live")
        cost = LENGTH_FACTOR * len(update)
        exact = self._check_length(room, update, cost)
        applied = False
        try:
            with self.database.transaction() as session:
                live_service.act_as(session, conn.who.user_id, conn.who.tenant_id)
                allowed = live_service.store_update(
                    session, conn.who, room.target, room.live_section_id, update
                )
            if allowed is Access.NONE:
                raise wire.Refused(
                    wire.CLOSE_FORBIDDEN, "You no longer take part in this inspection"
                )
            if allowed is Access.READ:
                conn.access = allowed
                raise wire.Refused(
                    wire.CLOSE_CHANGED,
                    "Another inspectorate now drafts this section: reload the page",
                )
            with room.lock:
                room.doc.apply_update(update)
                room.size += len(update)
                room.dirty = True
                room.last_editor = conn.who
                if not exact:
                    room.length_in_flight -= cost
                applied = True
        finally:
            if not exact and not applied:
                with room.lock:
                    room.length_in_flight -= cost  # the estimate stays high: the safe side
            if exact:
                room.length_lock.release()
        self._broadcast_update(room, conn, update)

    def _check_length(self, room: Room, update: bytes, cost: int) -> bool:
        """Refuse (before storing it) an update that would take the section past the length a
        version may have: compaction could never save it, and the text would be stranded.

        Far from the limit the estimate is raised and the update passes (False). Near it the
        text is measured with the update applied, holding ``room.length_lock`` (True: the
        caller releases it once the update is applied), so no two updates pass on one text."""
        with room.lock:
            if room.length_estimate + cost <= richtext.MAX_SECTION_CHARS:
                room.length_estimate += cost
                room.length_in_flight += cost
                return False
        room.length_lock.acquire()
        try:
            with room.lock:
                state = room.doc.get_update()
            trial = Doc()
            trial.apply_update(state)
            trial.apply_update(update)
            try:
                exact = len(live_content.body_of(trial))
            except richtext.SectionTooLarge as exc:
                raise self._too_long(exc.limit) from None
            with room.lock:
                if exact + room.length_in_flight > richtext.MAX_SECTION_CHARS:
                    raise self._too_long(richtext.MAX_SECTION_CHARS)
                room.length_estimate = exact + room.length_in_flight
        except BaseException:
            room.length_lock.release()
            raise
        return True

    @staticmethod
    def _too_long(limit: int) -> wire.Refused:
        return wire.Refused(
            wire.CLOSE_TOO_LARGE,
            f"Not saved: the section would be over {limit:,} characters. "
            "Split it into smaller sections",
        )

    def _awareness(self, conn: Connection, payload: bytes) -> None:
        room = conn.room
        kept = []
        with room.lock:
            for entry in wire.parse_awareness(payload):
                owner = room.awareness.get(entry.client_id, (0, None, None))[2]
                if entry.client_id not in conn.client_ids:
                    # One editor per socket; nobody speaks for another client.
                    if conn.client_ids or (owner is not None and owner is not conn):
                        continue
                    conn.client_ids.add(entry.client_id)
                state = None
                if entry.state is not None:
                    cursor = entry.state.get("cursor")
                    state = {
                        "cursor": cursor if isinstance(cursor, dict) else None,
                        "user": conn.user,
                    }
                room.awareness[entry.client_id] = (entry.clock, state, conn)
                kept.append(wire.AwarenessEntry(entry.client_id, entry.clock, state))
        if kept:
            self._broadcast_awareness(room, conn, wire.encode_awareness(kept))

    # --- fan-out -----------------------------------------------------------------------------

    def _broadcast_update(self, room: Room, sender: Connection | None, update: bytes) -> None:
        for peer in room.others(sender):
            peer.send_update(update)
        if self.bridge is not None:
            self.bridge.publish(room.key, b"u", update)

    def _broadcast_awareness(self, room: Room, sender: Connection | None, update: bytes) -> None:
        message = wire.awareness_message(update)
        for peer in room.others(sender):
            peer.send(message)
        if self.bridge is not None:
            self.bridge.publish(room.key, b"a", update)

    def remote(self, key: str, kind: bytes, payload: bytes) -> None:
        """A message published by another process for a room."""
        room = self.rooms.get(key)
        if room is None:
            return
        if kind == b"u":
            with room.lock:
                room.doc.apply_update(payload)
                room.size += len(payload)
                room.length_estimate += LENGTH_FACTOR * len(payload)
            for peer in room.others(None):
                peer.send_update(payload)
            return
        elif kind == b"a":
            with room.lock:
                for entry in wire.parse_awareness(payload):
                    room.awareness[entry.client_id] = (entry.clock, entry.state, None)
                    if entry.state is None:
                        room.awareness.pop(entry.client_id, None)
            message = wire.awareness_message(payload)
        else:  # another process opened the room: tell it who is here
            states = [
                wire.AwarenessEntry(client_id, clock, state)
                for client_id, (clock, state, conn) in list(room.awareness.items())
                if conn is not None and state is not None
            ]
            if states and self.bridge is not None:
                self.bridge.publish(key, b"a", wire.encode_awareness(states))
            return
        for peer in room.others(None):
            peer.send(message)

    # --- compaction and permission checks ----------------------------------------------------

    def compact(self, room: Room, who: Identity | None = None) -> live_service.Compacted | None:
        """Compact the room's edits into a version now (also when nobody new typed: it then
        only brings the room up to versions saved by other means)."""
        who = who or room.last_editor
        if who is None:
            return None
        with room.compacting:
            room.dirty = False
            room.last_compacted = time.monotonic()
            try:
                with self.database.transaction() as session:
                    live_service.act_as(session, who.user_id, who.tenant_id)
                    result = live_service.compact(session, room.live_section_id)
            except Exception:
                room.dirty = True
                log.exception("live: compacting %s failed; the edits stay stored", room.key)
                return None
        if result.server_update:
            with room.lock:
                room.doc.apply_update(result.server_update)
                room.length_estimate += LENGTH_FACTOR * len(result.server_update)
            self._broadcast_update(room, None, result.server_update)
        if result.closed_reason:
            for conn in room.others(None):
                conn.close(wire.CLOSE_CHANGED, result.closed_reason)
        return result

    def recheck(self) -> None:
        """Close every socket whose person may no longer be there (or whose rights changed)."""
        for room in list(self.rooms.values()):
            for conn in room.others(None):
                with self.database.transaction() as session:
                    live_service.act_as(session, conn.who.user_id, conn.who.tenant_id)
                    now = live_service.access(session, conn.who, room.target)
                if now is Access.NONE:
                    conn.close(wire.CLOSE_FORBIDDEN, "You no longer take part in this inspection")
                elif now is not conn.access:
                    conn.close(wire.CLOSE_CHANGED, "Your rights in this section changed: reload")

    def _tick(self) -> None:
        last_check = time.monotonic()
        while not self.stopped.wait(1.0):
            try:
                for room in list(self.rooms.values()):
                    if room.dirty and time.monotonic() - room.last_compacted >= COMPACT_SECONDS:
                        self.compact(room)
                if time.monotonic() - last_check >= RECHECK_SECONDS:
                    last_check = time.monotonic()
                    self.recheck()
            except Exception:  # noqa: BLE001 - the ticker must outlive one bad round
                log.exception("live: ticker round failed")

    def stop(self) -> None:
        self.stopped.set()
        if self.bridge is not None:
            self.bridge.stop()
