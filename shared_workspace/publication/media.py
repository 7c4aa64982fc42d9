"""The consolidated media strategy (001 §44-47) and the circulation of drafts to critical
readers and the inspected body for factual accuracy (§39, §41; `000`: ten working days)."""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.workdays import add_working_days, is_working_day
from shared_workspace import decisions
from shared_workspace.documents import service as documents
from shared_workspace.documents.models import Document
from shared_workspace.models import Subject, Workspace
from shared_workspace.publication.models import Circulation, MediaStrategy
from tenants.models import User

FIELDS = (
    "launch",
    "key_messages",
    "quoted_tenant_ids",
    "interview_bids",
    "spokespeople",
    "briefings",
    "post_publication",
)


class MediaError(ValueError):
    def __init__(self, message: str, field: str = "_rule") -> None:
        super().__init__(message)
        self.field = field


def strategy(session: Session, workspace: Workspace) -> MediaStrategy | None:
    return session.scalar(select(MediaStrategy).where(MediaStrategy.workspace_id == workspace.id))


def _content(row: MediaStrategy) -> dict[str, Any]:
    return {name: getattr(row, name) for name in FIELDS}


def save_strategy(
    session: Session, workspace: Workspace, user: User, values: dict[str, Any]
) -> MediaStrategy:
    """The lead drafts the strategy; every change voids approvals given to the old one."""
    if user.tenant_id != workspace.lead_tenant_id:
        raise MediaError("The lead inspectorate drafts the media strategy; suggest changes to it")
    participants = {p.tenant_id for p in workspace.participants}
    quoted = values.get("quoted_tenant_ids")
    if quoted is not None and not set(quoted) <= participants:
        raise MediaError("Only participating inspectorates can be quoted", "quoted_tenant_ids")
    row = strategy(session, workspace)
    if row is None:
        row = MediaStrategy(workspace_id=workspace.id)
        session.add(row)
    for name in FIELDS:
        if name in values and values[name] is not None:
            setattr(row, name, values[name])
    session.flush()
    if row.subject_id is None:
        subject = decisions.create_subject(
            session,
            workspace,
            kind="media_strategy",
            title="Consolidated media strategy",
            content=_content(row),
            user=user,
        )
        row.subject_id = subject.id
    else:
        subject = session.get(Subject, row.subject_id)
        assert subject is not None
        decisions.update_subject(session, subject, _content(row), user)
    session.flush()
    return row


def press_notice(session: Session, workspace: Workspace) -> Document | None:
    """The press notice document the media strategy links to, if the lead has drafted it."""
    row = strategy(session, workspace)
    if row is None or row.press_notice_id is None:
        return None
    return session.get(Document, row.press_notice_id)


def draft_press_notice(session: Session, workspace: Workspace, user: User) -> Document:
    """The lead drafts the press notice (§45) as a co-edited document linked to the media
    strategy, with a section for each participating inspectorate's chief inspector quote;
    asking again returns the same document."""
    if user.tenant_id != workspace.lead_tenant_id:
        raise MediaError(
            "The lead inspectorate drafts the press notice; contribute by editing it (§45)"
        )
    existing = press_notice(session, workspace)
    if existing is not None:
        return existing
    row = strategy(session, workspace) or save_strategy(session, workspace, user, {})
    sections = [
        {"key": "notice", "title": "Press notice", "body": f"<p>{escape(workspace.title)}</p>"}
    ]
    for participant in workspace.participants:
        tenant = participant.tenant
        sections.append(
            {
                "key": f"quote-{tenant.slug}",
                "title": f"Quote: {tenant.name}",
                "body": "<p>The chief inspector's quote.</p>",
            }
        )
    sections.append({"key": "notes", "title": "Notes to editors", "body": "<p></p>"})
    document = documents.create_document(
        session,
        workspace,
        user,
        kind="press_notice",
        title=f"Press notice: {workspace.title}"[:300],
        sections=sections,
    )
    row.press_notice_id = document.id
    session.flush()
    return document


def missing_voices(session: Session, workspace: Workspace) -> list[str]:
    """Participating inspectorates whose chief inspector / HMI the strategy does not refer to
    or quote (§44): the media strategy decision cannot be agreed while any is missing."""
    row = strategy(session, workspace)
    quoted = set(row.quoted_tenant_ids) if row else set()
    return [p.tenant.name for p in workspace.participants if p.tenant_id not in quoted]


def check_before_agreement(session: Session, workspace: Workspace) -> None:
    """Raise DecisionError naming every inspectorate whose chief inspector is left out."""
    missing = missing_voices(session, workspace)
    if missing:
        raise decisions.DecisionError(
            "The media strategy must refer to or quote the chief inspector of every "
            "participating inspectorate (§44). Missing: " + ", ".join(missing)
        )


def circulate(
    session: Session,
    workspace: Workspace,
    user: User,
    *,
    document: Document,
    recipient: str,
    organisation: str = "",
    kind: str = "critical_reader",
    scope: str = "factual_accuracy",
    sent_on: date,
    working_days: int = 10,
) -> Circulation:
    """Record that a draft version went to a critical reader or the inspected body, and
    when their comments are due in working days (weekends and bank holidays skipped)."""
    if document.workspace_id != workspace.id:
        raise MediaError("That document belongs to another inspection", "document_id")
    if kind not in ("critical_reader", "inspected_body"):
        raise MediaError("Send to a critical reader or the inspected body", "kind")
    if scope not in ("factual_accuracy", "wider"):
        raise MediaError("Ask for factual accuracy only, or wider comments", "scope")
    if not 1 <= working_days <= 60:
        raise MediaError("Allow between 1 and 60 working days", "working_days")
    if not recipient.strip():
        raise MediaError("Say who the draft went to", "recipient")
    row = Circulation(
        workspace_id=workspace.id,
        document_id=document.id,
        version_number=document.head_number,
        recipient=recipient.strip()[:300],
        organisation=organisation.strip()[:300],
        kind=kind,
        scope=scope,
        sent_on=sent_on,
        working_days=working_days,
        due_on=add_working_days(sent_on, working_days),
    )
    session.add(row)
    session.flush()
    return row


def record_response(session: Session, row: Circulation, responded_on: date) -> Circulation:
    row.responded_on = responded_on
    session.flush()
    return row


def circulations(session: Session, workspace: Workspace) -> list[Circulation]:
    return list(
        session.scalars(
            select(Circulation)
            .where(Circulation.workspace_id == workspace.id)
            .order_by(Circulation.due_on, Circulation.id)
        )
    )


def working_day_warning(day: date) -> str | None:
    """Why a publication date is a poor choice, if it falls on a weekend or bank holiday."""
    from app.workdays import bank_holiday_name

    if is_working_day(day):
        return None
    name = bank_holiday_name(day) or day.strftime("%A")
    return (
        f"{day:%-d %B %Y} is not a working day ({name}): choose a weekday that is not a bank "
        "holiday"
    )
