"""Uploads of evidence files: presigned multipart uploads from browsers, and streamed uploads
through the API. Every new object lands under a quarantine key, invisible, until the scan
job (jobs.py) has judged it and moved it to its evidence key.

The server never holds a whole file: browsers send parts straight to the store; streamed
uploads pass through in chunks while they are hashed.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Config
from app.db import utcnow
from app.storage.base import (
    MAX_PART_NUMBER,
    InvalidUpload,
    MiB,
    ObjectInfo,
    ReadableStream,
    Storage,
    UploadedPart,
    UploadMismatch,
    validate_content_type,
)
from shared_workspace.evidence import scan
from shared_workspace.evidence.models import EvidenceFile, EvidenceItem, FileState
from shared_workspace.evidence.service import EvidenceError, NotYours
from tenants.models import User

SHA256_HEX = re.compile(r"[0-9a-f]{64}")
#: Presigned part URLs last long enough for a slow connection to send one part.
PART_URL_SECONDS = 3600
#: Up to this size, completing a multipart upload reads the assembled object back from the
#: store to check its SHA-256 before answering (a few seconds at worst); larger files are
#: checked by the scan job, which reads every byte anyway (see ``complete_upload``).
VERIFY_ON_COMPLETION_BYTES = 256 * MiB
#: The reason given, at completion or by the scan, when the content is not what was declared.
HASH_MISMATCH = (
    "The file's SHA-256 does not match the one declared: it changed or was damaged on the "
    "way. Nothing was kept; upload it again"
)
MAX_FILENAME_BYTES = 255
_UNSAFE_NAME = re.compile(r"[/\\]|^\.+$")


@dataclass(frozen=True)
class UploadSettings:
    max_bytes: int
    allowed: frozenset[str]
    part_bytes: int
    clamd_address: str

    @classmethod
    def from_config(cls, config: Config) -> UploadSettings:
        return cls(
            max_bytes=config.evidence_max_bytes,
            allowed=frozenset(config.evidence_allowed_types),
            part_bytes=config.evidence_part_bytes,
            clamd_address=config.clamd_address,
        )


def human_size(size: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", MiB), ("KiB", 1024)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


def clean_filename(name: str) -> str:
    """The name to keep for a file, or EvidenceError naming what is wrong with it."""
    name = unicodedata.normalize("NFC", name or "").strip()
    if not name:
        raise EvidenceError("Give the file a name", "filename")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        raise EvidenceError("The file name contains control characters; rename it", "filename")
    if _UNSAFE_NAME.search(name) or ".." in name.split("."):
        raise EvidenceError(
            "The file name must be a plain name, without folders, '/', '\\' or '..'", "filename"
        )
    if len(name.encode("utf-8")) > MAX_FILENAME_BYTES:
        raise EvidenceError(
            f"The file name must be at most {MAX_FILENAME_BYTES} bytes long", "filename"
        )
    return name


def check_declared(filename: str, size: int | None, settings: UploadSettings) -> str:
    """Refuse what can be refused before any byte arrives: name, size and claimed type."""
    name = clean_filename(filename)
    if size is not None:
        if size <= 0:
            raise EvidenceError("The file is empty (0 bytes); choose the file again", "size")
        if size > settings.max_bytes:
            raise EvidenceError(
                f"The file is {human_size(size)}; files must be at most "
                f"{human_size(settings.max_bytes)} ({settings.max_bytes} bytes)",
                "size",
                status=413,
            )
    kind = scan.kind_of_extension(name)
    if kind is None or (kind and kind not in settings.allowed):
        raise EvidenceError(
            f"Files like {name!r} are not accepted. Upload {allowed_words(settings)}",
            "filename",
            status=415,
        )
    return name


def allowed_words(settings: UploadSettings) -> str:
    labels = {
        "pdf": "PDF",
        "office": "Office documents",
        "csv": "CSV",
        "text": "text",
        "email": "email",
        "image": "images",
        "audio": "audio",
        "video": "video",
    }
    return ", ".join(labels[k] for k in labels if k in settings.allowed)


def _owner_check(item: EvidenceItem, user: User) -> None:
    if user.tenant_id != item.tenant_id:
        raise NotYours("Only the inspectorate that recorded this evidence can add files to it")


def part_size_for(size: int, base: int) -> int:
    """The part size: ``base``, grown in whole MiB so no file needs over 10,000 parts."""
    if math.ceil(size / base) <= MAX_PART_NUMBER:
        return base
    return math.ceil(size / MAX_PART_NUMBER / MiB) * MiB


def part_count(file: EvidenceFile) -> int:
    return max(1, math.ceil(file.declared_size / file.part_size))


def storage_tags(item: EvidenceItem) -> dict[str, str]:
    return {
        "retention-class": item.retention_class,
        "tenant": str(item.tenant_id),
        "workspace": str(item.workspace_id),
    }


def _new_file(item: EvidenceItem, user: User, name: str, size: int, content_type: str) -> Any:
    return EvidenceFile(
        item_id=item.id,
        workspace_id=item.workspace_id,
        tenant_id=item.tenant_id,
        visibility=item.visibility,
        uploaded_by_id=user.id,
        filename=name,
        declared_size=size,
        declared_type=content_type,
        state=FileState.UPLOADING.value,
    )


def _content_type(value: str | None) -> str:
    try:
        return validate_content_type(value or None)
    except ValueError:
        return "application/octet-stream"


def start_upload(
    session: Session,
    storage: Storage,
    item: EvidenceItem,
    user: User,
    *,
    filename: str,
    size: int,
    content_type: str | None,
    settings: UploadSettings,
) -> EvidenceFile:
    """Begin a multipart upload into quarantine; the browser then asks for part URLs."""
    _owner_check(item, user)
    name = check_declared(filename, size, settings)
    file = _new_file(item, user, name, size, _content_type(content_type))
    file.part_size = part_size_for(size, settings.part_bytes)
    session.add(file)
    session.flush()
    file.upload_id = storage.create_multipart(
        file.quarantine_key, content_type=file.declared_type, tags=storage_tags(item)
    )
    session.flush()
    return file


class UploadRefused(EvidenceError):
    """The upload arrived but is not what was declared: the file is recorded as rejected (with
    ``reason``) and its object deleted, and that record is kept although the answer is an
    error, so the uploader and the file's page both say why."""


def _uploader_check(file: EvidenceFile, user: User) -> None:
    if file.uploaded_by_id != user.id:
        raise NotYours("Only the person who started this upload can send or finish it")
    if file.state == FileState.REJECTED.value and file.reason:
        raise EvidenceError(f"This upload was refused: {file.reason}", status=409)
    if file.state != FileState.UPLOADING.value:
        raise EvidenceError("This upload has already finished", status=409)


def presign_parts(
    storage: Storage, file: EvidenceFile, user: User, part_numbers: list[int]
) -> dict[int, str]:
    """URLs for the uploader to PUT the given parts to, straight into the store."""
    _uploader_check(file, user)
    last = part_count(file)
    bad = [n for n in part_numbers if not 1 <= n <= last]
    if bad or not part_numbers:
        raise EvidenceError(f"Part numbers must run from 1 to {last} for this file", "part_numbers")
    return {
        n: storage.presign_part(file.quarantine_key, file.upload_id, n, PART_URL_SECONDS)
        for n in part_numbers
    }


def uploaded_parts(storage: Storage, file: EvidenceFile) -> list[UploadedPart]:
    """The parts the store holds, so a browser can resume after a dropped connection."""
    if file.state != FileState.UPLOADING.value or not file.upload_id:
        return []
    return storage.list_parts(file.quarantine_key, file.upload_id)


def _check_parts(file: EvidenceFile, parts: list[UploadedPart]) -> None:
    expected = part_count(file)
    numbers = [p.part_number for p in parts]
    if numbers != list(range(1, expected + 1)):
        missing = sorted(set(range(1, expected + 1)) - set(numbers))
        raise EvidenceError(
            f"Parts {', '.join(map(str, missing[:10]))} have not arrived; send them, then finish",
            "parts",
        )
    for part in parts[:-1]:
        if part.size != file.part_size:
            raise EvidenceError(
                f"Part {part.part_number} has {part.size} bytes, not {file.part_size}", "parts"
            )
    total = sum(p.size for p in parts)
    if total != file.declared_size:
        raise EvidenceError(
            f"The parts add up to {total} bytes, not the declared {file.declared_size}", "size"
        )


def check_sha256(value: str) -> str:
    value = (value or "").strip().lower()
    if not SHA256_HEX.fullmatch(value):
        raise EvidenceError("Give the file's SHA-256 as 64 hexadecimal characters", "sha256")
    return value


def _assemble(storage: Storage, file: EvidenceFile) -> ObjectInfo:
    """Complete the multipart upload once its parts add up. When an earlier attempt completed
    it but its answer (and its transaction) was lost, the assembled object is taken as is."""
    try:
        parts = storage.list_parts(file.quarantine_key, file.upload_id)
    except InvalidUpload:
        if not storage.exists(file.quarantine_key):
            raise
        return storage.head(file.quarantine_key)
    _check_parts(file, parts)
    return storage.complete_multipart(file.quarantine_key, file.upload_id, parts)


def _sha256_of(storage: Storage, key: str) -> str:
    digest = hashlib.sha256()
    for chunk in storage.iter_chunks(key):
        digest.update(chunk)
    return digest.hexdigest()


def complete_upload(
    session: Session, storage: Storage, file: EvidenceFile, user: User, sha256: str
) -> list[EvidenceFile]:
    """Assemble the parts once their sizes add up and check the content against the declared
    SHA-256; returns earlier files with the same hash.

    A mismatch is refused here, with its reason, rather than accepted and rejected later:
    the object is deleted, the file recorded as rejected, and ``UploadRefused`` raised (the
    routes keep that record and answer 422). The hash comes from the store when it computed
    one while assembling (the folder backend), otherwise the object is read back in chunks,
    for files up to ``VERIFY_ON_COMPLETION_BYTES``; a larger file is accepted for scanning
    and the scan job, which reads it anyway, rejects a mismatch with the same reason, shown
    on the uploader and the file's page. The scan checks the hash of every file again.
    """
    if file.state == FileState.UPLOADED.value and file.uploaded_by_id == user.id:
        return duplicates(session, file)  # a retried request: already done
    _uploader_check(file, user)
    declared = check_sha256(sha256)
    assembled = _assemble(storage, file)
    file.declared_sha256 = declared
    file.upload_id = ""
    actual = assembled.sha256
    if actual is None and file.declared_size <= VERIFY_ON_COMPLETION_BYTES:
        actual = _sha256_of(storage, file.quarantine_key)
    if actual is not None and actual != declared:
        storage.delete(file.quarantine_key)
        file.state = FileState.REJECTED.value
        file.reason = HASH_MISMATCH
        file.size, file.sha256 = assembled.size, actual
        file.scanned_at = utcnow()
        session.flush()
        raise UploadRefused(HASH_MISMATCH, "sha256")
    file.state = FileState.UPLOADED.value
    session.flush()
    return duplicates(session, file)


def abort_upload(session: Session, storage: Storage, file: EvidenceFile, user: User) -> None:
    """Stop an upload: its parts are discarded and the file is recorded as cancelled."""
    _uploader_check(file, user)
    storage.abort_multipart(file.quarantine_key, file.upload_id)
    file.state = FileState.REJECTED.value
    file.reason = "The upload was cancelled"
    file.upload_id = ""
    session.flush()


def duplicates(session: Session, file: EvidenceFile) -> list[EvidenceFile]:
    """Other files of the workspace (that this inspectorate can see) with the same content."""
    digest = file.sha256 or file.declared_sha256
    if not digest:
        return []
    return list(
        session.scalars(
            select(EvidenceFile)
            .where(
                EvidenceFile.workspace_id == file.workspace_id,
                EvidenceFile.sha256 == digest,
                EvidenceFile.state == FileState.CLEAN.value,
                EvidenceFile.id != file.id,
            )
            .order_by(EvidenceFile.id)
            .limit(5)
        )
    )


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
    _owner_check(item, user)
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
    file = _new_file(item, user, name, size, _content_type(content_type))
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


def abandoned(session: Session, before: Any) -> Iterator[EvidenceFile]:
    yield from session.scalars(
        select(EvidenceFile).where(
            EvidenceFile.state == FileState.UPLOADING.value, EvidenceFile.created_at < before
        )
    )
