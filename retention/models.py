"""Retention: each tenant's rules, every item's schedule, holds, confirmed events and
destruction certificates.

A **schedule** row is one inspectorate's claim on one item of material (an evidence file, a
document, a private note). Material one inspectorate owns has one claim, its owner's; joint
material (shared evidence, joint documents) has one claim per participating inspectorate,
each following that inspectorate's rule as the workspace's retention agreement records it.
The stored object is destroyed only when every claim on it has ended. Schedule rows are
never deleted: once the material is gone the row is its tombstone (what it was, whose, which
rule, which dates, its hash) and the certificate that destroyed it lists it.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
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


def _in(column: str, values: object) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"  # type: ignore[attr-defined]


class Trigger(enum.StrEnum):
    PUBLICATION = "publication"
    UPLOAD = "upload"
    CLOSURE = "closure"
    EVENT = "event"


TRIGGER_LABELS = {
    Trigger.PUBLICATION: "the publication date",
    Trigger.UPLOAD: "the date it was added",
    Trigger.CLOSURE: "the workspace's closure",
    Trigger.EVENT: "a confirmed event",
}


class Action(enum.StrEnum):
    DESTROY = "destroy"
    REVIEW = "review"
    RETAIN = "retain"
    TRANSFER = "transfer"


ACTION_LABELS = {
    Action.DESTROY: "Destroy",
    Action.REVIEW: "Review",
    Action.RETAIN: "Retain permanently",
    Action.TRANSFER: "Transfer to the inspectorate's records system",
}


class Unit(enum.StrEnum):
    DAYS = "days"
    MONTHS = "months"
    YEARS = "years"


#: Material classes a rule can name. ``evidence.<method>`` classes narrow ``evidence``.
MATERIAL_CLASSES = {
    "all": "All inspection material",
    "evidence": "Evidence (any method)",
    "interview_notes": "Interview and focus-group notes",
    "notebooks": "Inspectors' notebooks and private notes",
    "paper_copies": "Paper copies",
    "working_drafts": "Working drafts",
    "data": "Data",
    "published_report": "Published report",
    "letters": "Letters",
    "correspondence": "Correspondence",
}
SENSITIVITIES = ("any", "standard", "sensitive")
EVENTS = {"notes_transcribed": "All notes are transcribed onto the evidence system"}


class RetentionRule(Base):
    """One version of a tenant's rule for a class of material (and sensitivity).

    A rule is never edited in place: a change is a new row saying from when it applies, and
    it applies to material that came into being on or after that day.
    """

    __tablename__ = "retention_rules"
    __tenant_owned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    material_class: Mapped[str] = mapped_column(String(60))
    sensitivity: Mapped[str] = mapped_column(String(20), default="any")
    trigger: Mapped[str] = mapped_column(String(20))
    #: For the ``event`` trigger: which confirmed event (``EVENTS``).
    event_name: Mapped[str] = mapped_column(String(60), default="")
    offset_amount: Mapped[int] = mapped_column(Integer, default=0)
    offset_unit: Mapped[str] = mapped_column(String(10), default=Unit.DAYS.value)
    action: Mapped[str] = mapped_column(String(20))
    effective_from: Mapped[date] = mapped_column(Date)
    #: Why, in the records manager's words (shown with every schedule the rule sets).
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tenant: Mapped[Tenant] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint("tenant_id", "material_class", "sensitivity", "effective_from"),
        CheckConstraint(_in("trigger", [t.value for t in Trigger]), name="known_trigger"),
        CheckConstraint(_in("action", [a.value for a in Action]), name="known_action"),
        CheckConstraint(_in("offset_unit", [u.value for u in Unit]), name="known_unit"),
        CheckConstraint(_in("sensitivity", SENSITIVITIES), name="known_sensitivity"),
        CheckConstraint("material_class <> ''", name="class_named"),
    )


class State(enum.StrEnum):
    """waiting (trigger date unknown) -> scheduled -> review | transfer (tasks) ->
    destroying (phase one of a sweep) -> released (this claim ended; others keep the object)
    | destroyed (the object is gone). retained: kept permanently. transferred: handed over."""

    WAITING = "waiting"
    SCHEDULED = "scheduled"
    RETAINED = "retained"
    REVIEW = "review"
    TRANSFER = "transfer"
    DESTROYING = "destroying"
    RELEASED = "released"
    DESTROYED = "destroyed"
    TRANSFERRED = "transferred"
    UNRULED = "unruled"


#: States a recompute may change; the others are tasks, in flight, or final.
OPEN_STATES = (State.WAITING, State.SCHEDULED, State.RETAINED, State.UNRULED)
#: States in which a claim no longer needs the object.
ENDED_STATES = (State.RELEASED, State.DESTROYED, State.TRANSFERRED)


class MaterialType(enum.StrEnum):
    EVIDENCE_FILE = "evidence_file"
    DOCUMENT = "document"
    PRIVATE_NOTE = "private_note"


class Schedule(Base):
    """One inspectorate's claim on one item: what happens to it, when and why."""

    __tablename__ = "retention_schedules"
    __workspace_scoped__ = True
    __visibility_column__ = "visibility"
    #: Derived from rules and triggers, changed in bulk; the audit log records the rule
    #: changes, holds, reviews and sweeps that move schedules, not every recomputed row.
    __audit_skip__ = True

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    #: The inspectorate whose claim this is.
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    #: "workspace" for joint material; "inspectorate" keeps the row to its owner.
    visibility: Mapped[str] = mapped_column(String(20))
    material_type: Mapped[str] = mapped_column(String(20))
    material_id: Mapped[int] = mapped_column(Integer)
    #: The inspectorate that owns the material (for joint documents, the lead).
    owner_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    joint: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The tombstone: what it was, its stored object and content hash.
    title: Mapped[str] = mapped_column(String(300))
    object_key: Mapped[str] = mapped_column(String(1024), default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    #: The item's class chain, most specific first: "interview_notes,evidence.interview,...".
    material_class: Mapped[str] = mapped_column(String(200))
    sensitivity: Mapped[str] = mapped_column(String(20), default="standard")
    created_on: Mapped[date] = mapped_column(Date)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("retention_rules.id"))
    trigger: Mapped[str] = mapped_column(String(20), default="")
    trigger_on: Mapped[date | None] = mapped_column(Date)
    action: Mapped[str] = mapped_column(String(20), default="")
    disposal_on: Mapped[date | None] = mapped_column(Date)
    #: London midnight at the start of ``disposal_on``, in UTC: not a second earlier.
    due_at: Mapped[datetime | None]
    #: A records manager's review outcome, which recomputes leave alone.
    override_on: Mapped[date | None] = mapped_column(Date)
    override_action: Mapped[str] = mapped_column(String(20), default="")
    override_reason: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default=State.WAITING.value)
    #: The certificate whose sweep ended this claim (set in phase one).
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("retention_certificates.id"))
    #: Phase one decided the object goes with this claim (no other claim still needs it).
    destroy_object: Mapped[bool] = mapped_column(Boolean, default=False)
    ended_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    rule: Mapped[RetentionRule | None] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint("tenant_id", "material_type", "material_id"),
        CheckConstraint(_in("state", [s.value for s in State]), name="known_state"),
        CheckConstraint(_in("material_type", [m.value for m in MaterialType]), name="known_type"),
        CheckConstraint("visibility IN ('workspace', 'inspectorate')", name="known_visibility"),
        Index("ix_retention_schedules_due", "tenant_id", "state", "due_at"),
        Index("ix_retention_schedules_material", "material_type", "material_id"),
        Index("ix_retention_schedules_workspace", "workspace_id", "trigger", "rule_id"),
        Index("ix_retention_schedules_certificate", "certificate_id"),
    )


class HoldScope(enum.StrEnum):
    ITEM = "item"
    WORKSPACE = "workspace"
    TENANT = "tenant"


HOLD_REASONS = {
    "legal": "Legal hold",
    "complaint": "Complaint",
    "foi": "Freedom of information request",
    "follow_up": "Follow-up inspection planned",
    "other": "Other",
}


class Hold(Base):
    """A records manager's hold: nothing it covers is destroyed until it is released."""

    __tablename__ = "retention_holds"
    __tenant_owned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    scope: Mapped[str] = mapped_column(String(20))
    workspace_id: Mapped[int | None] = mapped_column(ForeignKey("workspaces.id"))
    material_type: Mapped[str] = mapped_column(String(20), default="")
    material_id: Mapped[int | None] = mapped_column(Integer)
    reason_kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    review_on: Mapped[date] = mapped_column(Date)
    placed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None]
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    release_reason: Mapped[str] = mapped_column(Text, default="")

    placed_by: Mapped[User] = relationship(lazy="joined", foreign_keys=[placed_by_id])

    __table_args__ = (
        CheckConstraint(_in("scope", [s.value for s in HoldScope]), name="known_scope"),
        CheckConstraint(_in("reason_kind", HOLD_REASONS), name="known_reason"),
        CheckConstraint("reason <> ''", name="reason_given"),
        Index("ix_retention_holds_active", "tenant_id", "released_at"),
    )


class RetentionEvent(Base):
    """An event one inspectorate confirms in a workspace (e.g. its notes are transcribed);
    every participant sees it, since joint material's schedules depend on it."""

    __tablename__ = "retention_events"
    __workspace_scoped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    name: Mapped[str] = mapped_column(String(60))
    confirmed_on: Mapped[date] = mapped_column(Date)
    confirmed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("workspace_id", "tenant_id", "name"),)


class Certificate(Base):
    """Proof of one sweep's destruction for one inspectorate: the claims it ended (their
    schedule rows are the tombstones) and a hash over them."""

    __tablename__ = "retention_certificates"
    __tenant_owned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    #: pending: phase one done, objects may be partly deleted; complete: proof written.
    state: Mapped[str] = mapped_column(String(20), default="pending")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    items: Mapped[int] = mapped_column(Integer, default=0)
    objects_deleted: Mapped[int] = mapped_column(Integer, default=0)
    #: SHA-256 over the sorted tombstones (id, material, rule, dates, content hash).
    digest: Mapped[str] = mapped_column(String(64), default="")

    tenant: Mapped[Tenant] = relationship(lazy="joined")

    __table_args__ = (CheckConstraint("state IN ('pending', 'complete')", name="known_state"),)


class RetentionSettings(Base):
    """One inspectorate's retention settings, kept by its records managers."""

    __tablename__ = "retention_settings"
    __tenant_owned__ = True

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    #: Days ahead that records managers and lead inspectors hear about destruction.
    warning_days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (CheckConstraint("warning_days BETWEEN 1 AND 365", name="warning_days"),)
