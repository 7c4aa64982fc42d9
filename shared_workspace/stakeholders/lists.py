"""Workspace stakeholder lists: nominations from each inspectorate's directory, the agreed way
of sending (§43), consolidation into one list where nobody appears twice, the review queue and
the decisions people made about pairs (remembered, never asked again)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flask import current_app
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from app import audit
from app.db import get_database, set_context, utcnow
from app.jobs import job
from shared_workspace import decisions
from shared_workspace.models import Workspace
from shared_workspace.stakeholders.directory import neutralise
from shared_workspace.stakeholders.matching import Entry, consolidate
from shared_workspace.stakeholders.models import (
    DistributionList,
    MatchCandidate,
    MatchDecision,
    Nomination,
    Recipient,
    StakeholderEntry,
)
from tenants.models import User

#: What a nomination copies from the directory: what sending needs, never notes or tags.
SENDING_FIELDS = (
    "kind",
    "title",
    "given_name",
    "family_name",
    "role",
    "organisation",
    "emails",
    "phones",
    "address",
    "category",
)


class ListError(ValueError):
    def __init__(self, message: str, field: str = "_rule") -> None:
        super().__init__(message)
        self.field = field


def distribution_list(session: Session, workspace: Workspace) -> DistributionList:
    row = session.scalar(
        select(DistributionList).where(DistributionList.workspace_id == workspace.id)
    )
    if row is None:
        row = DistributionList(workspace_id=workspace.id)
        session.add(row)
        session.flush()
    return row


def nominate(
    session: Session,
    workspace: Workspace,
    user: User,
    entry_ids: Sequence[int],
    purpose: str = "both",
) -> list[Nomination]:
    """Nominate entries of the user's own directory for this inspection."""
    if purpose not in ("engagement", "publication", "both"):
        raise ListError("Nominate for engagement, publication or both", "purpose")
    entries = list(
        session.scalars(select(StakeholderEntry).where(StakeholderEntry.id.in_(entry_ids)))
    )
    if len(entries) != len(set(entry_ids)):
        raise ListError("Some entries are not in your directory", "entry_ids")
    refused = [e.name for e in entries if e.do_not_contact]
    if refused:
        raise ListError(
            "Marked do not contact, so they cannot be nominated: " + ", ".join(refused),
            "entry_ids",
        )
    existing = set(
        session.scalars(
            select(Nomination.entry_id).where(
                Nomination.workspace_id == workspace.id, Nomination.tenant_id == user.tenant_id
            )
        )
    )
    added = []
    for entry in entries:
        if entry.id in existing:
            continue
        nomination = Nomination(
            workspace_id=workspace.id,
            tenant_id=user.tenant_id,
            entry_id=entry.id,
            purpose=purpose,
            **{name: getattr(entry, name) for name in SENDING_FIELDS},
        )
        session.add(nomination)
        added.append(nomination)
    session.flush()
    return added


def withdraw(session: Session, nomination: Nomination, user: User) -> None:
    if nomination.tenant_id != user.tenant_id:
        raise ListError("Only the inspectorate that nominated an entry can withdraw it")
    session.execute(
        delete(MatchCandidate).where(
            or_(MatchCandidate.left_id == nomination.id, MatchCandidate.right_id == nomination.id)
        )
    )
    session.execute(
        delete(MatchDecision).where(
            or_(MatchDecision.left_id == nomination.id, MatchDecision.right_id == nomination.id)
        )
    )
    session.delete(nomination)
    session.flush()


def set_mode(session: Session, workspace: Workspace, user: User, mode: str) -> DistributionList:
    """The lead records how the report is sent (§43); the stakeholder distribution decision
    then makes it joint."""
    if user.tenant_id != workspace.lead_tenant_id:
        raise ListError("Only the lead inspectorate proposes how the report is sent")
    if mode not in ("lead_sends_all", "each_sends_own"):
        raise ListError("Choose lead_sends_all or each_sends_own", "mode")
    row = distribution_list(session, workspace)
    if row.mode == mode:
        return row
    row.mode = mode
    if row.status == "ready":
        # The built list follows at once: who sends to whom is part of what is agreed, so
        # the distribution decision moves with it (voiding approvals of the old arrangement).
        for recipient in session.scalars(
            select(Recipient).where(Recipient.workspace_id == workspace.id)
        ):
            recipient.sender_tenant_id = _sender(
                workspace, mode, [s["tenant_id"] for s in recipient.sources]
            )
        _refresh_subject(session, workspace, row)  # its select flushes the senders first
    session.flush()
    return row


def _sender(workspace: Workspace, mode: str, tenants: Sequence[int]) -> int:
    """Who sends to a recipient nominated by ``tenants`` (§43): the lead, or the first
    participant (in the workspace's order) that nominated them."""
    if mode == "lead_sends_all":
        return workspace.lead_tenant_id
    order = [p.tenant_id for p in workspace.participants]
    return next((t for t in order if t in tenants), tenants[0])


def _entries(nominations: Iterable[Nomination]) -> list[Entry]:
    return [
        Entry(
            tenant=str(n.tenant_id),
            entry_id=str(n.id),
            given_name=n.given_name,
            family_name=n.family_name,
            title=n.title,
            role=n.role,
            organisation=n.organisation,
            emails=tuple(n.emails),
            phones=tuple(n.phones),
            address=n.address,
            category=n.category,
        )
        for n in nominations
    ]


def decide(
    session: Session, workspace: Workspace, user: User, left_id: int, right_id: int, same: bool
) -> MatchDecision:
    """Record that two nominations are (or are not) the same stakeholder."""
    left_id, right_id = sorted((left_id, right_id))
    if left_id == right_id:
        raise ListError("Choose two different entries")
    found = session.scalars(
        select(Nomination.id).where(
            Nomination.workspace_id == workspace.id, Nomination.id.in_((left_id, right_id))
        )
    ).all()
    if len(found) != 2:
        raise ListError("Those entries are not on this inspection's lists")
    row = session.scalar(
        select(MatchDecision).where(
            MatchDecision.workspace_id == workspace.id,
            MatchDecision.left_id == left_id,
            MatchDecision.right_id == right_id,
        )
    )
    if row is None:
        row = MatchDecision(
            workspace_id=workspace.id,
            left_id=left_id,
            right_id=right_id,
            same=same,
            tenant_id=user.tenant_id,
            decided_by_id=user.id,
        )
        session.add(row)
    else:
        row.same, row.decided_by_id, row.decided_at = same, user.id, utcnow()
    session.execute(
        delete(MatchCandidate).where(
            MatchCandidate.workspace_id == workspace.id,
            MatchCandidate.left_id == left_id,
            MatchCandidate.right_id == right_id,
        )
    )
    session.flush()
    return row


def _progress(workspace_id: int, tenant_id: int, value: int, **fields: Any) -> None:
    with get_database(current_app._get_current_object()).transaction() as session:
        set_context(session, tenant_id=tenant_id)
        row = session.scalar(
            select(DistributionList).where(DistributionList.workspace_id == workspace_id)
        )
        if row is not None:
            row.progress = value
            for name, field_value in fields.items():
                setattr(row, name, field_value)


def rebuild(
    session: Session, workspace: Workspace, progress: Callable[[int], None] | None = None
) -> DistributionList:
    """Consolidate every nomination into the list, replacing the previous one; idempotent.
    ``progress`` hears the percentage done while the matching runs."""
    row = distribution_list(session, workspace)
    nominations = list(
        session.scalars(
            select(Nomination)
            .where(Nomination.workspace_id == workspace.id)
            .order_by(Nomination.id)
        )
    )
    decided = list(
        session.scalars(select(MatchDecision).where(MatchDecision.workspace_id == workspace.id))
    )
    key = {n.id: (str(n.tenant_id), str(n.id)) for n in nominations}
    confirmed = [
        (key[d.left_id], key[d.right_id])
        for d in decided
        if d.same and d.left_id in key and d.right_id in key
    ]
    rejected = [
        (key[d.left_id], key[d.right_id])
        for d in decided
        if not d.same and d.left_id in key and d.right_id in key
    ]
    result = consolidate(
        _entries(nominations), confirmed=confirmed, rejected=rejected, progress=progress
    )
    by_id = {n.id: n for n in nominations}
    session.execute(delete(Recipient).where(Recipient.workspace_id == workspace.id))
    session.execute(delete(MatchCandidate).where(MatchCandidate.workspace_id == workspace.id))
    reasons_by_entry: dict[str, list[dict[str, Any]]] = {}
    for match in result.merges:
        reasons_by_entry.setdefault(match.left[1], []).append(_match_row(match))
    for cluster in result.clusters:
        members = [by_id[int(e.entry_id)] for e in cluster.entries]
        best = _best(members)
        sender = _sender(workspace, row.mode, [m.tenant_id for m in members])
        session.add(
            Recipient(
                workspace_id=workspace.id,
                name=_display_name(best),
                role=best.role,
                organisation=best.organisation,
                email=next((e for m in members for e in m.emails), ""),
                phone=next((p for m in members for p in m.phones), ""),
                address=best.address,
                category=best.category,
                sender_tenant_id=sender,
                sources=[{"nomination_id": m.id, "tenant_id": m.tenant_id} for m in members],
                reasons=[r for e in cluster.entries for r in reasons_by_entry.get(e.entry_id, [])],
            )
        )
    for match in result.review:
        left, right = sorted((int(match.left[1]), int(match.right[1])))
        session.add(
            MatchCandidate(
                workspace_id=workspace.id,
                left_id=left,
                right_id=right,
                score=round(match.score, 4),
                reasons=_match_row(match)["reasons"],
            )
        )
    row.status, row.progress, row.built_at = "ready", 100, utcnow()
    row.stats = dict(result.stats)
    session.flush()
    _refresh_subject(session, workspace, row)
    return row


def _refresh_subject(session: Session, workspace: Workspace, row: DistributionList) -> None:
    """The stakeholder distribution decision binds to the list as built (a new build voids
    approvals given to the old one)."""
    recipients = session.execute(
        select(Recipient.email, Recipient.name, Recipient.sender_tenant_id)
        .where(Recipient.workspace_id == workspace.id)
        .order_by(Recipient.email, Recipient.name)
    ).all()
    content = {"mode": row.mode, "recipients": [list(r) for r in recipients]}
    if row.subject_id is None:
        subject = decisions.create_subject(
            session,
            workspace,
            kind="stakeholder_distribution",
            title="Consolidated distribution list",
            content=content,
            user=None,
        )
        row.subject_id = subject.id
        session.flush()
    else:
        from shared_workspace.models import Subject

        subject = session.get(Subject, row.subject_id)
        actor = (
            session.get(User, session.info.get("user_id")) if session.info.get("user_id") else None
        )
        if subject is not None and actor is not None:
            decisions.update_subject(session, subject, content, actor)


def _match_row(match: Any) -> dict[str, Any]:
    return {
        "left": match.left[1],
        "right": match.right[1],
        "score": round(match.score, 4),
        "reasons": [
            {
                "field": r.field,
                "outcome": r.outcome,
                "similarity": round(r.similarity, 3),
                "weight": round(r.weight, 2),
            }
            for r in match.reasons
        ],
    }


def _best(members: Sequence[Nomination]) -> Nomination:
    """The fullest of the merged entries: most fields filled in."""
    return max(
        members,
        key=lambda m: sum(bool(getattr(m, f)) for f in SENDING_FIELDS),
    )


def _display_name(n: Nomination) -> str:
    person = " ".join(p for p in (n.title, n.given_name, n.family_name) if p)
    return person or n.role or n.organisation


def start_rebuild(session: Session, workspace: Workspace, user: User) -> DistributionList:
    """Queue a consolidation (a job: a large list takes seconds); the page shows progress."""
    from app.jobs import enqueue

    row = distribution_list(session, workspace)
    row.status, row.progress = "queued", 0
    session.flush()
    audit.record(
        session,
        tenant_id=user.tenant_id,
        action="stakeholders.consolidation_requested",
        object_type="workspace",
        object_id=workspace.id,
        changes={"mode": row.mode},
    )
    enqueue(build_list, workspace.id, user.tenant_id, user.id)
    return row


@job
def build_list(session: Session, workspace_id: int, tenant_id: int, user_id: int) -> int:
    """Job: consolidate a workspace's nominations; safe to run twice."""
    set_context(session, tenant_id=tenant_id, user_id=user_id)
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        return 0
    _progress(workspace_id, tenant_id, 10, status="running")
    try:
        row = rebuild(
            session,
            workspace,
            # Shown by the page while the job runs (the bar reaches 100 when the list is saved).
            progress=lambda percent: _progress(workspace_id, tenant_id, 10 + percent * 8 // 10),
        )
    except Exception:
        _progress(workspace_id, tenant_id, 0, status="failed")
        raise
    return int(row.stats.get("clusters", 0))


def recipients(session: Session, workspace: Workspace) -> list[Recipient]:
    return list(
        session.scalars(
            select(Recipient)
            .where(Recipient.workspace_id == workspace.id)
            .order_by(Recipient.organisation, Recipient.name)
        )
    )


def review_queue(session: Session, workspace: Workspace) -> list[MatchCandidate]:
    return list(
        session.scalars(
            select(MatchCandidate)
            .where(MatchCandidate.workspace_id == workspace.id)
            .order_by(MatchCandidate.score.desc(), MatchCandidate.id)
        )
    )


def recipients_csv(rows: Iterable[Recipient], names: dict[int, str]) -> Iterable[str]:
    """The consolidated list as CSV with formulas neutralised; who sends to each recipient."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: Sequence[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([neutralise(str(c)) for c in cells])
        return buffer.getvalue()

    yield "\ufeff" + line(
        ["name", "role", "organisation", "email", "phone", "category", "sent_by", "nominated_by"]
    )
    for r in rows:
        nominated = sorted({names.get(s["tenant_id"], "?") for s in r.sources})
        yield line(
            [
                r.name,
                r.role,
                r.organisation,
                r.email,
                r.phone,
                r.category,
                names.get(r.sender_tenant_id, "?"),
                "; ".join(nominated),
            ]
        )
