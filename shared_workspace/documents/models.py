"""Documents co-edited in a workspace: versions, section owners, saves waiting for their
writer to resolve a conflict, comments, suggested edits, red lines, presence, exports.

A version stores its sections as JSON (``[{key, title, body}]``): a 100-page report is a few
hundred kilobytes, one row per save, read and written whole.
"""

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
from tenants.models import Tenant, User

DOCUMENT_KINDS = {
    "terms_of_reference": "Terms of reference",
    "methodology": "Methodology",
    "een": "Evidence and evaluation note",
    "emerging_findings": "Emerging findings",
    "report": "Report",
    "media_strategy": "Media strategy",
    "press_notice": "Press notice",
    "letter": "Letter",
}
MARKINGS = ("OFFICIAL", "OFFICIAL-SENSITIVE")


class Document(Base):
    """A document of a joint inspection; ``head_number`` is its latest version."""

    __tablename__ = "documents"
    __workspace_scoped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    #: Protective marking printed in every export's header and footer.
    marking: Mapped[str] = mapped_column(String(30), default="OFFICIAL")
    head_number: Mapped[int] = mapped_column(Integer, default=0)
    #: What decisions about this document bind to: its content hash follows every save.
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("decision_subjects.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set when retention destroyed the document: every version's text is purged.
    destroyed_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in DOCUMENT_KINDS) + ")", name="known_kind"
        ),
        CheckConstraint(
            "marking IN (" + ", ".join(f"'{m}'" for m in MARKINGS) + ")", name="known_marking"
        ),
    )

    @property
    def kind_label(self) -> str:
        return DOCUMENT_KINDS[self.kind]


class DocumentVersion(Base):
    """One save: every save is a version with its author, their tenant and the time."""

    __tablename__ = "document_versions"
    __workspace_scoped__ = True
    #: The audit log records the content hash, not a second copy of the whole text.
    __audit_redact__ = frozenset({"sections"})

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    #: The version the writer started from (a merge names the one it was merged onto too).
    base_number: Mapped[int] = mapped_column(Integer, default=0)
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    #: How the version came about: "", "merged with version 7", "restored version 3", ...
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship(lazy="joined")
    tenant: Mapped[Tenant] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("document_id", "number"),)


class SectionOwner(Base):
    """The inspectorate that drafts a section (001 §6); others may suggest edits to it."""

    __tablename__ = "document_section_owners"
    __workspace_scoped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    section_key: Mapped[str] = mapped_column(String(64))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))

    tenant: Mapped[Tenant] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("document_id", "section_key"),)


class PendingSave(Base):
    """A save whose edits overlapped someone else's: kept whole until its writer resolves it.

    Private to the writer's inspectorate (it is their unfinished text)."""

    __tablename__ = "document_pending_saves"
    __workspace_scoped__ = True
    __participant_private__ = True
    __audit_redact__ = frozenset({"sections", "conflicts"})

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    base_number: Mapped[int] = mapped_column(Integer)
    head_number: Mapped[int] = mapped_column(Integer)
    #: The writer's whole version as they sent it: never discarded.
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: Each conflicting section with the base, saved and pending texts side by side.
    conflicts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_number: Mapped[int | None] = mapped_column(Integer)
    #: When resolving it met yet another newer save: the pending save that carries it on.
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("document_pending_saves.id"))


class Comment(Base):
    """A comment thread anchored to a section and a quoted passage, or a reply in one.

    Factual-accuracy comments from critical readers and inspected bodies (001 §39) carry
    their source and the inspection team's response."""

    __tablename__ = "document_comments"
    __workspace_scoped__ = True
    #: Their text is the document's: retention destroys it with the document, so the audit
    #: log (which is never rewritten) records that it changed, not what it said.
    __audit_redact__ = frozenset({"quote", "body", "response"})

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    section_key: Mapped[str] = mapped_column(String(64))
    quote: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("document_comments.id"))
    kind: Mapped[str] = mapped_column(String(20), default="comment")
    #: Who raised a factual-accuracy comment, e.g. "Inspected body: HMP Manchester".
    source: Mapped[str] = mapped_column(String(300), default="")
    response: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    author: Mapped[User] = relationship(lazy="joined", foreign_keys=[author_id])

    __table_args__ = (
        CheckConstraint("kind IN ('comment', 'factual_accuracy')", name="known_kind"),
    )


class Suggestion(Base):
    """A suggested edit to a section: insert text after a quoted passage, delete a passage,
    or replace it. The section's owner accepts (a new version) or rejects it."""

    __tablename__ = "document_suggestions"
    __workspace_scoped__ = True
    __audit_redact__ = frozenset({"quote", "text", "reason"})

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    section_key: Mapped[str] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(10))
    quote: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    version_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="open")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    #: The version accepting it made.
    result_number: Mapped[int | None] = mapped_column(Integer)

    author: Mapped[User] = relationship(lazy="joined", foreign_keys=[author_id])

    __table_args__ = (
        CheckConstraint("operation IN ('insert', 'delete', 'replace')", name="known_operation"),
        CheckConstraint("status IN ('open', 'accepted', 'rejected')", name="known_status"),
    )


class RedLine(Base):
    """An inspectorate's drafting red line for the joint report (001 §5)."""

    __tablename__ = "red_lines"
    __workspace_scoped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]

    tenant: Mapped[Tenant] = relationship(lazy="joined")


class Presence(Base):
    """Who has which section of a document open (their page reports in every 20 s or so)."""

    __tablename__ = "document_presence"
    __workspace_scoped__ = True
    __audit_skip__ = True  # a heartbeat, not a change to anything

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    section_key: Mapped[str] = mapped_column(String(64), default="")
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("document_id", "user_id"),)


class DocumentExport(Base):
    """An export of one version to PDF or DOCX, built by a job; the page polls its progress."""

    __tablename__ = "document_exports"
    __workspace_scoped__ = True
    __participant_private__ = True
    __audit_skip__ = True  # requests and downloads are recorded explicitly

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    version_number: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    #: Percent done, for the progress bar.
    progress: Mapped[int] = mapped_column(Integer, default=0)
    storage_key: Mapped[str] = mapped_column(String(500), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    draft: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("format IN ('pdf', 'docx')", name="known_format"),
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="known_status"),
        Index("ix_document_exports_requested", "requested_by_id", "created_at"),
    )
