"""Destruction leaves no copy: a destroyed document's exports, pending saves, comments,
suggestions and live edits go with it, evidence zips made before a destruction go too, and
the audit log (which is never rewritten) never held their text."""

from __future__ import annotations

import json
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import AuditEvent
from app.storage import Storage
from retention.models import State
from shared_workspace.documents.models import (
    Comment,
    Document,
    DocumentExport,
    DocumentVersion,
    PendingSave,
    Suggestion,
)
from shared_workspace.evidence.models import EvidenceExport
from tests.retention.conftest import (
    Founders,
    act_as,
    browser,
    claims,
    evidence_file,
    new_workspace,
    sweep,
)
from tests.shared_workspace.fixtures import name_everyone

PUBLICATION = date.today() + timedelta(days=40)
SECRET = "Officer Dibble admitted the logs were falsified"


def _document(cps, ws: int) -> int:  # type: ignore[no-untyped-def]
    made = cps.call(
        "POST",
        f"/api/v1/workspaces/{ws}/documents",
        {
            "kind": "emerging_findings",
            "title": "Emerging findings",
            "marking": "OFFICIAL-SENSITIVE",
            "sections": [{"key": "s", "title": "Findings", "body": f"<p>{SECRET}.</p>"}],
        },
    )
    assert made.status_code == 201, made.get_json()
    return int(made.get_json()["id"])


def test_a_destroyed_document_takes_every_copy_with_it(
    founders: Founders, session: Session, app: Flask, store: Storage, travel
) -> None:
    cps, probation = founders.hmcpsi, founders.hmiprobation
    ws = new_workspace(cps, "hmiprobation", publication=PUBLICATION)
    name_everyone(ws, cps, probation)
    doc = _document(cps, ws)
    path = f"/api/v1/workspaces/{ws}/documents/{doc}"
    # A comment, a suggestion, an export, and a pending save in each inspectorate's area.
    assert (
        probation.call(
            "POST", f"{path}/comments", {"section_key": "s", "quote": "Dibble", "body": SECRET}
        ).status_code
        == 201
    )
    assert (
        probation.call(
            "POST",
            f"{path}/suggestions",
            {"section_key": "s", "operation": "replace", "quote": "Dibble", "text": SECRET},
        ).status_code
        == 201
    )
    export = cps.call("POST", f"{path}/exports", {"format": "pdf"}).get_json()["id"]
    act_as(session, cps)
    key = session.get(DocumentExport, export).storage_key
    assert key and store.exists(key)
    head = cps.call("GET", path)
    sections = [{"key": "s", "title": "Findings", "body": "<p>Lead's rewrite.</p>"}]
    cps.client.put(
        path, json={"sections": sections}, headers={**cps.headers, "If-Match": head.headers["ETag"]}
    )
    stale = probation.client.put(
        path,
        json={"sections": [{**sections[0], "body": f"<p>{SECRET}, probation says.</p>"}]},
        headers={**probation.headers, "If-Match": head.headers["ETag"]},
    )
    assert stale.status_code == 409, stale.get_json()

    # HMCPSI's claim ends the day before publication; HMI Probation keeps sensitive material
    # three months after it: the document (and every copy) goes with the last claim.
    travel(PUBLICATION - timedelta(days=1))
    sweep(app, cps)
    assert store.exists(key)
    travel(PUBLICATION + relativedelta(months=3))
    sweep(app, probation)
    assert [c.state for c in claims(session, probation, "document", doc)] == [
        State.RELEASED,
        State.DESTROYED,
    ]
    assert not store.exists(key)

    for party in (cps, probation):
        act_as(session, party)
        session.expire_all()
        document = session.get(Document, doc)
        assert document is not None and document.destroyed_at is not None
        for version in session.scalars(
            select(DocumentVersion).where(DocumentVersion.document_id == doc)
        ):
            assert version.sections == []
        for pending in session.scalars(select(PendingSave).where(PendingSave.document_id == doc)):
            assert pending.sections == [] and pending.conflicts == []
        for comment in session.scalars(select(Comment).where(Comment.document_id == doc)):
            assert (comment.body, comment.quote) == ("", "")
        for suggestion in session.scalars(select(Suggestion).where(Suggestion.document_id == doc)):
            assert (suggestion.quote, suggestion.text) == ("", "")
        events = session.scalars(select(AuditEvent.changes)).all()
        assert SECRET not in json.dumps(events, default=str)
    act_as(session, probation)
    assert session.scalars(select(PendingSave.id).where(PendingSave.document_id == doc)).all()
    act_as(session, cps)
    exported = session.get(DocumentExport, export)
    assert exported is not None and exported.status == "failed" and "Destroyed" in exported.error

    # The pages and the API say it is gone and why; nothing can write to it again.
    lead = browser(app, cps)
    page = lead.get(f"/workspaces/{ws}/documents/{doc}")
    assert page.status_code == 410
    assert "destroyed on" in page.get_data(as_text=True)
    listing = lead.get(f"/workspaces/{ws}/documents").get_data(as_text=True)
    assert "Destroyed" in listing and f'/documents/{doc}"' not in listing
    download = lead.get(f"/workspaces/{ws}/document-exports/{export}/download")
    assert download.status_code in (302, 410) and "/files/" not in download.headers.get(
        "Location", ""
    )
    assert lead.get(f"/workspaces/{ws}/documents/{doc}/history").status_code == 410
    saved = lead.post(f"/workspaces/{ws}/documents/{doc}/sections/s", data={"body": "back"})
    assert saved.status_code == 410


def test_an_evidence_zip_made_before_a_destruction_goes_with_the_files(
    founders: Founders, session: Session, app: Flask, store: Storage, travel
) -> None:
    cps = founders.hmcpsi
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    _, gone = evidence_file(cps, ws, b"% interview", method="interview", visibility="inspectorate")
    started = cps.call("POST", f"/api/v1/workspaces/{ws}/evidence-exports")
    assert started.status_code == 202
    export = started.get_json()["id"]
    act_as(session, cps)
    zipped = session.get(EvidenceExport, export)
    assert zipped is not None and zipped.state == "ready" and store.exists(zipped.key)

    travel(PUBLICATION - timedelta(days=1))
    result = sweep(app, cps)
    assert result.ended == 1
    assert not store.exists(zipped.key)
    session.expire_all()
    act_as(session, cps)
    zipped = session.get(EvidenceExport, export)
    assert zipped is not None and zipped.state == "failed"
    assert "Destroyed" in zipped.error and "certificate" in zipped.error
    lead = browser(app, cps)
    assert lead.get(f"/workspaces/{ws}/evidence/exports/{export}/download").status_code == 404
    # Rerunning the sweep changes nothing.
    assert sweep(app, cps).ended == 0


def test_an_export_still_being_built_when_its_document_is_destroyed_leaves_nothing(
    founders: Founders, session: Session, app: Flask, store: Storage, travel
) -> None:
    """The export's key is known before the job writes it: the sweep deletes it, expires the
    export, and the job, finishing late, finds it expired and deletes what it wrote."""
    from shared_workspace.documents import exports

    cps, probation = founders.hmcpsi, founders.hmiprobation
    ws = new_workspace(cps, "hmiprobation", publication=PUBLICATION)
    doc = _document(cps, ws)
    act_as(session, cps)
    late = DocumentExport(
        document_id=doc,
        workspace_id=ws,
        tenant_id=cps.tenant.id,
        requested_by_id=cps.user.id,
        version_number=1,
        format="pdf",
    )
    session.add(late)
    session.commit()
    late_id, key = late.id, exports.export_key(late)
    travel(PUBLICATION - timedelta(days=1))
    sweep(app, cps)
    travel(PUBLICATION + relativedelta(months=3))
    sweep(app, probation)
    with app.app_context():
        assert exports.build_export(late_id, cps.tenant.id) in ("destroyed", "failed")
    assert not store.exists(key)
    act_as(session, cps)
    session.expire_all()
    row = session.get(DocumentExport, late_id)
    assert row is not None and row.status == "failed" and row.storage_key == ""


def test_a_file_only_its_owner_could_see_leaves_partners_zips_alone(
    founders: Founders, session: Session, app: Flask, store: Storage, travel
) -> None:
    cps, prisons = founders.hmcpsi, founders.hmiprisons
    ws = new_workspace(cps, "hmiprisons", publication=PUBLICATION)
    evidence_file(cps, ws, b"% interview", method="interview", visibility="inspectorate")
    theirs = prisons.call("POST", f"/api/v1/workspaces/{ws}/evidence-exports").get_json()["id"]
    travel(PUBLICATION - timedelta(days=1))
    assert sweep(app, cps).ended == 1
    act_as(session, prisons)
    session.expire_all()
    kept = session.get(EvidenceExport, theirs)
    assert kept is not None and kept.state == "ready" and store.exists(kept.key)
