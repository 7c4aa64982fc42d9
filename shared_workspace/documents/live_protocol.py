"""The y-websocket wire protocol (what Yjs's WebsocketProvider speaks), read strictly.

A frame is one binary message: a varuint message type, then its body. Sync messages carry a
varuint sync step and a length-prefixed payload (a state vector or an update); awareness
messages carry a length-prefixed awareness update (clients' cursors and who they are).
Everything a client sends is checked here before anything else looks at it: a frame that does
not parse exactly is refused with a reason, never half-applied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MESSAGE_SYNC = 0
MESSAGE_AWARENESS = 1
MESSAGE_AUTH = 2
MESSAGE_QUERY_AWARENESS = 3

SYNC_STEP1 = 0
SYNC_STEP2 = 1
SYNC_UPDATE = 2

#: Yjs's encoding of an update that changes nothing.
EMPTY_UPDATE = b"\x00\x00"
#: Largest frame accepted: a long pasted chapter is a few hundred kilobytes as an update.
MAX_FRAME = 1024 * 1024
#: Largest awareness state (a cursor and a selection are well under a kilobyte).
MAX_AWARENESS_STATE = 4096
_MAX_VARUINT_BYTES = 8  # up to 2**56: client ids are up to 2**53 (pycrdt), lengths far less

#: WebSocket close codes (4400-4499 mirror HTTP: the client does not retry them).
CLOSE_MALFORMED = 4400
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_CHANGED = 4409
CLOSE_TOO_LARGE = 4413
CLOSE_TOO_MANY = 4429
CLOSE_RESTART = 1012  # the server is going away: the client reconnects


class Refused(Exception):
    """A frame or a sender the connection must be closed for; nothing it carried is kept."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def malformed(what: str) -> Refused:
    return Refused(CLOSE_MALFORMED, f"Malformed message: {what}")


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def var_uint(self) -> int:
        value = 0
        for shift in range(0, 7 * _MAX_VARUINT_BYTES, 7):
            if self.pos >= len(self.data):
                raise malformed("truncated number")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
        raise malformed("number too long")

    def var_bytes(self) -> bytes:
        length = self.var_uint()
        end = self.pos + length
        if end > len(self.data):
            raise malformed("truncated payload")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def var_string(self) -> str:
        try:
            return self.var_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise malformed("text is not UTF-8") from None

    def end(self) -> None:
        if self.pos != len(self.data):
            raise malformed("trailing bytes")


def var_uint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def var_bytes(data: bytes) -> bytes:
    return var_uint(len(data)) + data


def var_string(text: str) -> bytes:
    return var_bytes(text.encode("utf-8"))


@dataclass(frozen=True)
class Message:
    kind: int
    #: For sync messages: the step (SYNC_STEP1, SYNC_STEP2 or SYNC_UPDATE).
    step: int = -1
    #: A state vector (step 1), an update (step 2, update) or an awareness update.
    payload: bytes = b""


def parse(frame: object) -> Message:
    """One client frame as a Message, or Refused saying what is wrong with it."""
    if not isinstance(frame, bytes | bytearray):
        raise malformed("expected a binary frame")
    if len(frame) > MAX_FRAME:
        raise Refused(CLOSE_TOO_LARGE, f"Message over {MAX_FRAME:,} bytes")
    reader = _Reader(bytes(frame))
    kind = reader.var_uint()
    if kind == MESSAGE_SYNC:
        step = reader.var_uint()
        if step not in (SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE):
            raise malformed("unknown sync step")
        payload = reader.var_bytes()
        reader.end()
        return Message(kind, step, payload)
    if kind == MESSAGE_AWARENESS:
        payload = reader.var_bytes()
        reader.end()
        return Message(kind, payload=payload)
    if kind == MESSAGE_QUERY_AWARENESS:
        reader.end()
        return Message(kind)
    raise malformed("unknown message type")


def sync_message(step: int, payload: bytes) -> bytes:
    return var_uint(MESSAGE_SYNC) + var_uint(step) + var_bytes(payload)


def update_message(update: bytes) -> bytes:
    return sync_message(SYNC_UPDATE, update)


def awareness_message(update: bytes) -> bytes:
    return var_uint(MESSAGE_AWARENESS) + var_bytes(update)


def permission_denied_message(reason: str) -> bytes:
    return var_uint(MESSAGE_AUTH) + var_uint(0) + var_string(reason)


@dataclass(frozen=True)
class AwarenessEntry:
    client_id: int
    clock: int
    #: The client's state, or None when it left.
    state: dict[str, Any] | None


def parse_awareness(update: bytes) -> list[AwarenessEntry]:
    """The entries of an awareness update (refused unless every state is a JSON object)."""
    reader = _Reader(update)
    count = reader.var_uint()
    if count > 16:
        raise malformed("too many awareness entries")
    entries = []
    for _ in range(count):
        client_id = reader.var_uint()
        clock = reader.var_uint()
        text = reader.var_string()
        if len(text) > MAX_AWARENESS_STATE:
            raise Refused(CLOSE_TOO_LARGE, "Awareness state too large")
        try:
            state = json.loads(text)
        except ValueError:
            raise malformed("awareness state is not JSON") from None
        if state is not None and not isinstance(state, dict):
            raise malformed("awareness state is not an object")
        entries.append(AwarenessEntry(client_id, clock, state))
    reader.end()
    return entries


def encode_awareness(entries: list[AwarenessEntry]) -> bytes:
    out = bytearray(var_uint(len(entries)))
    for entry in entries:
        out += var_uint(entry.client_id)
        out += var_uint(entry.clock)
        out += var_string(json.dumps(entry.state, separators=(",", ":")))
    return bytes(out)
