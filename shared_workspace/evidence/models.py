"""Evidence items, their criteria links and files, and zip exports.

Items, criteria links and files carry the owning inspectorate (``tenant_id``) and the item's
visibility: the whole workspace, or that inspectorate only (``__visibility_column__``, enforced
by the ORM and by row-level security). Files and links copy the item's visibility so each
table can be filtered on its own rows.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from shared_workspace.models import Site
from tenants.models import Tenant, User


class Method(enum.StrEnum):
    """Evidence-gathering methods (001 §3)."""

    FILE_EXAMINATION = "file_examination"
    DOCUMENT_REVIEW = "document_review"
    DATA = "data"
    REALITY_CHECK = "reality_check"
    INTERVIEW = "interview"
    FOCUS_GROUP = "focus_group"
    SURVEY = "survey"
    REQUEST_FOR_INFORMATION = "request_for_information"
    CALL_FOR_EVIDENCE = "call_for_evidence"
    EXTERNAL_REFERENCE_GROUP = "external_reference_group"
    USER_VOICE = "user_voice"
    COMMISSIONED_RESEARCH = "commissioned_research"
    OBSERVATION = "observation"


METHOD_LABELS = {
    Method.FILE_EXAMINATION: "File examination",
    Method.DOCUMENT_REVIEW: "Document review",
    Method.DATA: "Data",
    Method.REALITY_CHECK: "Reality check",
    Method.INTERVIEW: "Interview",
    Method.FOCUS_GROUP: "Focus group",
    Method.SURVEY: "Survey",
    Method.REQUEST_FOR_INFORMATION: "Request for information",
    Method.CALL_FOR_EVIDENCE: "Call for evidence",
    Method.EXTERNAL_REFERENCE_GROUP: "External reference group",
    Method.USER_VOICE: "User voice",
    Method.COMMISSIONED_RESEARCH: "Commissioned research",
    Method.OBSERVATION: "Court or other observation",
}

MARKINGS = ("OFFICIAL", "OFFICIAL-SENSITIVE")


class Visibility(enum.StrEnum):
    WORKSPACE = "workspace"
    INSPECTORATE = "inspectorate"


#: Retention classes the retention rules act on (the retention issue maps them to periods).
RETENTION_CLASSES = (
    "standard",
    "data",
    "sensitive",
    "published-report",
    "notebook",
    "paper",
    "correspondence",
)


class FileState(enum.StrEnum):
    """uploading -> uploaded -> clean | rejected; clean -> destroyed (retention). The scan job
    moves uploaded files on in one transaction, so no "scanning" state is ever seen;
    abandoned uploads end rejected."""

    UPLOADING = "uploading"
    UPLOADED = "uploaded"
    CLEAN = "clean"
    REJECTED = "rejected"
    DESTROYED = "destroyed"


def _in(column: str, values: object) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"  # type: ignore[attr-defined]


class EvidenceItem(Base):
    """One piece of evidence gathered for the joint inspection, with any number of files."""

    __tablename__ = "evidence_items"
    __workspace_scoped__ = True
    __visibility_column__ = "visibility"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    #: The owning inspectorate: only its staff change the item or add files.
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    title: Mapped[str] = mapped_column(String(300))
    method: Mapped[str] = mapped_column(String(40))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("workspace_sites.id"))
    #: The inspected body when it is not one of the workspace's sites.
    inspected_body: Mapped[str] = mapped_column(String(300), default="")
    #: Role or job title of the source, never a person's name (000, EEN).
    source: Mapped[str] = mapped_column(String(300), default="")
    collected_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    protective_marking: Mapped[str] = mapped_column(String(30), default="OFFICIAL")
    visibility: Mapped[str] = mapped_column(String(20), default=Visibility.WORKSPACE.value)
    retention_class: Mapped[str] = mapped_column(String(40), default="standard")
    #: Lower-cased title, source and body, searched by the list's text filter.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tenant: Mapped[Tenant] = relationship(lazy="joined")
    site: Mapped[Site | None] = relationship(lazy="joined")
    collected_by: Mapped[User] = relationship(lazy="joined")
    criteria: Mapped[list[EvidenceCriterion]] = relationship(
        lazy="selectin", order_by="EvidenceCriterion.id", cascade="all, delete-orphan"
    )
    files: Mapped[list[EvidenceFile]] = relationship(
        back_populates="item", lazy="raise", order_by="EvidenceFile.id"
    )

    __table_args__ = (
        CheckConstraint(_in("method", [m.value for m in Method]), name="known_method"),
        CheckConstraint(_in("protective_marking", MARKINGS), name="known_marking"),
        CheckConstraint(_in("visibility", [v.value for v in Visibility]), name="known_visibility"),
        CheckConstraint(_in("retention_class", RETENTION_CLASSES), name="known_retention_class"),
        Index("ix_evidence_items_workspace", "workspace_id", "id"),
        Index("ix_evidence_items_workspace_method", "workspace_id", "method", "id"),
        Index("ix_evidence_items_workspace_site", "workspace_id", "site_id", "id"),
        Index("ix_evidence_items_workspace_tenant", "workspace_id", "tenant_id", "id"),
    )

    @property
    def method_label(self) -> str:
        return METHOD_LABELS[Method(self.method)]

    @property
    def where(self) -> str:
        return self.site.name if self.site is not None else self.inspected_body


class EvidenceCriterion(Base):
    """A link from an item to a criterion of the inspection framework (for the EEN)."""

    __tablename__ = "evidence_criteria"
    __workspace_scoped__ = True
    __visibility_column__ = "visibility"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_items.id", ondelete="CASCADE"))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    visibility: Mapped[str] = mapped_column(String(20))
    criterion: Mapped[str] = mapped_column(String(300))

    __table_args__ = (
        Index("ix_evidence_criteria_lookup", "workspace_id", "criterion", "item_id"),
        Index("ix_evidence_criteria_item_id", "item_id"),
    )


class EvidenceFile(Base):
    """One file of an item: an upload in progress, in quarantine, scanned clean or rejected."""

    __tablename__ = "evidence_files"
    __workspace_scoped__ = True
    __visibility_column__ = "visibility"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_items.id"))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    visibility: Mapped[str] = mapped_column(String(20))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255))
    #: What the uploader declared; the scan job checks the content against both.
    declared_size: Mapped[int] = mapped_column(BigInteger)
    declared_sha256: Mapped[str] = mapped_column(String(64), default="")
    declared_type: Mapped[str] = mapped_column(String(255), default="")
    #: What the scan found.
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(255), default="")
    state: Mapped[str] = mapped_column(String(20), default=FileState.UPLOADING.value)
    #: Why a file was rejected, in words for the uploader.
    reason: Mapped[str] = mapped_column(Text, default="")
    #: Multipart upload id while browsers upload; empty for streamed uploads.
    upload_id: Mapped[str] = mapped_column(String(1024), default="")
    part_size: Mapped[int] = mapped_column(BigInteger, default=0)
    #: An earlier clean file of the workspace with the same content (warned, linked).
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_files.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    scanned_at: Mapped[datetime | None]

    item: Mapped[EvidenceItem] = relationship(back_populates="files")
    uploaded_by: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint(_in("state", [s.value for s in FileState]), name="known_state"),
        Index("ix_evidence_files_item_id", "item_id"),
        Index("ix_evidence_files_workspace_sha256", "workspace_id", "sha256"),
        Index("ix_evidence_files_state", "state", "created_at"),
    )

    @property
    def quarantine_key(self) -> str:
        return f"quarantine/{self.tenant_id}/{self.workspace_id}/{self.id}"

    @property
    def evidence_key(self) -> str:
        return f"evidence/{self.tenant_id}/{self.workspace_id}/{self.item_id}/{self.id}"


class EvidenceExport(Base):
    """A zip of the evidence an inspectorate can see in a workspace, built by a job."""

    __tablename__ = "evidence_exports"
    __workspace_scoped__ = True
    __participant_private__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(20), default="queued")
    total_files: Mapped[int] = mapped_column(Integer, default=0)
    done_files: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("state IN ('queued', 'building', 'ready', 'failed')", name="known_state"),
    )

    @property
    def key(self) -> str:
        return f"exports/{self.tenant_id}/{self.workspace_id}/{self.id}.zip"

    @property
    def percent(self) -> int:
        if self.state == "ready":
            return 100
        return int(100 * self.done_files / self.total_files) if self.total_files else 0
