"""Demo retention: in the demo inspection, a private notebook waiting for its event, a hold
with its reason and the retention agreement awaiting sign-off; and an earlier HMCPSI-led
inspection, made with the clock moved back, whose HMCPSI material the real sweep destroyed
the day before its publication date, with the certificate to show for it.

Every step goes through the services people use; running it again changes nothing."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import clock
from app.db import get_database, set_context
from app.storage import get_storage
from retention import actions, holds
from retention.models import Certificate, Hold
from retention.service import schedule_note
from retention.sweep import sweep_tenant
from shared_workspace import decisions, service
from shared_workspace.demo import TITLE, _act, _user
from shared_workspace.evidence import jobs, uploads
from shared_workspace.evidence import service as evidence
from shared_workspace.evidence.models import EvidenceFile, EvidenceItem
from shared_workspace.models import PrivateNote, Workspace, WorkspaceRole
from tenants.models import Tenant, User

EARLIER_TITLE = "Joint inspection of the prosecution of offences committed in prison custody"
#: How long ago the earlier inspection started, and its publication date after that.
EARLIER_STARTED = timedelta(days=300)
EARLIER_PUBLICATION = timedelta(days=100)
NOTEBOOK = "Notebook: police information-sharing interviews"
HOLD_REASON = "FOI request FOI-2026-0412 asks for the case sample summary"
#: The earlier inspection's evidence: (title, method, visibility, file name, content).
EARLIER_EVIDENCE = [
    (
        "Interview notes: prison prosecutions team",
        "interview",
        "inspectorate",
        "interview-notes.txt",
        b"The source described delays in referrals from prisons to the CPS.\n",
    ),
    (
        "Case file review summary",
        "file_examination",
        "workspace",
        "case-file-review.csv",
        b"case,charged within target,victim updated\nA,no,yes\nB,yes,yes\n",
    ),
    (
        "Charging data extract",
        "data",
        "inspectorate",
        "charging-data.csv",
        b"quarter,referrals,charged\nQ1,41,30\nQ2,38,29\n",
    ),
]


def seed_demo_retention(session: Session, demo: bool) -> list[str]:
    """Add the demo's retention story once; running it again changes nothing."""
    if not demo:
        return []
    tenants = {t.slug: t for t in session.scalars(select(Tenant))}
    lines = _demo_inspection(session, tenants)
    lines += _earlier_inspection(session, tenants)
    set_context(session, tenant_id=None, platform_admin=True)
    return lines


def _demo_inspection(session: Session, tenants: dict[str, Tenant]) -> list[str]:
    probation, cfrs = tenants["hmiprobation"], tenants["hmicfrs"]
    lead = _act(session, _user(session, probation, "lead.inspector"))
    workspace = session.scalar(select(Workspace).where(Workspace.title == TITLE))
    if workspace is None:
        return []
    # HMICFRS's notebook is destroyed once its notes are transcribed (an event not yet confirmed).
    inspector = _act(session, _user(session, cfrs, "inspector"))
    if session.scalar(select(PrivateNote.id).where(PrivateNote.title == NOTEBOOK)) is None:
        note = PrivateNote(
            workspace_id=workspace.id,
            tenant_id=inspector.tenant_id,
            author_id=inspector.id,
            title=NOTEBOOK,
            body="Force A: information about release dates arrives late.\n",
        )
        session.add(note)
        session.flush()
        schedule_note(session, note)
    manager = _act(session, _user(session, probation, "records.manager"))
    held = session.scalar(select(Hold.id).where(Hold.reason == HOLD_REASON))
    sample = session.scalar(
        select(EvidenceFile.id)
        .join(EvidenceItem, EvidenceItem.id == EvidenceFile.item_id)
        .where(
            EvidenceItem.workspace_id == workspace.id,
            EvidenceItem.title == "Case file sample: release planning",
        )
    )
    if held is None and sample is not None:
        holds.place_hold(
            session,
            manager,
            scope="item",
            reason_kind="foi",
            reason=HOLD_REASON,
            review_on=clock.today() + timedelta(days=90),
            material_type="evidence_file",
            material_id=sample,
        )
    _act(session, lead)
    # Proposed by the product as stage 1 ended (or now); the lead's records manager approves.
    decision = actions.propose_agreement(session, workspace, lead)
    if not any(
        a.tenant_id == manager.tenant_id and a.voided_at is None for a in decision.approvals
    ):
        decisions.answer(session, workspace, decision, _act(session, manager), approve=True)
    return [
        "  retention: a hold on the case sample (FOI), the retention agreement awaiting the "
        "HMI Prisons and HMICFRS records managers"
    ]


def _earlier_inspection(session: Session, tenants: dict[str, Tenant]) -> list[str]:
    cps, prisons = tenants["hmcpsi"], tenants["hmiprisons"]
    lead = _act(session, _user(session, cps, "lead.inspector"))
    if session.scalar(select(Workspace.id).where(Workspace.title == EARLIER_TITLE)) is None:
        clock.advance(-EARLIER_STARTED)
        try:
            _make_earlier(session, lead, cps, prisons)
        finally:
            clock.advance(EARLIER_STARTED)
    # The real sweep, in its own transactions (it commits phase by phase), so the inspection
    # must be committed first; it destroys nothing a second time.
    session.commit()
    sweep_tenant(get_database().transaction, cps.id, get_storage())
    _act(session, lead)
    certificate = session.scalar(
        select(Certificate)
        .where(Certificate.tenant_id == cps.id, Certificate.state == "complete")
        .order_by(Certificate.id)
        .limit(1)
    )
    if certificate is None:
        return []
    return [
        f"demo earlier inspection: {EARLIER_TITLE}",
        f"  HMCPSI destruction certificate {certificate.id}: {certificate.items} claim(s) ended, "
        f"{certificate.objects_deleted} object(s) deleted",
        "  e.g. records.manager@hmcpsi.example.gov.uk (Retention, Certificates)",
    ]


def _make_earlier(session: Session, lead: User, cps: Tenant, prisons: Tenant) -> None:
    workspace = service.create_workspace(
        session,
        title=EARLIER_TITLE,
        lead=lead,
        participants=[prisons],
        publication_date=clock.today() + EARLIER_PUBLICATION,
    )
    for tenant in (cps, prisons):
        for local, role in (
            ("lead.inspector", WorkspaceRole.LEAD_INSPECTOR),
            ("records.manager", WorkspaceRole.RECORDS_MANAGER),
        ):
            person = _act(session, _user(session, tenant, local))
            service.name_member(session, workspace, person=person, role=role, named_by=person)
    inspector = _act(session, _user(session, cps, "inspector"))
    storage, settings = get_storage(), jobs.settings()
    for title, method, visibility, name, content in EARLIER_EVIDENCE:
        item, _warnings = evidence.create_item(
            session,
            workspace,
            inspector,
            title=title,
            method=method,
            source="Senior crown prosecutor",
            visibility=visibility,
        )
        file, _duplicates = uploads.stream_upload(
            session,
            storage,
            item,
            inspector,
            filename=name,
            stream=io.BytesIO(content),
            size=len(content),
            sha256=None,
            content_type=None,
            settings=settings,
        )
        jobs.scan_one(session, storage, file, settings)
    note = PrivateNote(
        workspace_id=workspace.id,
        tenant_id=cps.id,
        author_id=inspector.id,
        title="Fieldwork notebook: HMP Leeds",
        body="Names and notes from the prosecutions team interviews.\n",
    )
    session.add(note)
    session.flush()
    schedule_note(session, note)
