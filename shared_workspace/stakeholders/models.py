"""Stakeholder directories (private to each tenant), nominations into a workspace (the fields
needed to send, copied so fellow participants never read another tenant's directory), the
consolidated list, its review queue and the match decisions people made."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from tenants.models import Tenant

CATEGORIES = {
    "sponsoring_department": "Sponsoring department",
    "inspected_body": "Inspected body",
    "criminal_justice_partner": "Criminal justice partner",
    "third_sector": "Third sector",
    "parliamentary": "Parliamentary",
    "media": "Media",
    "academic": "Academic",
    "other": "Other",
}
ENTRY_KINDS = ("person", "post", "organisation")


def _in(values: Any, name: str) -> CheckConstraint:
    return CheckConstraint(
        f"{name} IN (" + ", ".join(f"'{v}'" for v in values) + ")", name=f"known_{name}"
    )


class StakeholderEntry(Base):
    """A person, a post (a job-title mailbox) or an organisation in one tenant's directory."""

    __tablename__ = "stakeholder_entries"
    __tenant_owned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="person")
    title: Mapped[str] = mapped_column(String(40), default="")
    given_name: Mapped[str] = mapped_column(String(100), default="")
    family_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(200), default="")
    organisation: Mapped[str] = mapped_column(String(300), default="")
    emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    phones: Mapped[list[str]] = mapped_column(JSON, default=list)
    address: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(40), default="other")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    consent: Mapped[bool] = mapped_column(Boolean, default=True)
    do_not_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Private to the tenant: never copied into a workspace.
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (_in(ENTRY_KINDS, "kind"), _in(CATEGORIES, "category"))

    @property
    def name(self) -> str:
        person = " ".join(p for p in (self.title, self.given_name, self.family_name) if p)
        return person or self.role or self.organisation


class ImportBatch(Base):
    """An uploaded CSV or XLSX file, parsed and checked row by row, waiting to be confirmed."""

    __tablename__ = "stakeholder_imports"
    __tenant_owned__ = True
    __audit_skip__ = True  # the rows it creates are audited one by one

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    filename: Mapped[str] = mapped_column(String(300))
    #: Every row as read, with its problems: [{line, values, errors, warnings}].
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="previewed")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    committed_at: Mapped[datetime | None]
    imported: Mapped[int] = mapped_column(Integer, default=0)
    #: A large file waits in object storage while a job reads it.
    storage_key: Mapped[str] = mapped_column(String(500), default="")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (_in(("reading", "previewed", "committed", "discarded", "failed"), "status"),)


class Nomination(Base):
    """An entry an inspectorate nominates for this inspection, with only what sending needs."""

    __tablename__ = "stakeholder_nominations"
    __workspace_scoped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    #: The directory entry it came from (readable by its own tenant only).
    entry_id: Mapped[int] = mapped_column(Integer)
    #: engagement during the inspection, the publication list, or both (§42).
    purpose: Mapped[str] = mapped_column(String(20), default="both")
    kind: Mapped[str] = mapped_column(String(20), default="person")
    title: Mapped[str] = mapped_column(String(40), default="")
    given_name: Mapped[str] = mapped_column(String(100), default="")
    family_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(200), default="")
    organisation: Mapped[str] = mapped_column(String(300), default="")
    emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    phones: Mapped[list[str]] = mapped_column(JSON, default=list)
    address: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(40), default="other")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tenant: Mapped[Tenant] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint("workspace_id", "tenant_id", "entry_id"),
        _in(("engagement", "publication", "both"), "purpose"),
    )


class DistributionList(Base):
    """The workspace's consolidated list: how it is sent (§43) and the last consolidation."""

    __tablename__ = "distribution_lists"
    __workspace_scoped__ = True
    __audit_skip__ = True  # progress ticks; agreeing it is a decision, audited there

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), unique=True)
    #: lead_sends_all: the lead sends to everyone; each_sends_own: each to its own nominees.
    mode: Mapped[str] = mapped_column(String(20), default="lead_sends_all")
    status: Mapped[str] = mapped_column(String(20), default="empty")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    built_at: Mapped[datetime | None]
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("decision_subjects.id"))

    __table_args__ = (
        _in(("lead_sends_all", "each_sends_own"), "mode"),
        _in(("empty", "queued", "running", "ready", "failed"), "status"),
    )


class Recipient(Base):
    """One real person or organisation on the consolidated list, once."""

    __tablename__ = "distribution_recipients"
    __workspace_scoped__ = True
    __audit_skip__ = True  # rebuilt by each consolidation, which is audited

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(200), default="")
    organisation: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(40), default="other")
    sender_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    #: The nominations merged into it: [{nomination_id, tenant}].
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: Why its sources were merged: [{left, right, score, reasons}].
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    sender: Mapped[Tenant] = relationship(lazy="joined")


class MatchCandidate(Base):
    """A pair the matcher was unsure about, waiting for a person to confirm or reject."""

    __tablename__ = "stakeholder_match_candidates"
    __workspace_scoped__ = True
    __audit_skip__ = True  # the decision about it is audited

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    left_id: Mapped[int] = mapped_column(ForeignKey("stakeholder_nominations.id"))
    right_id: Mapped[int] = mapped_column(ForeignKey("stakeholder_nominations.id"))
    score: Mapped[float]
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)

    left: Mapped[Nomination] = relationship(lazy="joined", foreign_keys=[left_id])
    right: Mapped[Nomination] = relationship(lazy="joined", foreign_keys=[right_id])


class MatchDecision(Base):
    """A person's verdict on a pair: remembered, and never asked again."""

    __tablename__ = "stakeholder_match_decisions"
    __workspace_scoped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    left_id: Mapped[int] = mapped_column(ForeignKey("stakeholder_nominations.id"))
    right_id: Mapped[int] = mapped_column(ForeignKey("stakeholder_nominations.id"))
    same: Mapped[bool] = mapped_column(Boolean)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("workspace_id", "left_id", "right_id"),
        CheckConstraint("left_id < right_id", name="ordered_pair"),
        Index("ix_stakeholder_match_decisions_pair", "left_id", "right_id"),
    )
