"""A multipart upload is checked against the SHA-256 its uploader declared: refused when it is
completed (with the reason, nothing kept), and judged again by the scan, on both backends."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import select, update

from app.audit import AuditEvent
from app.db import set_context
from app.storage import Storage
from shared_workspace.evidence import api as evidence_api
from shared_workspace.evidence import jobs, uploads
from shared_workspace.evidence.models import EvidenceFile
from tests.shared_workspace.evidence.conftest import PDF, World, file_state, new_item, upload

CONTENT = PDF + b"%" + b"z" * 300


def _keys(store: Storage) -> list[str]:
    return [info.key for info in store.list()]


def _queue(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, tuple[Any, ...]]]:
    """Keep the jobs the API queues, to run them by hand."""
    queued: list[tuple[Any, tuple[Any, ...]]] = []
    monkeypatch.setattr(evidence_api, "enqueue", lambda func, *args: queued.append((func, args)))
    return queued


def test_a_hash_mismatch_is_refused_at_completion_with_its_reason_and_nothing_kept(
    world: World, store: Storage, session, monkeypatch
) -> None:
    queued = _queue(monkeypatch)
    item = new_item(world.lead, world.workspace)["item"]["id"]
    files = f"/api/v1/workspaces/{world.workspace}/evidence/{item}/files"

    file_id, done = upload(world.lead, world.workspace, item, CONTENT, sha256="ab" * 32)

    assert done.status_code == 422, done.get_json()
    problem = done.get_json()
    assert problem["detail"] == uploads.HASH_MISMATCH
    assert problem["errors"] == {"sha256": [uploads.HASH_MISMATCH]}
    assert queued == []  # nothing to scan
    assert _keys(store) == [] and list(store.list_multipart_uploads()) == []
    # The refusal is kept although the answer was an error: the file says why.
    refused = file_state(world.lead, world.workspace, item, file_id)
    assert (refused["state"], refused["reason"]) == ("rejected", uploads.HASH_MISMATCH)
    assert refused["sha256"] == hashlib.sha256(CONTENT).hexdigest()
    again = world.lead.call("POST", f"{files}/{file_id}/complete", {"sha256": "ab" * 32})
    assert again.status_code == 409
    assert again.get_json()["detail"] == f"This upload was refused: {uploads.HASH_MISMATCH}"
    set_context(session, tenant_id=world.lead.tenant.id)
    changes = session.scalars(
        select(AuditEvent.changes).where(
            AuditEvent.object_type == "evidence_file", AuditEvent.object_id == str(file_id)
        )
    ).all()
    assert any(c.get("state") == ["uploading", "rejected"] for c in changes), changes


def test_the_right_hash_is_accepted_at_completion_and_scanned(world: World, store: Storage) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    digest = hashlib.sha256(CONTENT).hexdigest()

    file_id, done = upload(world.lead, world.workspace, item, CONTENT, sha256=digest.upper())

    assert done.status_code == 202, done.get_json()
    scanned = file_state(world.lead, world.workspace, item, file_id)
    assert (scanned["state"], scanned["sha256"]) == ("clean", digest)


@pytest.mark.s3
def test_a_file_too_large_to_hash_at_completion_is_rejected_by_the_scan(
    world: World, s3_storage, app, monkeypatch
) -> None:
    # S3 keeps no SHA-256 of an assembled upload: above the limit the scan is the check.
    monkeypatch.setattr(uploads, "VERIFY_ON_COMPLETION_BYTES", len(CONTENT) - 1)
    app.extensions["storage"] = s3_storage
    try:
        item = new_item(world.lead, world.workspace)["item"]["id"]
        file_id, done = upload(world.lead, world.workspace, item, CONTENT, sha256="cd" * 32)
        keys = _keys(s3_storage)
    finally:
        app.extensions.pop("storage", None)

    assert done.status_code == 202, done.get_json()
    rejected = file_state(world.lead, world.workspace, item, file_id)
    assert (rejected["state"], rejected["reason"]) == ("rejected", uploads.HASH_MISMATCH)
    assert keys == []


def test_the_scan_rejects_and_deletes_a_file_that_is_not_what_was_declared(
    world: World, store: Storage, session, monkeypatch, app
) -> None:
    queued = _queue(monkeypatch)
    item = new_item(world.lead, world.workspace)["item"]["id"]
    file_id, done = upload(world.lead, world.workspace, item, CONTENT)
    assert done.status_code == 202 and len(queued) == 1
    # As when a file too large to hash at completion was declared with the wrong hash.
    set_context(session, tenant_id=world.lead.tenant.id)
    session.execute(
        update(EvidenceFile).where(EvidenceFile.id == file_id).values(declared_sha256="ef" * 32)
    )
    session.commit()

    func, args = queued[0]
    assert func is jobs.scan_file
    with app.app_context():
        assert func(*args) == "rejected"
        assert func(*args) == "rejected"  # a rerun changes nothing

    rejected = file_state(world.lead, world.workspace, item, file_id)
    assert (rejected["state"], rejected["reason"]) == ("rejected", uploads.HASH_MISMATCH)
    assert _keys(store) == []


def test_completing_again_after_a_lost_answer_finishes_the_upload(
    world: World, store: Storage, session
) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    file_id, _ = upload(world.lead, world.workspace, item, CONTENT, complete=False)
    set_context(session, tenant_id=world.lead.tenant.id)
    file = session.get(EvidenceFile, file_id)
    # The first completion assembled the parts, then its transaction was lost.
    store.complete_multipart(file.quarantine_key, file.upload_id)
    base = f"/api/v1/workspaces/{world.workspace}/evidence/{item}/files/{file_id}"

    done = world.lead.call(
        "POST", f"{base}/complete", {"sha256": hashlib.sha256(CONTENT).hexdigest()}
    )

    assert done.status_code == 202, done.get_json()
    assert file_state(world.lead, world.workspace, item, file_id)["state"] == "clean"
    assert _keys(store) == [f"evidence/{world.lead.tenant.id}/{world.workspace}/{item}/{file_id}"]


def test_a_lost_answer_then_a_wrong_hash_is_still_refused(
    world: World, store: Storage, session
) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    file_id, _ = upload(world.lead, world.workspace, item, CONTENT, complete=False)
    set_context(session, tenant_id=world.lead.tenant.id)
    file = session.get(EvidenceFile, file_id)
    store.complete_multipart(file.quarantine_key, file.upload_id)
    base = f"/api/v1/workspaces/{world.workspace}/evidence/{item}/files/{file_id}"

    done = world.lead.call("POST", f"{base}/complete", {"sha256": "01" * 32})

    assert done.status_code == 422
    assert file_state(world.lead, world.workspace, item, file_id)["state"] == "rejected"
    assert _keys(store) == []
