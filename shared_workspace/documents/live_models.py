"""Live co-editing state kept in the database: each section's CRDT updates as they arrive, and
which version the live text was last compacted into.

Updates are stored before anyone else sees them, so a web process can die at any moment and the
next one to open the section rebuilds the same text from these rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class LiveSection(Base):
    """One section of a document being (or once) edited live: the Yjs document's anchor."""

    __tablename__ = "live_document_sections"
    __workspace_scoped__ = True
    __audit_skip__ = True  # bookkeeping; what it leads to (a new version) is audited

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    section_key: Mapped[str] = mapped_column(String(64))
    #: The version whose body of this section the live text was last made equal to (seeded from
    #: or compacted into): the base of the three-way merge when it is compacted again.
    synced_number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    compacted_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("document_id", "section_key"),)


class LiveUpdate(Base):
    """One Yjs update (binary, as the editor sent it) for a live section.

    ``compacted`` rows are already part of a stored version; the rest are the live edits since.
    """

    __tablename__ = "live_document_updates"
    __workspace_scoped__ = True
    __audit_skip__ = True  # keystrokes; the version each batch is compacted into is audited

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    live_section_id: Mapped[int] = mapped_column(ForeignKey("live_document_sections.id"))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    #: Who sent it; empty for the server's own updates (the seed, squashed history, merges).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    compacted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_live_document_updates_section", "live_section_id", "id"),)
