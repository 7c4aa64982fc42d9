"""documents, versions, section owners, pending saves, comments, suggested edits, red lines,
presence, exports; red-line confirmation on approvals; row-level security

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 05:00:00
"""

import sqlalchemy as sa
from alembic import op

from app import rls

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: Seen by every participating inspectorate.
SHARED = [
    "documents",
    "document_versions",
    "document_section_owners",
    "document_comments",
    "document_suggestions",
    "red_lines",
    "document_presence",
]
#: Seen by the owning inspectorate only: a writer's unresolved save, an export they asked for.
PRIVATE = ["document_pending_saves", "document_exports"]


def upgrade() -> None:
    op.create_table(
        "red_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_red_lines_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_red_lines_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_red_lines_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_red_lines")),
    )
    op.create_index(op.f("ix_red_lines_workspace_id"), "red_lines", ["workspace_id"], unique=False)
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("marking", sa.String(length=30), nullable=False),
        sa.Column("head_number", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('terms_of_reference', 'methodology', 'een', 'emerging_findings', 'report', 'media_strategy', 'press_notice', 'letter')",
            name=op.f("ck_documents_known_kind"),
        ),
        sa.CheckConstraint(
            "marking IN ('OFFICIAL', 'OFFICIAL-SENSITIVE')", name=op.f("ck_documents_known_marking")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_documents_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["decision_subjects.id"],
            name=op.f("fk_documents_subject_id_decision_subjects"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_documents_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index(op.f("ix_documents_workspace_id"), "documents", ["workspace_id"], unique=False)
    op.create_table(
        "document_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("section_key", sa.String(length=64), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('comment', 'factual_accuracy')", name=op.f("ck_document_comments_known_kind")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_document_comments_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_comments_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["document_comments.id"],
            name=op.f("fk_document_comments_parent_id_document_comments"),
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"], ["users.id"], name=op.f("fk_document_comments_resolved_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_document_comments_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_document_comments_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_comments")),
    )
    op.create_index(
        op.f("ix_document_comments_document_id"), "document_comments", ["document_id"], unique=False
    )
    op.create_index(
        op.f("ix_document_comments_workspace_id"),
        "document_comments",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "document_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=500), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("draft", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "format IN ('pdf', 'docx')", name=op.f("ck_document_exports_known_format")
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')",
            name=op.f("ck_document_exports_known_status"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_exports_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_document_exports_requested_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_document_exports_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_document_exports_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_exports")),
    )
    op.create_index(
        op.f("ix_document_exports_document_id"), "document_exports", ["document_id"], unique=False
    )
    op.create_index(
        "ix_document_exports_requested",
        "document_exports",
        ["requested_by_id", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_document_exports_workspace_id"), "document_exports", ["workspace_id"], unique=False
    )
    op.create_table(
        "document_pending_saves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("base_number", sa.Integer(), nullable=False),
        sa.Column("head_number", sa.Integer(), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("conflicts", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_number", sa.Integer(), nullable=True),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_document_pending_saves_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by_id"],
            ["document_pending_saves.id"],
            name=op.f("fk_document_pending_saves_superseded_by_id_document_pending_saves"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_pending_saves_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_document_pending_saves_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_document_pending_saves_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_pending_saves")),
    )
    op.create_index(
        op.f("ix_document_pending_saves_document_id"),
        "document_pending_saves",
        ["document_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_document_pending_saves_workspace_id"),
        "document_pending_saves",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "document_presence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("section_key", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_presence_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_document_presence_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_document_presence_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_document_presence_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_presence")),
        sa.UniqueConstraint(
            "document_id", "user_id", name=op.f("uq_document_presence_document_id_user_id")
        ),
    )
    op.create_index(
        op.f("ix_document_presence_workspace_id"),
        "document_presence",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "document_section_owners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("section_key", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_section_owners_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_document_section_owners_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_document_section_owners_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_section_owners")),
        sa.UniqueConstraint(
            "document_id",
            "section_key",
            name=op.f("uq_document_section_owners_document_id_section_key"),
        ),
    )
    op.create_index(
        op.f("ix_document_section_owners_workspace_id"),
        "document_section_owners",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "document_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("section_key", sa.String(length=64), nullable=False),
        sa.Column("operation", sa.String(length=10), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_number", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "operation IN ('insert', 'delete', 'replace')",
            name=op.f("ck_document_suggestions_known_operation"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'accepted', 'rejected')",
            name=op.f("ck_document_suggestions_known_status"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_document_suggestions_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_document_suggestions_decided_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_suggestions_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_document_suggestions_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_document_suggestions_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_suggestions")),
    )
    op.create_index(
        op.f("ix_document_suggestions_document_id"),
        "document_suggestions",
        ["document_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_document_suggestions_workspace_id"),
        "document_suggestions",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "document_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("base_number", sa.Integer(), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_document_versions_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_versions_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_document_versions_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_document_versions_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_versions")),
        sa.UniqueConstraint(
            "document_id", "number", name=op.f("uq_document_versions_document_id_number")
        ),
    )
    op.create_index(
        op.f("ix_document_versions_workspace_id"),
        "document_versions",
        ["workspace_id"],
        unique=False,
    )
    op.add_column(
        "approvals",
        sa.Column("red_lines_confirmed", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in SHARED:
            for statement in rls.workspace_isolation(table):
                op.execute(statement)
        for table in PRIVATE:
            for statement in rls.workspace_isolation(table, private=True):
                op.execute(statement)


def downgrade() -> None:
    op.drop_column("approvals", "red_lines_confirmed")
    op.drop_index(op.f("ix_document_versions_workspace_id"), table_name="document_versions")
    op.drop_table("document_versions")
    op.drop_index(op.f("ix_document_suggestions_workspace_id"), table_name="document_suggestions")
    op.drop_index(op.f("ix_document_suggestions_document_id"), table_name="document_suggestions")
    op.drop_table("document_suggestions")
    op.drop_index(
        op.f("ix_document_section_owners_workspace_id"), table_name="document_section_owners"
    )
    op.drop_table("document_section_owners")
    op.drop_index(op.f("ix_document_presence_workspace_id"), table_name="document_presence")
    op.drop_table("document_presence")
    op.drop_index(
        op.f("ix_document_pending_saves_workspace_id"), table_name="document_pending_saves"
    )
    op.drop_index(
        op.f("ix_document_pending_saves_document_id"), table_name="document_pending_saves"
    )
    op.drop_table("document_pending_saves")
    op.drop_index(op.f("ix_document_exports_workspace_id"), table_name="document_exports")
    op.drop_index("ix_document_exports_requested", table_name="document_exports")
    op.drop_index(op.f("ix_document_exports_document_id"), table_name="document_exports")
    op.drop_table("document_exports")
    op.drop_index(op.f("ix_document_comments_workspace_id"), table_name="document_comments")
    op.drop_index(op.f("ix_document_comments_document_id"), table_name="document_comments")
    op.drop_table("document_comments")
    op.drop_index(op.f("ix_documents_workspace_id"), table_name="documents")
    op.drop_table("documents")
    op.drop_index(op.f("ix_red_lines_workspace_id"), table_name="red_lines")
    op.drop_table("red_lines")
