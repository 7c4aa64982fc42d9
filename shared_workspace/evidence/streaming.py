"""Streamed uploads through the API: the request body passes through to the store's
quarantine key in chunks, counted and hashed on its way, and is kept only when both match
what was declared. Its first bytes are judged before anything is stored, so a program named
``report.pdf`` is refused at once (415) rather than by the scan."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.storage.base import ReadableStream, Storage, UploadMismatch
from shared_workspace.evidence import scan
from shared_workspace.evidence.models import EvidenceFile, EvidenceItem, FileState
from shared_workspace.evidence.service import EvidenceError
from shared_workspace.evidence.uploads import (
    UploadSettings,
    allowed_words,
    check_declared,
    check_owner,
    check_sha256,
    duplicates,
    new_file,
    safe_content_type,
    storage_tags,
)
from tenants.models import User


class _Prefixed:
    """A stream that first returns ``head`` and then the rest of ``stream``."""

    def __init__(self, head: bytes, stream: ReadableStream) -> None:
        self._head = head
        self._stream = stream

    def read(self, size: int = -1, /) -> bytes:
        if self._head:
            if size is None or size < 0 or size >= len(self._head):
                data, self._head = self._head, b""
                return data
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._stream.read(size)


def _read_head(stream: ReadableStream, wanted: int) -> bytes:
    pieces: list[bytes] = []
    got = 0
    while got < wanted:
        data = stream.read(wanted - got)
        if not data:
            break
        pieces.append(data)
        got += len(data)
    return b"".join(pieces)


def stream_upload(
    session: Session,
    storage: Storage,
    item: EvidenceItem,
    user: User,
    *,
    filename: str,
    stream: ReadableStream,
    size: int | None,
    sha256: str | None,
    content_type: str | None,
    settings: UploadSettings,
) -> tuple[EvidenceFile, list[EvidenceFile]]:
    """Store a streamed upload in quarantine, checking size and hash on the way through."""
    check_owner(item, user)
    if size is None:
        raise EvidenceError("Send the file with a Content-Length header", "size", status=411)
    name = check_declared(filename, size, settings)
    declared = check_sha256(sha256) if sha256 else None
    head = _read_head(stream, min(size, scan.HEAD_BYTES))
    detected = scan.detect_head(head) if len(head) == size or len(head) >= 512 else None
    if detected is not None and detected.kind not in settings.allowed:
        raise EvidenceError(
            f"The content is {detected.description}, whatever its name says. "
            f"Upload {allowed_words(settings)}",
            "file",
            status=415,
        )
    file = new_file(item, user, name, size, safe_content_type(content_type))
    session.add(file)
    session.flush()
    try:
        # The store hashes and counts the stream once, on its way through, and keeps nothing
        # unless both match.
        info = storage.put(
            file.quarantine_key,
            _Prefixed(head, stream),
            content_type=file.declared_type,
            tags=storage_tags(item),
            size=size,
            sha256=declared,
        )
    except UploadMismatch as error:
        raise EvidenceError(
            "The file that arrived does not match its declared size or SHA-256: "
            f"{error}. Nothing was kept; send it again",
            "sha256" if "SHA-256" in str(error) else "size",
        ) from None
    file.declared_sha256 = declared or info.sha256
    file.state = FileState.UPLOADED.value
    session.flush()
    return file, duplicates(session, file)
