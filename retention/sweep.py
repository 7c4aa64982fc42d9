"""The destruction sweep: two-phase, idempotent, with a certificate.

For each inspectorate in turn, under its own scope:

0. **Finish** any certificate a crashed sweep left ``pending`` (steps 2 and 3 again).
1. **Claim** (one transaction): the due, unheld claims move to ``destroying`` under a new
   ``pending`` certificate; each is marked ``destroy_object`` when no other inspectorate's
   claim on the item is still open, so the object goes with it. Nothing is deleted yet.
2. **Delete** the marked objects from storage, every version (S3 batch deletes). Deleting an
   object that is already gone is not an error, so a rerun repeats this step safely.
3. **Record** (one transaction): purge the text of documents and notes, mark files
   destroyed, end the claims (``destroyed`` or ``released``), write the certificate's digest
   and mark it ``complete``; audit.

A crash between any two steps leaves a ``pending`` certificate that the next sweep finishes:
each claim ends exactly once, under one certificate, and no object outlives its claims.
Claims whose action is review or transfer become tasks for records managers; people hear
about destruction ahead (``retention.service.warning_days``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import case, exists, select, update
from sqlalchemy.orm import Session, aliased

from app import audit
from app.clock import clock
from app.db import set_context, utcnow
from app.jobs import job, periodic
from app.storage import Storage, get_storage
from retention.holds import not_held
from retention.models import (
    ENDED_STATES,
    Action,
    Certificate,
    MaterialType,
    Schedule,
    State,
)
from retention.rules import start_of_day
from retention.service import as_tenant, warning_days
from shared_workspace.documents.models import (
    Comment,
    Document,
    DocumentExport,
    DocumentVersion,
    PendingSave,
    Suggestion,
)
from shared_workspace.evidence.models import EvidenceExport, EvidenceFile, FileState
from shared_workspace.models import Member, Participant, PrivateNote, Workspace, WorkspaceRole
from tenants.models import Role, Tenant, User, UserRole

SWEEP_INTERVAL_SECONDS = 3600
#: Claims one certificate ends at most; a larger backlog is finished by the next runs.
BATCH_LIMIT = 50_000


@dataclass
class SweepResult:
    certificates: list[int] = field(default_factory=list)
    ended: int = 0
    objects_deleted: int = 0
    tasks: int = 0
    warnings: int = 0


def _now() -> datetime:
    return clock.now()


def _due(tenant_id: int, now: datetime):  # type: ignore[no-untyped-def]
    return (
        select(Schedule.id)
        .where(
            Schedule.tenant_id == tenant_id,
            Schedule.state == State.SCHEDULED.value,
            Schedule.action == Action.DESTROY.value,
            Schedule.due_at <= now,
            not_held(),
        )
        .order_by(Schedule.id)
        .limit(BATCH_LIMIT)
    )


def claim_due(session: Session, tenant_id: int, now: datetime) -> Certificate | None:
    """Phase one: move the tenant's due, unheld destroy claims under a pending certificate.

    Set-based: the claims are chosen, locked and moved by the database in one statement (no
    id lists travel), so ten thousand claims cost about what one does."""
    orphans = _orphaned(tenant_id)
    anything = session.scalar(select(_due(tenant_id, now).exists())) or session.scalar(
        select(orphans.exists())
    )
    if not anything:
        return None
    certificate = Certificate(tenant_id=tenant_id, state="pending", started_at=utcnow())
    session.add(certificate)
    session.flush()
    # The object goes with the claim when no other claim on the item is still open; a batch
    # holds one claim per item (one per inspectorate), so the test sees no claim of its own.
    other = aliased(Schedule)
    last_claim = ~(
        exists()
        .where(
            other.material_type == Schedule.material_type,
            other.material_id == Schedule.material_id,
            other.id != Schedule.id,
            other.state.not_in([s.value for s in ENDED_STATES]),
        )
        .correlate(Schedule)
    )
    claimed = session.execute(
        update(Schedule)
        .where(Schedule.id.in_(_due(tenant_id, now).with_for_update(skip_locked=True)))
        .values(
            state=State.DESTROYING.value,
            certificate_id=certificate.id,
            destroy_object=last_claim,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    adopted = session.execute(
        update(Schedule)
        .where(Schedule.id.in_(orphans))
        .values(state=State.DESTROYING.value, certificate_id=certificate.id, destroy_object=True)
        .execution_options(synchronize_session=False)
    ).rowcount
    audit.record(
        session,
        tenant_id=tenant_id,
        action="retention.destruction.started",
        object_type="retention_certificate",
        object_id=certificate.id,
        changes={"claims": claimed + adopted, "due_by": now.isoformat()},
    )
    return certificate


def _orphaned(tenant_id: int):  # type: ignore[no-untyped-def]
    """The tenant's released claims on items whose every claim has ended but which no sweep
    destroyed (two inspectorates' sweeps each ended their claim at the same moment)."""
    other = aliased(Schedule)
    open_claim = exists().where(
        other.material_type == Schedule.material_type,
        other.material_id == Schedule.material_id,
        other.state.not_in([State.RELEASED.value, State.TRANSFERRED.value]),
    )
    destroyed = exists().where(
        other.material_type == Schedule.material_type,
        other.material_id == Schedule.material_id,
        other.destroy_object.is_(True),
    )
    return (
        select(Schedule.id)
        .where(
            Schedule.tenant_id == tenant_id,
            Schedule.state == State.RELEASED.value,
            ~open_claim,
            ~destroyed,
        )
        .order_by(Schedule.id)
        .limit(BATCH_LIMIT)
    )


def delete_objects(session: Session, certificate: Certificate, storage: Storage) -> int:
    """Phase two: delete every version of each object the certificate destroys."""
    keys = [
        key
        for key in session.scalars(
            select(Schedule.object_key).where(
                Schedule.certificate_id == certificate.id,
                Schedule.destroy_object.is_(True),
                Schedule.object_key != "",
            )
        )
    ]
    copies = [key for _tenant, _model, _id, key in _copies(session, certificate) if key]
    storage.delete_many(keys + copies)
    return len(keys) + len(copies)


def _copies(session: Session, certificate: Certificate) -> list[tuple[int, type, int, str]]:
    """Stored copies of what the certificate destroys, in the private areas that can hold
    them: every export of a destroyed document (finished or still being built: its key is
    known in advance), and every evidence zip, finished or building, of a workspace whose
    files it destroys, of the inspectorates that could see those files (all participants
    for shared files, the owner alone for its own) — a zip may hold them, and nobody can tell
    it apart from one that does not. Each as (tenant, model, id, storage key); exports
    already expired are not listed again."""
    from shared_workspace.documents.exports import export_key

    documents = _ids(session, certificate.id, MaterialType.DOCUMENT)
    files = session.execute(
        select(Schedule.workspace_id, Schedule.visibility, Schedule.owner_tenant_id)
        .where(
            Schedule.certificate_id == certificate.id,
            Schedule.destroy_object.is_(True),
            Schedule.material_type == MaterialType.EVIDENCE_FILE.value,
        )
        .distinct()
    ).all()
    if not documents and not files:
        return []
    document_workspaces = set(
        session.scalars(select(Document.workspace_id).where(Document.id.in_(documents)))
    )
    participants: dict[int, set[int]] = {}
    for workspace_id, tenant_id in session.execute(
        select(Participant.workspace_id, Participant.tenant_id).where(
            Participant.workspace_id.in_(document_workspaces | {f.workspace_id for f in files})
        )
    ):
        participants.setdefault(workspace_id, set()).add(tenant_id)
    # (tenant, workspace) pairs whose zips may hold a destroyed file.
    zips: set[tuple[int, int]] = set()
    for workspace_id, visibility, owner in files:
        seers = participants.get(workspace_id, set()) if visibility == "workspace" else {owner}
        zips |= {(tenant_id, workspace_id) for tenant_id in seers}
    tenants = sorted(
        {t for w in document_workspaces for t in participants.get(w, set())} | {t for t, _w in zips}
    )
    found: list[tuple[int, type, int, str]] = []
    for tenant_id in tenants:
        with as_tenant(session, tenant_id):
            for export in session.scalars(
                select(DocumentExport).where(
                    DocumentExport.tenant_id == tenant_id,
                    DocumentExport.document_id.in_(documents),
                    DocumentExport.status != "failed",
                )
            ):
                found.append((tenant_id, DocumentExport, export.id, export_key(export)))
            mine = [w for t, w in zips if t == tenant_id]
            for export in session.scalars(
                select(EvidenceExport).where(
                    EvidenceExport.tenant_id == tenant_id,
                    EvidenceExport.workspace_id.in_(mine),
                    EvidenceExport.state != "failed",
                )
            ):
                found.append((tenant_id, EvidenceExport, export.id, export.key))
    return found


def _purge_copies(
    session: Session, certificate: Certificate, now: datetime, storage: Storage
) -> None:
    """Phase three for the copies: expire the exports (their objects went in phase two), and
    empty every pending save, comment, suggestion and live edit of the destroyed documents."""
    reason = (
        f"Destroyed on {now:%d %B %Y} under the retention rules "
        f"(destruction certificate {certificate.id})"
    )
    copies = _copies(session, certificate)
    # An export finished between phase two and now wrote its object after phase two deleted
    # what was there: delete again (deleting nothing is not an error). One finishing after
    # this commits finds itself expired and deletes its own object (the export jobs check).
    storage.delete_many([key for _t, _m, _i, key in copies])
    for tenant_id, model, ident, _key in copies:
        with as_tenant(session, tenant_id):
            if model is DocumentExport:
                values = {"status": "failed", "storage_key": "", "error": reason}
            else:
                values = {"state": "failed", "error": reason}
            session.execute(
                update(model)
                .where(model.id == ident)  # type: ignore[attr-defined]
                .values(**values)
                .execution_options(synchronize_session=False)
            )
    documents = _ids(session, certificate.id, MaterialType.DOCUMENT)
    if not documents:
        return
    session.execute(
        update(Comment)
        .where(Comment.document_id.in_(documents))
        .values(quote="", body="", response="", source="")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Suggestion)
        .where(Suggestion.document_id.in_(documents))
        .values(quote="", text="", reason="")
        .execution_options(synchronize_session=False)
    )
    from shared_workspace.publication.models import Circulation, CirculationComment

    circulated = select(Circulation.id).where(Circulation.document_id.in_(documents))
    session.execute(
        update(CirculationComment)
        .where(CirculationComment.circulation_id.in_(circulated))
        .values(text="", reference="", response="")
        .execution_options(synchronize_session=False)
    )
    workspaces = select(Document.workspace_id).where(Document.id.in_(documents))
    tenants = sorted(
        set(
            session.scalars(
                select(Participant.tenant_id).where(Participant.workspace_id.in_(workspaces))
            )
        )
    )
    for tenant_id in tenants:
        with as_tenant(session, tenant_id):
            session.execute(
                update(PendingSave)
                .where(PendingSave.document_id.in_(documents))
                .values(sections=[], conflicts=[])
                .execution_options(synchronize_session=False)
            )
    _purge_live_updates(session, documents)


def _ids(session: Session, certificate_id: int, material_type: MaterialType) -> list[int]:
    return list(
        session.scalars(
            select(Schedule.material_id).where(
                Schedule.certificate_id == certificate_id,
                Schedule.destroy_object.is_(True),
                Schedule.material_type == material_type.value,
            )
        )
    )


def record_destruction(
    session: Session, certificate: Certificate, deleted: int, storage: Storage
) -> None:
    """Phase three: purge the material's text, end the claims, complete the certificate."""
    now = utcnow()
    owners = session.scalars(
        select(Schedule.owner_tenant_id)
        .where(
            Schedule.certificate_id == certificate.id,
            Schedule.destroy_object.is_(True),
            Schedule.material_type == MaterialType.EVIDENCE_FILE.value,
        )
        .distinct()
    ).all()
    for owner in sorted(owners):
        doomed = select(Schedule.material_id).where(
            Schedule.certificate_id == certificate.id,
            Schedule.destroy_object.is_(True),
            Schedule.material_type == MaterialType.EVIDENCE_FILE.value,
            Schedule.owner_tenant_id == owner,
        )
        # Only the owning inspectorate writes its evidence rows (row-level security): the
        # sweep marks a shared file destroyed on its owner's behalf once no claim needs it.
        with as_tenant(session, owner):
            session.execute(
                update(EvidenceFile)
                .where(EvidenceFile.id.in_(doomed))
                .values(state=FileState.DESTROYED.value, upload_id="")
                .execution_options(synchronize_session=False)
            )
    document_ids = _ids(session, certificate.id, MaterialType.DOCUMENT)
    if document_ids:
        session.execute(
            update(DocumentVersion)
            .where(DocumentVersion.document_id.in_(document_ids))
            .values(sections=[])
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Document)
            .where(Document.id.in_(document_ids))
            .values(destroyed_at=now)
            .execution_options(synchronize_session=False)
        )
    _purge_copies(session, certificate, now, storage)
    note_ids = _ids(session, certificate.id, MaterialType.PRIVATE_NOTE)
    if note_ids:
        session.execute(
            update(PrivateNote)
            .where(PrivateNote.id.in_(note_ids))
            .values(body="", destroyed_at=now)
            .execution_options(synchronize_session=False)
        )
    session.execute(
        update(Schedule)
        .where(
            Schedule.certificate_id == certificate.id,
            Schedule.state == State.DESTROYING.value,
        )
        .values(
            state=case(
                (Schedule.destroy_object.is_(True), State.DESTROYED.value),
                else_=State.RELEASED.value,
            ),
            ended_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    digest, items = certificate_digest(session, certificate.id)
    certificate.state = "complete"
    certificate.completed_at = now
    certificate.items = items
    certificate.objects_deleted = deleted
    certificate.digest = digest
    session.flush()
    audit.record(
        session,
        tenant_id=certificate.tenant_id,
        action="retention.destruction.completed",
        object_type="retention_certificate",
        object_id=certificate.id,
        changes={"items": items, "objects_deleted": deleted, "digest": digest},
    )


def _purge_live_updates(session: Session, document_ids: list[int]) -> None:
    from sqlalchemy import delete

    from shared_workspace.documents.live_models import LiveSection, LiveUpdate

    sections = select(LiveSection.id).where(LiveSection.document_id.in_(document_ids))
    session.execute(
        delete(LiveUpdate)
        .where(LiveUpdate.live_section_id.in_(sections))
        .execution_options(synchronize_session=False)
    )


def certificate_digest(session: Session, certificate_id: int) -> tuple[str, int]:
    """SHA-256 over the certificate's tombstones in id order, and how many there are."""
    digest = hashlib.sha256()
    count = 0
    rows = session.execute(
        select(
            Schedule.id,
            Schedule.material_type,
            Schedule.material_id,
            Schedule.title,
            Schedule.rule_id,
            Schedule.disposal_on,
            Schedule.sha256,
            Schedule.destroy_object,
        )
        .where(Schedule.certificate_id == certificate_id)
        .order_by(Schedule.id)
    )
    for row in rows:
        digest.update("|".join(str(value) for value in row).encode() + b"\n")
        count += 1
    return digest.hexdigest(), count


def finish(session: Session, certificate: Certificate, storage: Storage) -> int:
    deleted = delete_objects(session, certificate, storage)
    record_destruction(session, certificate, deleted, storage)
    return deleted


def open_tasks(session: Session, tenant_id: int, now: datetime) -> int:
    """Due review and transfer claims become records managers' tasks."""
    moved = 0
    for action, state in ((Action.REVIEW, State.REVIEW), (Action.TRANSFER, State.TRANSFER)):
        result = session.execute(
            update(Schedule)
            .where(
                Schedule.tenant_id == tenant_id,
                Schedule.state == State.SCHEDULED.value,
                Schedule.action == action.value,
                Schedule.due_at <= now,
            )
            .values(state=state.value)
            .execution_options(synchronize_session=False)
        )
        moved += result.rowcount or 0
    if moved:
        audit.record(
            session,
            tenant_id=tenant_id,
            action="retention.tasks.opened",
            object_type="tenant",
            object_id=tenant_id,
            changes={"claims": moved},
        )
    return moved


def warn(session: Session, tenant: Tenant, today: date) -> int:
    """Records managers, and each workspace's lead inspectors, hear about destruction ahead
    (``warning_days`` of the tenant). Destruction before the report is published (HMCPSI's
    rule for everything but data and the published report) is said so, and the lead
    inspectors of every participating inspectorate hear of it: the joint work is not finished
    and the material goes from the shared workspace."""
    from sqlalchemy import func

    from shared_workspace.reminders import notify

    horizon = start_of_day(today + timedelta(days=warning_days(session, tenant) + 1))
    groups = session.execute(
        select(Schedule.workspace_id, Schedule.disposal_on, func.count(Schedule.id))
        .where(
            Schedule.tenant_id == tenant.id,
            Schedule.state == State.SCHEDULED.value,
            Schedule.action == Action.DESTROY.value,
            Schedule.due_at < horizon,
            not_held(),
        )
        .group_by(Schedule.workspace_id, Schedule.disposal_on)
    ).all()
    if not groups:
        return 0
    managers = list(
        session.scalars(
            select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(User.tenant_id == tenant.id, UserRole.role == Role.RECORDS_MANAGER.value)
        )
    )
    sent = 0
    for workspace_id, disposal_on, count in groups:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        early = (
            workspace.published_at is None
            and workspace.publication_date is not None
            and disposal_on < workspace.publication_date
        )
        leads = session.execute(
            select(Member.user_id, Member.tenant_id).where(
                Member.workspace_id == workspace_id,
                Member.role == WorkspaceRole.LEAD_INSPECTOR.value,
                *([] if early else [Member.tenant_id == tenant.id]),
            )
        ).all()
        text = (
            f"{workspace.title}: {count} item(s) are due to be destroyed under {tenant.name}'s "
            f"retention rules on {disposal_on:%-d %B %Y}"
            + (
                f", before the report is published on {workspace.publication_date:%-d %B %Y}. "
                "Make sure nothing the report still needs is only in them"
                if early
                else ""
            )
            + ". Place a hold before then if any must be kept."
        )
        recipients = {(user_id, tenant.id) for user_id in managers} | set(leads)
        for user_id, tenant_id in sorted(recipients):
            with as_tenant(session, tenant_id):
                sent += notify(
                    session,
                    user_id,
                    tenant_id,
                    key=f"retention:{tenant.id}:{workspace_id}:{disposal_on}",
                    text=text,
                    link=f"/workspaces/{workspace_id}/retention",
                    workspace_id=workspace_id,
                )
    return sent


def sweep_tenant(
    database_transaction: Callable[[], object],
    tenant_id: int,
    storage: Storage,
    *,
    after_delete: Callable[[Certificate], None] | None = None,
) -> SweepResult:
    """Finish pending certificates, then claim, delete and record, each in its own transaction.

    ``database_transaction`` opens a new transaction (``Database.transaction``); the phases
    must commit separately so a crash leaves a pending certificate, not a half-done one.
    ``after_delete`` is called between deleting objects and recording it (tests crash there).
    """
    result = SweepResult()
    now = _now()
    with database_transaction() as session:  # type: ignore[attr-defined]
        set_context(session, tenant_id=tenant_id)
        pending = list(
            session.scalars(
                select(Certificate.id)
                .where(Certificate.tenant_id == tenant_id, Certificate.state == "pending")
                .order_by(Certificate.id)
            )
        )
    for certificate_id in pending:
        with database_transaction() as session:  # type: ignore[attr-defined]
            set_context(session, tenant_id=tenant_id)
            certificate = session.get(Certificate, certificate_id)
            assert certificate is not None
            result.objects_deleted += finish(session, certificate, storage)
            result.ended += certificate.items
            result.certificates.append(certificate.id)
    with database_transaction() as session:  # type: ignore[attr-defined]
        set_context(session, tenant_id=tenant_id)
        certificate = claim_due(session, tenant_id, now)
        certificate_id = certificate.id if certificate else None
        result.tasks += open_tasks(session, tenant_id, now)
        tenant = session.get(Tenant, tenant_id)
        assert tenant is not None
        result.warnings += warn(session, tenant, clock.today())
    if certificate_id is None:
        return result
    with database_transaction() as session:  # type: ignore[attr-defined]
        set_context(session, tenant_id=tenant_id)
        certificate = session.get(Certificate, certificate_id)
        assert certificate is not None
        deleted = delete_objects(session, certificate, storage)
    if after_delete is not None:
        after_delete(certificate)
    with database_transaction() as session:  # type: ignore[attr-defined]
        set_context(session, tenant_id=tenant_id)
        certificate = session.get(Certificate, certificate_id)
        assert certificate is not None
        record_destruction(session, certificate, deleted, storage)
        result.ended += certificate.items
        result.objects_deleted += deleted
        result.certificates.append(certificate.id)
    return result


def sweep_all(database_transaction: Callable[[], object], storage: Storage) -> SweepResult:
    """Every inspectorate's sweep, one after another."""
    with database_transaction() as session:  # type: ignore[attr-defined]
        set_context(session, tenant_id=None)
        tenant_ids = list(session.scalars(select(Tenant.id).order_by(Tenant.id)))
    total = SweepResult()
    for tenant_id in tenant_ids:
        one = sweep_tenant(database_transaction, tenant_id, storage)
        total.certificates += one.certificates
        total.ended += one.ended
        total.objects_deleted += one.objects_deleted
        total.tasks += one.tasks
        total.warnings += one.warnings
    return total


def run_sweep() -> SweepResult:
    """The periodic job's body: needs an app context."""
    from app.db import get_database

    return sweep_all(get_database().transaction, get_storage())


@periodic(SWEEP_INTERVAL_SECONDS)
@job
def retention_sweep(session: Session) -> dict[str, int]:
    """Hourly, in both job modes. Its phases commit in their own transactions."""
    del session
    result = run_sweep()
    return {"certificates": len(result.certificates), "ended": result.ended}


__all__ = [
    "SweepResult",
    "claim_due",
    "delete_objects",
    "record_destruction",
    "retention_sweep",
    "run_sweep",
    "sweep_all",
    "sweep_tenant",
]
