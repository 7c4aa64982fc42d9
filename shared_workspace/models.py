"""Joint-inspection workspaces: participants, people, sites, stage checklists, decision
subjects, decisions and approvals, private notes.

Rows marked ``__workspace_scoped__`` are visible to every tenant participating in their
workspace and to no other; ``__participant_private__`` rows are further limited to the
tenant that owns them (its private area inside the workspace).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from tenants.models import Tenant, User

STAGES = {
    1: "Planning, scope and methodology",
    2: "Selection of areas and commissioning",
    3: "Pre-onsite fieldwork",
    4: "Onsite fieldwork",
    5: "Evaluation and emerging findings",
    6: "Report writing",
    7: "Publication and media",
    8: "Retention and destruction",
}


class WorkspaceRole(enum.StrEnum):
    """What a person does in one joint inspection (DOMAIN.md "Roles people hold")."""

    LEAD_INSPECTOR = "lead_inspector"
    SENIOR_OVERSIGHT = "senior_oversight"
    DEVELOPMENT_GROUP_REP = "development_group_rep"
    CHIEF_INSPECTOR = "chief_inspector"
    TEAM_MEMBER = "team_member"
    QUALITY_ASSURER = "quality_assurer"
    COMMUNICATIONS_OFFICER = "communications_officer"
    RECORDS_MANAGER = "records_manager"


class BodyType(enum.StrEnum):
    POLICE_FORCE = "police_force"
    CPS_AREA = "cps_area"
    PROBATION_DELIVERY_UNIT = "probation_delivery_unit"
    YOUTH_OFFENDING_SERVICE = "youth_offending_service"
    PRISON = "prison"


BODY_TYPE_LABELS = {
    BodyType.POLICE_FORCE: "Police force",
    BodyType.CPS_AREA: "CPS Area",
    BodyType.PROBATION_DELIVERY_UNIT: "Probation delivery unit",
    BodyType.YOUTH_OFFENDING_SERVICE: "Youth offending service",
    BodyType.PRISON: "Prison, YOI or place of detention",
}


class Workspace(Base):
    """One joint inspection. Visible to its participating inspectorates only."""

    __tablename__ = "workspaces"
    __workspace_scoped__ = True
    __workspace_column__ = "id"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    lead_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    stage: Mapped[int] = mapped_column(Integer, default=1)
    publication_date: Mapped[date | None] = mapped_column(Date)
    #: Set when the joint report is published (the end of stage 7).
    published_at: Mapped[datetime | None]
    #: Set when the agreed terms of reference are on the "inspections in progress" page.
    terms_published_at: Mapped[datetime | None]
    #: What the public "inspections in progress" page shows: the agreed terms, frozen.
    published_terms: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: Recorded facts that gates depend on (001 §35).
    emerging_findings_meeting_on: Mapped[date | None] = mapped_column(Date)
    joint_qa_concluded_on: Mapped[date | None] = mapped_column(Date)
    #: When the draft report went to HMIs/CIs (§37) and to stakeholders and critical readers
    #: (§38): recorded by the gate that let it go.
    draft_to_hmis_at: Mapped[datetime | None]
    draft_to_stakeholders_at: Mapped[datetime | None]
    #: When the inspection was closed (a retention trigger: 001 §48).
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lead_tenant: Mapped[Tenant] = relationship(lazy="joined")
    participants: Mapped[list[Participant]] = relationship(
        back_populates="workspace", lazy="selectin", order_by="Participant.id"
    )

    __table_args__ = (CheckConstraint("stage BETWEEN 1 AND 8", name="stage_range"),)

    @property
    def recommendations_word(self) -> str:
        """HMI Prisons-led reports raise concerns rather than recommendations (001 fn 1)."""
        return "concerns" if self.lead_tenant.slug == "hmiprisons" else "recommendations"

    @property
    def stage_name(self) -> str:
        return STAGES[self.stage]


class Participant(Base):
    """A participating inspectorate (the lead included)."""

    __tablename__ = "workspace_participants"
    __workspace_scoped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    workspace: Mapped[Workspace] = relationship(back_populates="participants")
    tenant: Mapped[Tenant] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("workspace_id", "tenant_id"),)


class Member(Base):
    """A person's role in a workspace on behalf of their own inspectorate."""

    __tablename__ = "workspace_members"
    __workspace_scoped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))

    user: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint("workspace_id", "user_id", "role"),
        CheckConstraint(
            "role IN (" + ", ".join(f"'{r.value}'" for r in WorkspaceRole) + ")",
            name="known_role",
        ),
    )


class Site(Base):
    """An inspected body visited for fieldwork, with its fieldwork window."""

    __tablename__ = "workspace_sites"
    __workspace_scoped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    body_type: Mapped[str] = mapped_column(String(40))
    fieldwork_starts_on: Mapped[date | None] = mapped_column(Date)
    fieldwork_ends_on: Mapped[date | None] = mapped_column(Date)
    #: When the commissioning letter for this site was sent (gate: 001 §16-17).
    letters_sent_on: Mapped[date | None] = mapped_column(Date)


class ChecklistItem(Base):
    """A stage's core expectation (001) or an item the lead added."""

    __tablename__ = "checklist_items"
    __workspace_scoped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    stage: Mapped[int] = mapped_column(Integer)
    #: Paragraph of 001 the item comes from, e.g. "§9"; empty for items the lead added.
    reference: Mapped[str] = mapped_column(String(20), default="")
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_on: Mapped[date | None] = mapped_column(Date)
    #: What satisfies it: a link to a document, evidence item or decision.
    link: Mapped[str] = mapped_column(String(500), default="")

    __table_args__ = (
        CheckConstraint("status IN ('open', 'done', 'not_applicable')", name="known_status"),
    )


class Subject(Base):
    """Something a decision is about, versioned; its content hash is what approvals bind to.

    Until the documents issue brings rich documents, a subject holds structured content
    (for example the terms of reference in annex 3's sections) as JSON.
    """

    __tablename__ = "decision_subjects"
    __workspace_scoped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    content_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Decision(Base):
    """A key decision needing every participating inspectorate's approval."""

    __tablename__ = "decisions"
    __workspace_scoped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(ForeignKey("decision_subjects.id"))
    #: The exact version approvals bind to.
    subject_version: Mapped[int] = mapped_column(Integer)
    subject_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="open")
    due_on: Mapped[date | None] = mapped_column(Date)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    agreed_at: Mapped[datetime | None]
    #: Why approvals were last voided, shown to the approvers.
    voided_reason: Mapped[str] = mapped_column(Text, default="")

    subject: Mapped[Subject] = relationship(lazy="joined")
    approvals: Mapped[list[Approval]] = relationship(
        back_populates="decision", lazy="selectin", order_by="Approval.id"
    )

    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'agreed', 'rejected', 'superseded')", name="known_status"
        ),
    )


class Approval(Base):
    """One inspectorate's answer to a decision; voided approvals are kept for the history."""

    __tablename__ = "approvals"
    __workspace_scoped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    verdict: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    subject_hash: Mapped[str] = mapped_column(String(64))
    #: The approver confirmed their inspectorate's red lines are respected (001 §5, §37).
    red_lines_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    voided_at: Mapped[datetime | None]

    decision: Mapped[Decision] = relationship(back_populates="approvals")
    user: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (CheckConstraint("verdict IN ('approved', 'rejected')", name="known_verdict"),)


class PrivateNote(Base):
    """A participant's private note or draft inside a workspace: only its own staff see it."""

    __tablename__ = "private_notes"
    __workspace_scoped__ = True
    __participant_private__ = True
    #: Retention purges the text; the audit log (never rewritten) must not keep a copy.
    __audit_redact__ = frozenset({"body"})

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    #: Set when retention destroyed the note: its text is gone, its title stays as a record.
    destroyed_at: Mapped[datetime | None]


class Milestone(Base):
    """A dated step of the project plan the lead keeps (001 §10-11), owned by one
    participating inspectorate and, when named, one person."""

    __tablename__ = "milestones"
    __workspace_scoped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    stage: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    owner_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_on: Mapped[date] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner_tenant: Mapped[Tenant] = relationship(lazy="joined")
    owner: Mapped[User | None] = relationship(lazy="joined")

    __table_args__ = (CheckConstraint("stage BETWEEN 1 AND 8", name="stage_range"),)


class Notification(Base):
    """Something a person should know: a deadline near, their approval voided. Each tenant's
    reminder job writes its own people's notifications, so no tenant writes another's."""

    __tablename__ = "notifications"
    __tenant_owned__ = True
    #: Messages derived from audited changes; auditing them again would only add noise.
    __audit_skip__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    workspace_id: Mapped[int | None] = mapped_column(ForeignKey("workspaces.id"))
    #: Makes sending idempotent: one notification per key and person, however often the job runs.
    key: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
    )
