"""Letters and their delivery, draft circulations, the media strategy, scheduled sends around
publication, and the recommendations tracker."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from tenants.models import Tenant, User


def _in(values: Any, name: str) -> CheckConstraint:
    return CheckConstraint(
        f"{name} IN (" + ", ".join(f"'{v}'" for v in values) + ")", name=f"known_{name}"
    )


class Letter(Base):
    """A commissioning letter (letter of announcement) to one addressee at one site; its text
    is a co-edited document and its authority a commissioning-letters decision (§15-17)."""

    __tablename__ = "letters"
    __workspace_scoped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("workspace_sites.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    addressee_name: Mapped[str] = mapped_column(String(200))
    addressee_role: Mapped[str] = mapped_column(String(200), default="")
    addressee_email: Mapped[str] = mapped_column(String(320), default="")
    title: Mapped[str] = mapped_column(String(300))
    dated_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    sent_at: Mapped[datetime | None]
    #: What the mail backend said: its message id, or why it failed.
    delivery: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        _in(("draft", "sending", "sent", "failed"), "status"),
        # One letter per inspected site and addressee (the service also compares names
        # ignoring case, and email addresses).
        UniqueConstraint("site_id", "addressee_name"),
    )


class Circulation(Base):
    """A draft version sent to a critical reader or the inspected body (§39, §41)."""

    __tablename__ = "circulations"
    __workspace_scoped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    version_number: Mapped[int] = mapped_column(Integer)
    recipient: Mapped[str] = mapped_column(String(300))
    organisation: Mapped[str] = mapped_column(String(300), default="")
    kind: Mapped[str] = mapped_column(String(20), default="critical_reader")
    #: What was asked: factual accuracy only, or comment more widely (§39).
    scope: Mapped[str] = mapped_column(String(20), default="factual_accuracy")
    sent_on: Mapped[date] = mapped_column(Date)
    working_days: Mapped[int] = mapped_column(Integer, default=10)
    due_on: Mapped[date] = mapped_column(Date)
    responded_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        _in(("critical_reader", "inspected_body"), "kind"),
        _in(("factual_accuracy", "wider"), "scope"),
        CheckConstraint("working_days BETWEEN 1 AND 60", name="working_days_range"),
    )


class CirculationComment(Base):
    """One comment a critical reader or the inspected body made on a circulated draft, and
    the inspection team's response to it (§39, §41)."""

    __tablename__ = "circulation_comments"
    __workspace_scoped__ = True
    #: The draft's text quoted and answered: retention destroys it with the draft, so the
    #: audit log (never rewritten) records that it changed, not what it said.
    __audit_redact__ = frozenset({"text", "reference", "response"})

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    circulation_id: Mapped[int] = mapped_column(ForeignKey("circulations.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    #: Who made the comment, e.g. "Ann Bell, Governor, HMP Manchester".
    source: Mapped[str] = mapped_column(String(300))
    #: Where in the draft it points: a section, paragraph or page.
    reference: Mapped[str] = mapped_column(String(300), default="")
    received_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The team's answer: accepted (the draft changes), partially accepted or not accepted.
    outcome: Mapped[str | None] = mapped_column(String(20))
    response: Mapped[str] = mapped_column(Text, default="")
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    responded_at: Mapped[datetime | None]

    recorded_by: Mapped[User] = relationship(lazy="joined", foreign_keys=[recorded_by_id])
    responded_by: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[responded_by_id])

    __table_args__ = (
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('accepted', 'partially_accepted', 'not_accepted')",
            name="known_outcome",
        ),
    )


class MediaStrategy(Base):
    """The consolidated media strategy, one per inspection, agreed jointly (§44-47)."""

    __tablename__ = "media_strategies"
    __workspace_scoped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), unique=True)
    launch: Mapped[str] = mapped_column(String(20), default="proactive")
    key_messages: Mapped[str] = mapped_column(Text, default="")
    #: Inspectorates whose chief inspector / HMI is referred to or quoted.
    quoted_tenant_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    interview_bids: Mapped[str] = mapped_column(String(20), default="lead_only")
    spokespeople: Mapped[str] = mapped_column(Text, default="")
    briefings: Mapped[str] = mapped_column(Text, default="")
    post_publication: Mapped[str] = mapped_column(Text, default="")
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("decision_subjects.id"))
    #: The press notice: a co-edited document the lead drafts with everyone's contributions
    #: (§45); its own press-materials decision agrees it.
    press_notice_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        _in(("soft", "proactive"), "launch"),
        _in(("lead_only", "spread"), "interview_bids"),
    )


class ScheduledSend(Base):
    """One send around publication: embargoed copy, press notice, the report, a thank-you."""

    __tablename__ = "scheduled_sends"
    __workspace_scoped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    sender_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    recipient_name: Mapped[str] = mapped_column(String(300))
    recipient_email: Mapped[str] = mapped_column(String(320), default="")
    send_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    sent_at: Mapped[datetime | None]
    delivery: Mapped[str] = mapped_column(Text, default="")

    sender: Mapped[Tenant] = relationship(lazy="joined")

    __table_args__ = (
        _in(("embargoed_copy", "press_notice", "publication", "thank_you"), "kind"),
        _in(("scheduled", "sent", "failed"), "status"),
    )


class Recommendation(Base):
    """A recommendation (a concern when HMI Prisons leads) or an issue to address (§33, §46)."""

    __tablename__ = "recommendations"
    __workspace_scoped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default="recommendation")
    text: Mapped[str] = mapped_column(Text)
    organisation: Mapped[str] = mapped_column(String(300))
    responsible_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    #: SMART: how progress is measured and by when (§33).
    measure: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[date | None] = mapped_column(Date)
    evidence: Mapped[str] = mapped_column(Text, default="")
    report_section: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    responsible: Mapped[Tenant] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint("workspace_id", "number"),
        _in(("recommendation", "concern", "issue_to_address"), "kind"),
    )


class RecommendationResponse(Base):
    """The organisation's response: accepted, partially accepted or rejected, and action."""

    __tablename__ = "recommendation_responses"
    __workspace_scoped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    action_taken: Mapped[str] = mapped_column(Text, default="")
    responded_on: Mapped[date] = mapped_column(Date)
    #: A progress update after the response rather than the response itself.
    progress: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (_in(("accepted", "partially_accepted", "rejected", "update"), "status"),)
