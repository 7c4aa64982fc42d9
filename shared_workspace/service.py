"""Workspaces, participants, people, sites, stages and the gates the product enforces.

Each gate names what is missing in words a lead inspector can act on (001 §9, §16-17, §35,
§37-38, §40, §48, principle 8).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, noload

from app.db import utcnow
from shared_workspace.checklists import CORE_EXPECTATIONS
from shared_workspace.decisions import KINDS, agreed_decision, is_agreed
from shared_workspace.models import (
    Approval,
    BodyType,
    ChecklistItem,
    Decision,
    Member,
    Participant,
    Site,
    Workspace,
    WorkspaceRole,
)
from tenants.models import Tenant, User

#: Letters go out at least six weeks before onsite fieldwork (001 §16).
LETTER_NOTICE = timedelta(days=42)


class GateClosed(ValueError):
    """A gate is closed; ``missing`` lists each thing still needed."""

    def __init__(self, action: str, missing: list[str]) -> None:
        super().__init__(f"You cannot {action} yet: " + "; ".join(missing))
        self.action = action
        self.missing = missing


class WorkspaceError(ValueError):
    """A workspace rule was broken; the message says what to do."""


def create_workspace(
    session: Session,
    *,
    title: str,
    lead: User,
    participants: Iterable[Tenant],
    publication_date: date | None = None,
) -> Workspace:
    """A new joint inspection led by the user's inspectorate, with its stage checklists."""
    title = title.strip()
    if not title or len(title) > 300:
        raise WorkspaceError("Enter a title of 300 characters or fewer")
    tenants = {t.id: t for t in participants}
    tenants.setdefault(lead.tenant_id, lead.tenant)
    if len(tenants) < 2:
        raise WorkspaceError("A joint inspection needs at least one other inspectorate")
    workspace = Workspace(
        title=title, lead_tenant_id=lead.tenant_id, stage=1, publication_date=publication_date
    )
    session.add(workspace)
    session.flush()
    # The lead joins first: only a participating lead may add the others.
    for tenant_id in sorted(tenants, key=lambda t: t != lead.tenant_id):
        session.add(Participant(workspace_id=workspace.id, tenant_id=tenant_id))
        session.flush()
    for stage, items in CORE_EXPECTATIONS.items():
        for reference, text in items:
            session.add(
                ChecklistItem(
                    workspace_id=workspace.id, stage=stage, reference=reference, text=text
                )
            )
    session.flush()
    session.refresh(workspace)
    return workspace


def require_lead(workspace: Workspace, user: User, action: str) -> None:
    if user.tenant_id != workspace.lead_tenant_id:
        raise WorkspaceError(f"Only the lead inspectorate can {action}")


def add_participant(
    session: Session, workspace: Workspace, tenant: Tenant, user: User
) -> Participant:
    """Bring another inspectorate in; it sees the whole history from then on."""
    require_lead(workspace, user, "add an inspectorate")
    if any(p.tenant_id == tenant.id for p in workspace.participants):
        raise WorkspaceError(f"{tenant.short_name} already takes part")
    participant = Participant(workspace_id=workspace.id, tenant_id=tenant.id)
    session.add(participant)
    session.flush()
    session.refresh(workspace)
    from retention.service import sync_workspace

    sync_workspace(session, workspace)  # the newcomer's claims on the joint material
    return participant


def name_member(
    session: Session, workspace: Workspace, *, person: User, role: WorkspaceRole, named_by: User
) -> Member:
    """Each inspectorate names its own people; nobody names another inspectorate's staff."""
    if person.tenant_id != named_by.tenant_id:
        raise WorkspaceError("You can only name people from your own inspectorate")
    if person.tenant_id not in {p.tenant_id for p in workspace.participants}:
        raise WorkspaceError("Their inspectorate does not take part in this inspection")
    existing = session.scalar(
        select(Member).where(
            Member.workspace_id == workspace.id,
            Member.user_id == person.id,
            Member.role == role.value,
        )
    )
    if existing is not None:
        return existing
    member = Member(
        workspace_id=workspace.id, tenant_id=person.tenant_id, user_id=person.id, role=role.value
    )
    session.add(member)
    session.flush()
    return member


def add_site(
    session: Session,
    workspace: Workspace,
    *,
    name: str,
    body_type: BodyType,
    fieldwork_starts_on: date | None,
    fieldwork_ends_on: date | None,
    user: User,
) -> Site:
    require_lead(workspace, user, "add a fieldwork site")
    if fieldwork_starts_on and fieldwork_ends_on and fieldwork_ends_on < fieldwork_starts_on:
        raise WorkspaceError("Fieldwork must end on or after the day it starts")
    site = Site(
        workspace_id=workspace.id,
        name=name.strip()[:300],
        body_type=body_type.value,
        fieldwork_starts_on=fieldwork_starts_on,
        fieldwork_ends_on=fieldwork_ends_on,
    )
    session.add(site)
    session.flush()
    return site


def _members_by_tenant(session: Session, workspace: Workspace) -> dict[int, set[str]]:
    roles: dict[int, set[str]] = {p.tenant_id: set() for p in workspace.participants}
    for tenant_id, role in session.execute(
        select(Member.tenant_id, Member.role).where(Member.workspace_id == workspace.id)
    ):
        roles.setdefault(tenant_id, set()).add(role)
    return roles


# --- gates ------------------------------------------------------------------------------


def people_named(session: Session, workspace: Workspace) -> list[User]:
    """Everyone named in the workspace, from every participating inspectorate, by name."""
    return list(
        session.scalars(
            select(User)
            .join(Member, Member.user_id == User.id)
            .where(Member.workspace_id == workspace.id)
            .distinct()
            .order_by(User.name)
        )
    )


def missing_people(session: Session, workspace: Workspace) -> list[str]:
    """Who still has to be named before the workspace may leave stage 1 (001 §6)."""
    roles = _members_by_tenant(session, workspace)
    missing = []
    for participant in workspace.participants:
        have = roles.get(participant.tenant_id, set())
        if WorkspaceRole.LEAD_INSPECTOR.value not in have:
            missing.append(f"{participant.tenant.short_name} has not named its lead inspector")
        if WorkspaceRole.SENIOR_OVERSIGHT.value not in have:
            missing.append(
                f"{participant.tenant.short_name} has not named its "
                f"{participant.tenant.senior_oversight_title}"
            )
    return missing


def _needs(session: Session, workspace: Workspace, kinds: Iterable[str]) -> list[str]:
    return [
        f"the {KINDS[k].label.lower()} decision is not agreed by every inspectorate "
        f"({KINDS[k].source})"
        for k in kinds
        if not is_agreed(session, workspace, k)
    ]


def advance_stage(session: Session, workspace: Workspace, user: User) -> Workspace:
    """Move to the next stage when that stage's entry conditions hold."""
    require_lead(workspace, user, "move the inspection to its next stage")
    missing: list[str] = []
    if workspace.stage == 1:
        missing = missing_people(session, workspace)
    elif workspace.stage == 5:
        missing = drafting_blockers(workspace)
    elif workspace.stage == 7 and workspace.published_at is None:
        missing = ["the report has not been published"]
    elif workspace.stage == 8:
        raise WorkspaceError("The inspection is already at its last stage")
    if missing:
        raise GateClosed(f"move to stage {workspace.stage + 1}", missing)
    workspace.stage += 1
    session.flush()
    if workspace.stage in (2, 8):
        _retention_agreement(session, workspace, user)
    return workspace


def _retention_agreement(session: Session, workspace: Workspace, user: User) -> None:
    """§48: which material each inspectorate keeps is agreed in advance. Leaving stage 1, the
    product proposes the agreement from every participant's current rules (unless it already
    has); entering stage 8, it brings the agreement up to the rules then in force, so a rule
    changed since it was agreed voids the approvals (saying so) and it must be confirmed
    again before the inspection closes."""
    from retention.actions import propose_agreement
    from shared_workspace.decisions import DecisionError

    # Rejected on these very rules: it waits for a rule to change or for the lead to propose.
    with contextlib.suppress(DecisionError):
        propose_agreement(session, workspace, user)


def drafting_blockers(workspace: Workspace) -> list[str]:
    """Report drafting opens only after the emerging findings meeting and joint QA (§35)."""
    missing = []
    if workspace.emerging_findings_meeting_on is None:
        missing.append("the emerging findings meeting has not been recorded (§35)")
    if workspace.joint_qa_concluded_on is None:
        missing.append("joint quality assurance has not been recorded as concluded (§35)")
    return missing


def record_facts(
    session: Session,
    workspace: Workspace,
    user: User,
    *,
    emerging_findings_meeting_on: date | None = None,
    joint_qa_concluded_on: date | None = None,
) -> Workspace:
    require_lead(workspace, user, "record meetings")
    if emerging_findings_meeting_on:
        workspace.emerging_findings_meeting_on = emerging_findings_meeting_on
    if joint_qa_concluded_on:
        workspace.joint_qa_concluded_on = joint_qa_concluded_on
    session.flush()
    return workspace


def publish_terms_of_reference(session: Session, workspace: Workspace, user: User) -> Workspace:
    """Put the agreed terms of reference on the public inspections-in-progress page (§9)."""
    require_lead(workspace, user, "publish the terms of reference")
    agreed = agreed_decision(session, workspace, "terms_of_reference")
    if agreed is None:
        raise GateClosed(
            "publish the terms of reference", _needs(session, workspace, ["terms_of_reference"])
        )
    workspace.published_terms = {
        "title": workspace.title,
        "lead": workspace.lead_tenant.name,
        "inspectorates": [p.tenant.name for p in workspace.participants],
        "terms": _terms_to_publish(session, agreed.subject.content),
        "version": agreed.subject_version,
    }
    workspace.terms_published_at = utcnow()
    session.flush()
    return workspace


def _terms_to_publish(session: Session, content: dict[str, Any]) -> dict[str, Any]:
    """What the public page shows: a document's sections (cleaned HTML), or the structured
    content of terms written through the API."""
    from shared_workspace.documents.service import subject_sections

    sections = subject_sections(session, content)
    return content if sections is None else {"sections": sections}


def share_draft(session: Session, workspace: Workspace, audience: str, user: User) -> Workspace:
    """The draft goes to HMIs/CIs after development group agreement (§37), and to
    stakeholders and critical readers after HMI/CI approval (§38). The first sharing with each
    audience is recorded on the workspace."""
    require_lead(workspace, user, "share the draft report")
    if audience not in ("hmis", "stakeholders"):
        raise WorkspaceError("Share the draft with hmis or stakeholders")
    missing = drafting_blockers(workspace)
    kinds = ["draft_to_hmis"] if audience == "hmis" else ["draft_to_hmis", "draft_to_stakeholders"]
    missing += _needs(session, workspace, kinds)
    if missing:
        audience_name = (
            "HMIs and Chief Inspectors"
            if audience == "hmis"
            else "stakeholders and critical readers"
        )
        raise GateClosed(f"share the draft with {audience_name}", missing)
    now = utcnow()
    if audience == "hmis":
        workspace.draft_to_hmis_at = workspace.draft_to_hmis_at or now
    else:
        workspace.draft_to_stakeholders_at = workspace.draft_to_stakeholders_at or now
    session.flush()
    return workspace


PUBLICATION_KINDS = ("final_report", "media_strategy", "press_materials", "retention_agreement")


def publication_blockers(session: Session, workspace: Workspace) -> list[str]:
    """What stands between the workspace and publication (§40, principle 8, §48)."""
    missing = _needs(session, workspace, PUBLICATION_KINDS)
    if workspace.stage < 7:
        missing.insert(0, f"the inspection is at stage {workspace.stage}, not publication (7)")
    return missing


def publish(session: Session, workspace: Workspace, user: User) -> Workspace:
    require_lead(workspace, user, "publish the report")
    missing = publication_blockers(session, workspace)
    if missing:
        raise GateClosed("publish the report", missing)
    workspace.published_at = utcnow()
    session.flush()
    return workspace


def my_workspaces(session: Session) -> list[Workspace]:
    """Workspaces the current tenant takes part in, newest first (scoped by the session)."""
    return list(
        session.scalars(
            select(Workspace)
            .options(noload(Workspace.participants))
            .order_by(Workspace.created_at.desc())
        )
    )


#: How many waiting decisions the dashboard lists; the rest are counted.
DASHBOARD_LIMIT = 50


@dataclass(frozen=True)
class Waiting:
    decision_id: int
    kind: str
    due_on: date | None
    voided_reason: str
    workspace_id: int
    workspace_title: str


def waiting_for_me(
    session: Session, user: User, limit: int = DASHBOARD_LIMIT
) -> tuple[list[Waiting], int]:
    """Open decisions the user may answer and their inspectorate has not approved yet, soonest
    deadline first: the first ``limit`` of them and how many there are in all.

    The filtering runs in SQL: a user named in hundreds of workspaces with thousands of open
    decisions must still get the dashboard in well under a second.
    """
    may_answer = or_(
        *[
            and_(Decision.kind == kind, Member.role.in_([r.value for r in spec.approver_roles]))
            for kind, spec in KINDS.items()
        ]
    )
    answerable = (
        select(Member.id)
        .where(Member.workspace_id == Decision.workspace_id, Member.user_id == user.id, may_answer)
        .exists()
    )
    answered = (
        select(Approval.id)
        .where(
            Approval.decision_id == Decision.id,
            Approval.tenant_id == user.tenant_id,
            Approval.voided_at.is_(None),
        )
        .exists()
    )
    rows = session.execute(
        select(
            Decision.id,
            Decision.kind,
            Decision.due_on,
            Decision.voided_reason,
            Workspace.id,
            Workspace.title,
            func.count().over(),
        )
        .join(Workspace, Workspace.id == Decision.workspace_id)
        .where(Decision.status == "open", answerable, ~answered)
        .order_by(Decision.due_on.nulls_last(), Decision.id)
        .limit(limit)
    ).all()
    total = rows[0][-1] if rows else 0
    return [Waiting(*row[:-1]) for row in rows], total


def overdue_items(session: Session, today: date) -> list[ChecklistItem]:
    """Open checklist items past their due date in the tenant's workspaces."""
    return list(
        session.scalars(
            select(ChecklistItem)
            .where(ChecklistItem.status == "open", ChecklistItem.due_on < today)
            .order_by(ChecklistItem.due_on)
            .limit(50)
        )
    )


CHECKLIST_STATUSES = ("open", "done", "not_applicable")


def add_checklist_item(
    session: Session,
    workspace: Workspace,
    user: User,
    *,
    stage: int,
    text: str,
    due_on: date | None = None,
) -> ChecklistItem:
    """The lead adds an item to a stage's checklist."""
    require_lead(workspace, user, "add checklist items")
    if stage not in range(1, 9):
        raise WorkspaceError("Choose a stage from 1 to 8")
    if not text.strip():
        raise WorkspaceError("Describe what needs doing")
    item = ChecklistItem(
        workspace_id=workspace.id, stage=stage, text=text.strip()[:2000], due_on=due_on
    )
    session.add(item)
    session.flush()
    return item


def update_checklist_item(
    session: Session,
    workspace: Workspace,
    item: ChecklistItem,
    *,
    status: str | None = None,
    assignee: User | None = None,
    due_on: date | None = None,
    link: str | None = None,
) -> ChecklistItem:
    """Record progress on an item: its status, who has it, when it is due, what satisfies it."""
    if status is not None:
        if status not in CHECKLIST_STATUSES:
            raise WorkspaceError("Status must be open, done or not_applicable")
        item.status = status
    if assignee is not None:
        if assignee.tenant_id not in {p.tenant_id for p in workspace.participants}:
            raise WorkspaceError("Assign the item to someone from a participating inspectorate")
        item.assignee_id = assignee.id
    if due_on is not None:
        item.due_on = due_on
    if link is not None:
        if link and not link.startswith("/"):
            raise WorkspaceError("Link to a page of this service, starting with /")
        item.link = link[:500]
    session.flush()
    return item
