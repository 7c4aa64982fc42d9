"""live co-editing: CRDT updates per document section, compacted into versions

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 05:30:00
"""

import sqlalchemy as sa
from alembic import op

from app import rls

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: Seen by every participating inspectorate, like the document versions they feed.
SHARED = ["live_document_sections", "live_document_updates"]


def upgrade() -> None:
    op.create_table(
        "live_document_sections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("section_key", sa.String(length=64), nullable=False),
        sa.Column("synced_number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("compacted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_live_document_sections_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_live_document_sections_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_document_sections")),
        sa.UniqueConstraint(
            "document_id",
            "section_key",
            name=op.f("uq_live_document_sections_document_id_section_key"),
        ),
    )
    op.create_index(
        op.f("ix_live_document_sections_workspace_id"),
        "live_document_sections",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "live_document_updates",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("live_section_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("compacted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["live_section_id"],
            ["live_document_sections.id"],
            name=op.f("fk_live_document_updates_live_section_id_live_document_sections"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_live_document_updates_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_live_document_updates_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_live_document_updates_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_document_updates")),
    )
    op.create_index(
        "ix_live_document_updates_section",
        "live_document_updates",
        ["live_section_id", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_live_document_updates_workspace_id"),
        "live_document_updates",
        ["workspace_id"],
        unique=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in SHARED:
            for statement in rls.workspace_isolation(table):
                op.execute(statement)


def downgrade() -> None:
    op.drop_index(op.f("ix_live_document_updates_workspace_id"), table_name="live_document_updates")
    op.drop_index("ix_live_document_updates_section", table_name="live_document_updates")
    op.drop_table("live_document_updates")
    op.drop_index(
        op.f("ix_live_document_sections_workspace_id"), table_name="live_document_sections"
    )
    op.drop_table("live_document_sections")
