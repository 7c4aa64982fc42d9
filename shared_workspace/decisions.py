"""Joint sign-off: a decision binds to an exact version of its subject by content hash and is
agreed only when every participating inspectorate has approved (001 core principles 3, 7, 8).

- Anyone entitled (the kind's approver roles, named in the workspace for their inspectorate)
  approves or rejects on behalf of their own inspectorate; a rejection needs a reason.
- The lead cannot agree alone: with two or more participants, one approval is never enough.
- Any change to the subject after an approval voids every approval and says so.
- A rejected decision stays rejected; a new version of the subject opens a new decision.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from shared_workspace.models import Approval, Decision, Member, Subject, Workspace, WorkspaceRole
from tenants.models import User

R = WorkspaceRole


@dataclass(frozen=True)
class DecisionKind:
    label: str
    #: Any one of these roles, held in the workspace, may answer for an inspectorate.
    approver_roles: tuple[WorkspaceRole, ...]
    #: Where the rule comes from in 001.
    source: str


KINDS: dict[str, DecisionKind] = {
    "terms_of_reference": DecisionKind(
        "Terms of reference and scope", (R.DEVELOPMENT_GROUP_REP,), "§8-9"
    ),
    "methodology": DecisionKind("Methodology", (R.LEAD_INSPECTOR, R.SENIOR_OVERSIGHT), "§3-4"),
    "timetable": DecisionKind("Timetable", (R.LEAD_INSPECTOR, R.SENIOR_OVERSIGHT), "§10"),
    "site_selection": DecisionKind(
        "Site selection", (R.LEAD_INSPECTOR, R.SENIOR_OVERSIGHT), "§12-14"
    ),
    "commissioning_letters": DecisionKind(
        "Commissioning letters", (R.DEVELOPMENT_GROUP_REP,), "§16-17"
    ),
    "evidence_approach": DecisionKind(
        "Evidence recording and sharing", (R.LEAD_INSPECTOR, R.SENIOR_OVERSIGHT), "§23"
    ),
    "report_structure": DecisionKind(
        "Report structure and red lines", (R.LEAD_INSPECTOR, R.SENIOR_OVERSIGHT), "§5, §30"
    ),
    "emerging_findings": DecisionKind(
        "Emerging findings", (R.LEAD_INSPECTOR, R.SENIOR_OVERSIGHT), "§29-31"
    ),
    "draft_to_hmis": DecisionKind(
        "Draft report to HMIs and Chief Inspectors", (R.DEVELOPMENT_GROUP_REP,), "§37"
    ),
    "draft_to_stakeholders": DecisionKind(
        "Draft report to stakeholders and critical readers", (R.CHIEF_INSPECTOR,), "§38"
    ),
    "final_report": DecisionKind("Final report", (R.CHIEF_INSPECTOR,), "§40"),
    "recommendations": DecisionKind(
        "Recommendations", (R.LEAD_INSPECTOR, R.SENIOR_OVERSIGHT), "§33, §36"
    ),
    "media_strategy": DecisionKind(
        "Media strategy", (R.COMMUNICATIONS_OFFICER, R.SENIOR_OVERSIGHT), "principle 8, §44"
    ),
    "press_materials": DecisionKind(
        "Press materials", (R.COMMUNICATIONS_OFFICER, R.SENIOR_OVERSIGHT), "principle 8, §45"
    ),
    "stakeholder_distribution": DecisionKind(
        "Stakeholder distribution", (R.COMMUNICATIONS_OFFICER, R.LEAD_INSPECTOR), "§42-43"
    ),
    "retention_agreement": DecisionKind("Retention agreement", (R.RECORDS_MANAGER,), "§48"),
}


def _check_kind_rules(session: Session, workspace: Workspace, kind: str) -> None:
    """Rules a kind of decision adds before it can be proposed or agreed."""
    if kind == "media_strategy":
        from shared_workspace.publication.media import check_before_agreement

        check_before_agreement(session, workspace)


#: Decisions whose approvers confirm their red lines are respected (001 §5, §37).
RED_LINE_KINDS = frozenset({"draft_to_hmis"})


def _red_lines(session: Session, workspace: Workspace, tenant_id: int) -> list[str]:
    from shared_workspace.documents.models import RedLine

    return list(
        session.scalars(
            select(RedLine.text).where(
                RedLine.workspace_id == workspace.id,
                RedLine.tenant_id == tenant_id,
                RedLine.withdrawn_at.is_(None),
            )
        )
    )


class DecisionError(ValueError):
    """A sign-off rule was broken; the message says what to do instead."""


def content_hash(content: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the content: what approvals bind to."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def create_subject(
    session: Session,
    workspace: Workspace,
    *,
    kind: str,
    title: str,
    content: dict[str, Any],
    user: User | None,
) -> Subject:
    subject = Subject(
        workspace_id=workspace.id,
        kind=kind,
        title=title.strip()[:300],
        content=content,
        version=1,
        content_hash=content_hash(content),
        updated_by_id=user.id if user else None,
    )
    session.add(subject)
    session.flush()
    return subject


def update_subject(
    session: Session, subject: Subject, content: dict[str, Any], user: User
) -> list[Decision]:
    """Save a new version; every decision on the old version loses its approvals.

    Returns the decisions whose approvals were voided, so their approvers can be told.
    """
    new_hash = content_hash(content)
    if new_hash == subject.content_hash:
        return []
    subject.content = content
    subject.version += 1
    subject.content_hash = new_hash
    subject.updated_at = utcnow()
    subject.updated_by_id = user.id
    voided = []
    decisions = session.scalars(
        select(Decision).where(
            Decision.subject_id == subject.id, Decision.status.in_(("open", "agreed"))
        )
    ).all()
    for decision in decisions:
        live = [a for a in decision.approvals if a.voided_at is None]
        for approval in live:
            approval.voided_at = utcnow()
        decision.subject_version = subject.version
        decision.subject_hash = new_hash
        if live or decision.status == "agreed":
            decision.voided_reason = (
                f"{subject.title} changed to version {subject.version} after "
                f"{len(live)} approval(s): every inspectorate must approve again."
            )
            voided.append(decision)
        decision.status = "open"
        decision.agreed_at = None
    session.flush()
    return voided


def propose(
    session: Session,
    workspace: Workspace,
    *,
    kind: str,
    subject: Subject,
    user: User,
    due_on: date | None = None,
) -> Decision:
    """Open a decision on the subject's current version."""
    if kind not in KINDS:
        raise DecisionError(f"Unknown decision kind {kind!r}")
    if subject.workspace_id != workspace.id:
        raise DecisionError("The subject belongs to another workspace")
    existing = session.scalar(
        select(Decision).where(
            Decision.workspace_id == workspace.id,
            Decision.kind == kind,
            Decision.status.in_(("open", "agreed")),
        )
    )
    if existing is not None:
        raise DecisionError(f"There is already a {KINDS[kind].label.lower()} decision in progress")
    rejected = session.scalar(
        select(Decision.id).where(
            Decision.subject_id == subject.id,
            Decision.kind == kind,
            Decision.status == "rejected",
            Decision.subject_hash == subject.content_hash,
        )
    )
    if rejected is not None:
        raise DecisionError("This version was rejected. Change the subject, then propose again")
    _check_kind_rules(session, workspace, kind)
    decision = Decision(
        workspace_id=workspace.id,
        kind=kind,
        subject_id=subject.id,
        subject_version=subject.version,
        subject_hash=subject.content_hash,
        due_on=due_on,
        proposed_by_id=user.id,
        status="open",
    )
    session.add(decision)
    session.flush()
    return decision


def entitled_roles(session: Session, decision: Decision, user: User) -> set[WorkspaceRole]:
    """The user's workspace roles that may answer this kind of decision."""
    roles = session.scalars(
        select(Member.role).where(
            Member.workspace_id == decision.workspace_id,
            Member.user_id == user.id,
            Member.tenant_id == user.tenant_id,
        )
    ).all()
    return {WorkspaceRole(r) for r in roles} & set(KINDS[decision.kind].approver_roles)


def participant_tenants(workspace: Workspace) -> set[int]:
    return {p.tenant_id for p in workspace.participants}


def live_approvals(decision: Decision) -> list[Approval]:
    return [a for a in decision.approvals if a.voided_at is None]


def waiting_for(decision: Decision, workspace: Workspace) -> set[int]:
    """Participating tenants that have not yet approved the current version."""
    approved = {a.tenant_id for a in live_approvals(decision) if a.verdict == "approved"}
    return participant_tenants(workspace) - approved


def answer(
    session: Session,
    workspace: Workspace,
    decision: Decision,
    user: User,
    *,
    approve: bool,
    reason: str = "",
    red_lines_confirmed: bool = False,
) -> Decision:
    """Record the user's inspectorate's answer; agree the decision when everyone has.

    Approving the draft report (§37) needs the approver to confirm that their inspectorate's
    red lines (§5) are respected, when it has recorded any."""
    if decision.status == "rejected":
        raise DecisionError("This decision was rejected. Change the subject to open a new one")
    if decision.status == "agreed":
        raise DecisionError("This decision is already agreed")
    if user.tenant_id not in participant_tenants(workspace):
        raise DecisionError("Your inspectorate does not take part in this inspection")
    if not entitled_roles(session, decision, user):
        names = " or ".join(r.value.replace("_", " ") for r in KINDS[decision.kind].approver_roles)
        raise DecisionError(f"Only your inspectorate's {names} for this inspection can answer")
    subject = session.get(Subject, decision.subject_id)
    if subject is None or subject.content_hash != decision.subject_hash:
        raise DecisionError("The subject changed since this decision was opened. Reload it")
    if not approve and not reason.strip():
        raise DecisionError("Give a reason for rejecting, so the lead knows what to change")
    if approve and decision.kind in RED_LINE_KINDS and not red_lines_confirmed:
        lines = _red_lines(session, workspace, user.tenant_id)
        if lines:
            raise DecisionError(
                f"Confirm that {user.tenant.short_name}'s red lines are respected in this "
                "draft before approving it: " + "; ".join(f"“{line}”" for line in lines)
            )
    if approve:
        _check_kind_rules(session, workspace, decision.kind)  # e.g. every CI quoted (§44)
    for previous in live_approvals(decision):
        if previous.tenant_id == user.tenant_id:
            previous.voided_at = utcnow()  # a later answer replaces the inspectorate's earlier one
    session.add(
        Approval(
            decision_id=decision.id,
            workspace_id=workspace.id,
            tenant_id=user.tenant_id,
            user_id=user.id,
            verdict="approved" if approve else "rejected",
            reason=reason.strip(),
            subject_hash=decision.subject_hash,
            red_lines_confirmed=bool(approve and red_lines_confirmed),
        )
    )
    session.flush()
    session.refresh(decision)
    if not approve:
        decision.status = "rejected"
    elif len(participant_tenants(workspace)) >= 2 and not waiting_for(decision, workspace):
        _check_kind_rules(session, workspace, decision.kind)
        decision.status = "agreed"
        decision.agreed_at = utcnow()
        decision.voided_reason = ""
    session.flush()
    if decision.status == "agreed" and decision.kind == "retention_agreement":
        from retention.service import reschedule_workspace

        reschedule_workspace(session, workspace)  # joint material now follows the agreement
    return decision


def agreed_decision(session: Session, workspace: Workspace, kind: str) -> Decision | None:
    """The agreed decision of this kind, if it still stands on its subject's current version."""
    decision = session.scalar(
        select(Decision).where(
            Decision.workspace_id == workspace.id,
            Decision.kind == kind,
            Decision.status == "agreed",
        )
    )
    if decision is None or decision.subject.content_hash != decision.subject_hash:
        return None
    return decision


def is_agreed(session: Session, workspace: Workspace, kind: str) -> bool:
    return agreed_decision(session, workspace, kind) is not None


def set_deadline(
    session: Session, workspace: Workspace, decision: Decision, user: User, due_on: date | None
) -> Decision:
    """The lead sets (or clears) the date by which every inspectorate should have answered;
    approvers are reminded before it and once it has passed (shared_workspace.reminders)."""
    if user.tenant_id != workspace.lead_tenant_id:
        raise DecisionError("Only the lead inspectorate sets decision deadlines")
    if decision.status != "open":
        raise DecisionError(
            f"This decision is {decision.status}; only open decisions have deadlines"
        )
    decision.due_on = due_on
    session.flush()
    return decision
