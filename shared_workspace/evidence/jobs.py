"""Evidence jobs: scanning quarantined uploads, building zip exports, housekeeping.

Each job takes the tenant's id and its own row's id, scopes its session to that tenant as a
request would be, and is idempotent: a crash at any point and a rerun end in the same state
(the state column and keys derived from the file's id make every step repeatable).
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import audit
from app.audit import Actor
from app.clock import clock
from app.db import get_database, set_context, utcnow
from app.jobs import enqueue, job, periodic
from app.storage import get_storage
from app.storage.base import CHUNK_SIZE, Storage
from shared_workspace.evidence import scan
from shared_workspace.evidence.models import (
    EvidenceExport,
    EvidenceFile,
    EvidenceItem,
    FileState,
)
from shared_workspace.evidence.tagging import put_tags
from shared_workspace.evidence.uploads import (
    HASH_MISMATCH,
    UploadSettings,
    allowed_words,
    duplicates,
    storage_tags,
)
from tenants.models import Tenant

log = logging.getLogger(__name__)

#: Uploads (and their records) left unfinished this long are discarded.
ABANDONED_AFTER = timedelta(hours=24)
#: Files still waiting for a scan this long after upload are scanned again.
SCAN_RETRY_AFTER = timedelta(minutes=10)
HOUSEKEEPING_SECONDS = 3600
PREFIXES = ("quarantine/", "evidence/", "exports/")

#: Tests set this to crash a scan at a named step ("copied", "released") and rerun it.
crash_hook: Callable[[str], None] | None = None


def _hook(step: str) -> None:
    if crash_hook is not None:
        crash_hook(step)


def _as(session: Session, tenant_id: int, label: str) -> None:
    set_context(session, tenant_id=tenant_id)
    session.info["actor"] = Actor(None, tenant_id, label)


def settings() -> UploadSettings:
    return UploadSettings.from_config(current_app.extensions["config"])


@dataclass(frozen=True)
class Inspection:
    size: int
    sha256: str
    detected: scan.Detected
    virus: str | None


def inspect(storage: Storage, key: str, upload: UploadSettings) -> Inspection:
    """Read the object once into a temporary file (disk, not memory), hashing it; judge its
    type from the content; ask clamd when configured."""
    digest = hashlib.sha256()
    size = 0
    with tempfile.TemporaryFile(prefix="evidence-scan-") as spool:
        for chunk in storage.iter_chunks(key):
            digest.update(chunk)
            size += len(chunk)
            spool.write(chunk)
        spool.flush()
        detected = scan.detect(spool)  # type: ignore[arg-type]
        virus = None
        if upload.clamd_address:
            virus = scan.clamd_scan(upload.clamd_address, _chunks(spool))  # type: ignore[arg-type]
    return Inspection(size, digest.hexdigest(), detected, virus)


def _chunks(handle: BinaryIO):  # type: ignore[no-untyped-def]
    handle.seek(0)
    while chunk := handle.read(CHUNK_SIZE):
        yield chunk


def _problem(file: EvidenceFile, found: Inspection, upload: UploadSettings) -> str | None:
    if found.size == 0:
        return "The file is empty (0 bytes)"
    if found.size != file.declared_size:
        return f"The file has {found.size} bytes, not the {file.declared_size} declared"
    if file.declared_sha256 and found.sha256 != file.declared_sha256:
        return HASH_MISMATCH
    if found.detected.kind not in upload.allowed:
        return (
            f"The content is {found.detected.description}, whatever its name says. "
            f"Upload {allowed_words(upload)}"
        )
    if found.virus:
        return f"The virus scanner found {found.virus}; the file was deleted"
    return None


def scan_one(session: Session, storage: Storage, file: EvidenceFile, upload: UploadSettings) -> str:
    """Judge a quarantined file and release it to its evidence key, or delete it and say why.

    Returns the file's state. Safe to rerun after a crash at any step: the evidence key is
    only written when absent, quarantine is deleted last, and the row changes commit once.
    """
    if file.state != FileState.UPLOADED.value:
        return file.state
    quarantine, evidence = file.quarantine_key, file.evidence_key
    released = storage.exists(evidence)
    source = quarantine if storage.exists(quarantine) else evidence if released else None
    if source is None:
        return _reject(session, file, "The uploaded file is missing; upload it again", None)
    found = inspect(storage, source, upload)
    problem = _problem(file, found, upload)
    if problem is not None:
        storage.delete(quarantine)
        storage.delete(evidence)
        return _reject(session, file, problem, found)
    if not released:
        storage.copy(quarantine, evidence)
    # The copy carries the tags given when the upload started; the item's retention class
    # may have changed since (retag_item_files skips files still uploading).
    put_tags(storage, evidence, storage_tags(file.item))
    _hook("copied")
    storage.delete(quarantine)
    _hook("released")
    file.state = FileState.CLEAN.value
    file.size, file.sha256 = found.size, found.sha256
    file.content_type = found.detected.mime
    file.scanned_at = utcnow()
    session.flush()
    earlier = duplicates(session, file)
    file.duplicate_of_id = earlier[0].id if earlier else None
    _record_scan(session, file, "clean", found)
    from retention.service import schedule_evidence_file

    schedule_evidence_file(session, file)
    return file.state


def _reject(session: Session, file: EvidenceFile, reason: str, found: Inspection | None) -> str:
    file.state = FileState.REJECTED.value
    file.reason = reason
    file.scanned_at = utcnow()
    if found is not None:
        file.size, file.sha256 = found.size, found.sha256
    _record_scan(session, file, "rejected", found)
    return file.state


def _record_scan(
    session: Session, file: EvidenceFile, verdict: str, found: Inspection | None
) -> None:
    session.flush()
    audit.record(
        session,
        tenant_id=file.tenant_id,
        action="evidence_file.scanned",
        object_type="evidence_file",
        object_id=file.id,
        changes={
            "verdict": verdict,
            "sha256": found.sha256 if found else None,
            "type": found.detected.mime if found else None,
            "reason": file.reason,
        },
    )


@job
def scan_file(session: Session, tenant_id: int, file_id: int) -> str | None:
    """The scan job for one upload (enqueued when the upload completes)."""
    _as(session, tenant_id, "evidence scan")
    file = session.scalar(
        select(EvidenceFile).where(EvidenceFile.id == file_id).with_for_update(of=EvidenceFile)
    )
    if file is None:
        return None
    return scan_one(session, get_storage(), file, settings())


@job
def retag_item_files(session: Session, tenant_id: int, item_id: int) -> int:
    """Give every stored object of the item's files the tags of its current retention class
    (queued when the class changes); returns how many objects were tagged. Idempotent: it
    reads the class when it runs, so reruns and late runs all end with the class in force.

    File rows are locked first, so a scan releasing one of them finishes before (and this
    then tags the released object) or waits until this has committed (and tags what it
    releases itself). Uploads still in progress get their tags when they are scanned.
    """
    _as(session, tenant_id, "evidence retagging")
    files = session.scalars(
        select(EvidenceFile)
        .where(
            EvidenceFile.item_id == item_id,
            EvidenceFile.state.in_([FileState.UPLOADED.value, FileState.CLEAN.value]),
        )
        .order_by(EvidenceFile.id)
        .with_for_update(of=EvidenceFile)
    ).all()
    item = session.get(EvidenceItem, item_id)
    if item is None:
        return 0
    storage, tags = get_storage(), storage_tags(item)
    tagged = 0
    for file in files:
        keys = [file.evidence_key]
        if file.state == FileState.UPLOADED.value:
            keys.insert(0, file.quarantine_key)  # and the evidence key, if a scan crashed
        tagged += sum(put_tags(storage, key, tags) for key in keys)
    return tagged


# -- zip export ------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^\w .-]+")


def _folder(item: EvidenceItem) -> str:
    return f"{item.id} {_UNSAFE.sub('_', item.title)[:60].strip()}"


def _progress(tenant_id: int, export_id: int, **values: object) -> None:
    """Write progress in a transaction of its own, so the page sees it while the job runs."""
    with get_database().transaction() as progress:
        _as(progress, tenant_id, "evidence export")
        progress.execute(
            update(EvidenceExport).where(EvidenceExport.id == export_id).values(**values)
        )


@job
def build_export(session: Session, tenant_id: int, export_id: int) -> str | None:
    """Zip every clean file this inspectorate can see in the workspace, with an index, into
    the store; the zip is written to a temporary file in chunks, never held in memory."""
    _as(session, tenant_id, "evidence export")
    export = session.get(EvidenceExport, export_id)
    if export is None or export.state == "ready":
        return export.state if export else None
    storage = get_storage()
    rows = session.execute(
        select(EvidenceFile, EvidenceItem)
        .join(EvidenceItem, EvidenceItem.id == EvidenceFile.item_id)
        .where(
            EvidenceFile.workspace_id == export.workspace_id,
            EvidenceFile.state == FileState.CLEAN.value,
        )
        .order_by(EvidenceItem.id, EvidenceFile.id)
    ).all()
    _progress(tenant_id, export_id, state="building", total_files=len(rows), done_files=0)
    index = io.StringIO()
    writer = csv.writer(index)
    writer.writerow(["item", "title", "method", "source", "marking", "file", "bytes", "sha256"])
    with tempfile.TemporaryFile(prefix="evidence-export-") as spool:
        with zipfile.ZipFile(spool, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            for done, (file, item) in enumerate(rows, start=1):
                name = f"{_folder(item)}/{file.id} {file.filename}"
                with archive.open(name, "w", force_zip64=True) as out:
                    for chunk in storage.iter_chunks(file.evidence_key):
                        out.write(chunk)
                writer.writerow(
                    [
                        item.id,
                        item.title,
                        item.method_label,
                        item.source,
                        item.protective_marking,
                        name,
                        file.size,
                        file.sha256,
                    ]
                )
                if done % 10 == 0 or done == len(rows):
                    _progress(tenant_id, export_id, done_files=done)
            archive.writestr("index.csv", index.getvalue())
        size = spool.tell()
        spool.seek(0)
        storage.put(export.key, spool, content_type="application/zip", size=size)
    # Retention may have destroyed files of the workspace (and expired this zip) while it was
    # built: then the zip just written must not outlive them.
    locked = session.scalar(
        select(EvidenceExport)
        .where(EvidenceExport.id == export_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None or locked.state == "failed":
        storage.delete(export.key)
        return "failed"
    export.state = "ready"
    export.size = size
    export.total_files = export.done_files = len(rows)
    export.finished_at = utcnow()
    session.flush()
    return export.state


# -- housekeeping ----------------------------------------------------------------------------


def abort_abandoned(session: Session, storage: Storage) -> int:
    """Abort multipart uploads older than 24 h, record their files as abandoned, and queue
    scans that never ran; returns how many uploads were aborted."""
    now = clock.now()
    cutoff = now - ABANDONED_AFTER
    aborted = 0
    #: Uploads our records know to be younger than a day (some stores report no real start).
    fresh: set[str] = set()
    set_context(session, tenant_id=None)
    for tenant_id in list(session.scalars(select(Tenant.id).order_by(Tenant.id))):
        _as(session, tenant_id, "evidence housekeeping")
        uploading = session.scalars(
            select(EvidenceFile).where(
                EvidenceFile.tenant_id == tenant_id,
                EvidenceFile.state == FileState.UPLOADING.value,
            )
        )
        for file in uploading:
            if file.created_at >= cutoff:
                fresh.add(file.upload_id)
                continue
            if file.upload_id:
                storage.abort_multipart(file.quarantine_key, file.upload_id)
                aborted += 1
            file.state = FileState.REJECTED.value
            file.reason = "The upload was left unfinished for 24 hours and has been discarded"
            file.upload_id = ""
        stuck = session.scalars(
            select(EvidenceFile.id).where(
                EvidenceFile.tenant_id == tenant_id,
                EvidenceFile.state == FileState.UPLOADED.value,
                EvidenceFile.created_at < now - SCAN_RETRY_AFTER,
            )
        ).all()
        for file_id in stuck:
            enqueue(scan_file, tenant_id, file_id)
    session.flush()
    set_context(session, tenant_id=None)
    for prefix in PREFIXES:
        for upload in storage.list_multipart_uploads(prefix):
            if upload.initiated < cutoff and upload.upload_id not in fresh:
                storage.abort_multipart(upload.key, upload.upload_id)
                aborted += 1
    return aborted


@periodic(HOUSEKEEPING_SECONDS)
@job
def evidence_housekeeping(session: Session) -> int:
    return abort_abandoned(session, get_storage())


@dataclass
class Reconciliation:
    #: Keys in the store that no record accounts for.
    orphans: list[str]
    #: (record, key) pairs whose object is missing.
    missing: list[tuple[str, str]]


def reconcile(session: Session, storage: Storage) -> Reconciliation:
    """Compare the store with the records: objects without a record, records without an
    object. Reads every tenant's records in turn, under that tenant's scope."""
    expected: dict[str, str] = {}
    set_context(session, tenant_id=None)
    for tenant_id in list(session.scalars(select(Tenant.id).order_by(Tenant.id))):
        set_context(session, tenant_id=tenant_id)
        for file in session.scalars(
            select(EvidenceFile).where(EvidenceFile.tenant_id == tenant_id)
        ):
            if file.state == FileState.CLEAN.value:
                expected[file.evidence_key] = f"evidence file {file.id}"
            elif file.state == FileState.UPLOADED.value:
                expected[file.quarantine_key] = f"evidence file {file.id} (awaiting scan)"
        for export in session.scalars(
            select(EvidenceExport).where(
                EvidenceExport.tenant_id == tenant_id, EvidenceExport.state == "ready"
            )
        ):
            expected[export.key] = f"evidence export {export.id}"
    set_context(session, tenant_id=None)
    stored = {info.key for prefix in PREFIXES for info in storage.list(prefix)}
    return Reconciliation(
        orphans=sorted(stored - expected.keys()),
        missing=sorted((label, key) for key, label in expected.items() if key not in stored),
    )
