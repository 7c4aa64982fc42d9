"""Decision deadlines and the notifications that chase them.

A periodic job walks each inspectorate in turn, scoped to that tenant as a request would be,
and writes notifications for its own people only: decisions waiting for their approval that
are due within ``REMIND_DAYS`` or overdue, and approvals of theirs that a change to the
subject voided ("any change voids all approvals and says so to the approvers"). Each
notification has a key, so running the job twice, or after a crash halfway, sends nothing
twice.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from app.clock import clock
from app.db import set_context, utcnow
from app.jobs import job, periodic
from shared_workspace.decisions import KINDS
from shared_workspace.models import Approval, Decision, Member, Notification, Workspace
from tenants.models import Tenant, User

#: Approvers hear about a decision this many days before its deadline, and again once late.
REMIND_DAYS = 3
#: Voided approvals older than this are not worth a notification any more.
VOIDED_LOOKBACK = timedelta(days=14)
REMINDER_INTERVAL_SECONDS = 15 * 60


def notify(
    session: Session,
    user_id: int,
    tenant_id: int,
    *,
    key: str,
    text: str,
    link: str = "",
    workspace_id: int | None = None,
) -> bool:
    """Write one notification unless the person already has one with this key."""
    exists = session.scalar(
        select(Notification.id).where(Notification.user_id == user_id, Notification.key == key)
    )
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                Notification(
                    tenant_id=tenant_id,
                    user_id=user_id,
                    workspace_id=workspace_id,
                    key=key[:200],
                    text=text,
                    link=link,
                )
            )
    except IntegrityError:  # a concurrent run wrote it first
        return False
    return True


def _approvers(session: Session, decision: Decision, tenant_id: int) -> list[int]:
    roles = [r.value for r in KINDS[decision.kind].approver_roles]
    return list(
        session.scalars(
            select(Member.user_id)
            .where(
                Member.workspace_id == decision.workspace_id,
                Member.tenant_id == tenant_id,
                Member.role.in_(roles),
            )
            .distinct()
        )
    )


def remind_tenant(session: Session, tenant: Tenant, today: date) -> int:
    """Notify one inspectorate's approvers; the session must be scoped to ``tenant``."""
    sent = 0
    approved_by_tenant = (
        select(Approval.id)
        .where(
            Approval.decision_id == Decision.id,
            Approval.tenant_id == tenant.id,
            Approval.voided_at.is_(None),
            Approval.verdict == "approved",
        )
        .exists()
    )
    due = session.execute(
        select(Decision, Workspace.title)
        .join(Workspace, Workspace.id == Decision.workspace_id)
        .where(
            Decision.status == "open",
            Decision.due_on.is_not(None),
            Decision.due_on <= today + timedelta(days=REMIND_DAYS),
            Workspace.published_at.is_(None),
            ~approved_by_tenant,
        )
    ).all()
    for decision, title in due:
        label = KINDS[decision.kind].label
        overdue = decision.due_on < today
        when = "was due" if overdue else "is due"
        text = f"{title}: the {label.lower()} decision {when} on {decision.due_on:%-d %B %Y}"
        text += " and still needs your inspectorate's approval."
        key = f"decision:{decision.id}:{decision.due_on}:{'overdue' if overdue else 'soon'}"
        for user_id in _approvers(session, decision, tenant.id):
            sent += notify(
                session,
                user_id,
                tenant.id,
                key=key,
                text=text,
                link=f"/workspaces/{decision.workspace_id}#decision-{decision.id}",
                workspace_id=decision.workspace_id,
            )
    live = aliased(Approval)
    later_answer = (
        select(live.id)
        .where(
            live.decision_id == Decision.id,
            live.tenant_id == tenant.id,
            live.voided_at.is_(None),
        )
        .exists()
    )
    voided = session.execute(
        select(Approval.id, Approval.user_id, Decision, Workspace.title)
        .join(Decision, Decision.id == Approval.decision_id)
        .join(Workspace, Workspace.id == Decision.workspace_id)
        .where(
            Approval.tenant_id == tenant.id,
            Approval.verdict == "approved",
            Approval.voided_at >= utcnow() - VOIDED_LOOKBACK,
            Decision.voided_reason != "",
            Decision.status == "open",
            ~later_answer,
        )
    ).all()
    for approval_id, user_id, decision, title in voided:
        sent += notify(
            session,
            user_id,
            tenant.id,
            key=f"approval:{approval_id}:voided",
            text=f"{title}: your approval no longer counts. {decision.voided_reason}",
            link=f"/workspaces/{decision.workspace_id}#decision-{decision.id}",
            workspace_id=decision.workspace_id,
        )
    sent += _circulation_reminders(session, tenant, today)
    return sent


#: Lead inspectors hear about a reader's deadline this many working days before it.
CIRCULATION_NOTICE_WORKING_DAYS = 2


def _circulation_reminders(session: Session, tenant: Tenant, today: date) -> int:
    """The lead's lead inspectors hear about factual-accuracy replies due soon or late."""
    from app.workdays import add_working_days
    from shared_workspace.models import WorkspaceRole
    from shared_workspace.publication.models import Circulation

    horizon = add_working_days(today, CIRCULATION_NOTICE_WORKING_DAYS)
    rows = session.execute(
        select(Circulation, Workspace.title)
        .join(Workspace, Workspace.id == Circulation.workspace_id)
        .where(
            Workspace.lead_tenant_id == tenant.id,
            Circulation.responded_on.is_(None),
            Circulation.due_on <= horizon,
        )
    ).all()
    sent = 0
    for row, title in rows:
        leads = session.scalars(
            select(Member.user_id).where(
                Member.workspace_id == row.workspace_id,
                Member.tenant_id == tenant.id,
                Member.role == WorkspaceRole.LEAD_INSPECTOR.value,
            )
        ).all()
        late = row.due_on < today
        text = (
            f"{title}: {row.recipient}'s comments on version {row.version_number} "
            f"{'were' if late else 'are'} due on {row.due_on:%-d %B %Y}."
        )
        for user_id in leads:
            sent += notify(
                session,
                user_id,
                tenant.id,
                key=f"circulation:{row.id}:{'late' if late else 'soon'}",
                text=text,
                link=f"/workspaces/{row.workspace_id}/publication",
                workspace_id=row.workspace_id,
            )
    return sent


def send_reminders(session: Session, today: date | None = None) -> int:
    """Every inspectorate's reminders, each written under that inspectorate's own scope."""
    today = today or clock.today()
    set_context(session, tenant_id=None)
    tenants = list(session.scalars(select(Tenant).order_by(Tenant.id)))
    sent = 0
    for tenant in tenants:
        set_context(session, tenant_id=tenant.id)
        sent += remind_tenant(session, tenant, today)
    set_context(session, tenant_id=None)
    return sent


@periodic(REMINDER_INTERVAL_SECONDS)
@job
def send_decision_reminders(session: Session) -> int:
    return send_reminders(session)


def unread(session: Session, user: User, limit: int = 20) -> list[Notification]:
    """The person's unread notifications, newest first."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def mark_read(session: Session, user: User, notification_id: int | None = None) -> int:
    """Mark one of the person's notifications (or all of them) read; returns how many."""
    query = select(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    rows = list(session.scalars(query))
    for row in rows:
        row.read_at = utcnow()
    session.flush()
    return len(rows)
