"""evidence items, their files, uploads in progress; row-level security

Items, their criteria links and files are seen by the workspace's participating
inspectorates when shared with the whole workspace, else by the owning inspectorate only;
zip exports by the inspectorate that asked for them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 05:00:00
"""

import sqlalchemy as sa
from alembic import op

from app import rls

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

VISIBLE_BY_CHOICE = ["evidence_items", "evidence_criteria", "evidence_files"]


def _visibility_isolation(table: str) -> list[str]:
    """Participants see shared rows; rows kept to one inspectorate are its own; only the
    owning inspectorate writes."""
    mine = "workspace_id IN (SELECT app_my_workspaces())"
    visible = f"{mine} AND (visibility = 'workspace' OR tenant_id = app_current_tenant())"
    owned = f"{mine} AND tenant_id = app_current_tenant()"
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY workspace_isolation ON {table} USING ({visible}) WITH CHECK ({owned})",
    ]


def upgrade() -> None:
    op.create_table(
        "evidence_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("total_files", sa.Integer(), nullable=False),
        sa.Column("done_files", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'building', 'ready', 'failed')",
            name=op.f("ck_evidence_exports_known_state"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_evidence_exports_requested_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_evidence_exports_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_evidence_exports_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_exports")),
    )
    op.create_index(
        op.f("ix_evidence_exports_workspace_id"), "evidence_exports", ["workspace_id"], unique=False
    )
    op.create_table(
        "evidence_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("inspected_body", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("collected_by_id", sa.Integer(), nullable=False),
        sa.Column("protective_marking", sa.String(length=30), nullable=False),
        sa.Column("visibility", sa.String(length=20), nullable=False),
        sa.Column("retention_class", sa.String(length=40), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "method IN ('file_examination', 'document_review', 'data', 'reality_check', 'interview', 'focus_group', 'survey', 'request_for_information', 'call_for_evidence', 'external_reference_group', 'user_voice', 'commissioned_research', 'observation')",
            name=op.f("ck_evidence_items_known_method"),
        ),
        sa.CheckConstraint(
            "protective_marking IN ('OFFICIAL', 'OFFICIAL-SENSITIVE')",
            name=op.f("ck_evidence_items_known_marking"),
        ),
        sa.CheckConstraint(
            "retention_class IN ('standard', 'data', 'sensitive', 'published-report')",
            name=op.f("ck_evidence_items_known_retention_class"),
        ),
        sa.CheckConstraint(
            "visibility IN ('workspace', 'inspectorate')",
            name=op.f("ck_evidence_items_known_visibility"),
        ),
        sa.ForeignKeyConstraint(
            ["collected_by_id"], ["users.id"], name=op.f("fk_evidence_items_collected_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["workspace_sites.id"],
            name=op.f("fk_evidence_items_site_id_workspace_sites"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_evidence_items_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_evidence_items_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_items")),
    )
    op.create_index(
        "ix_evidence_items_workspace", "evidence_items", ["workspace_id", "id"], unique=False
    )
    op.create_index(
        "ix_evidence_items_workspace_method",
        "evidence_items",
        ["workspace_id", "method", "id"],
        unique=False,
    )
    op.create_index(
        "ix_evidence_items_workspace_site",
        "evidence_items",
        ["workspace_id", "site_id", "id"],
        unique=False,
    )
    op.create_index(
        "ix_evidence_items_workspace_tenant",
        "evidence_items",
        ["workspace_id", "tenant_id", "id"],
        unique=False,
    )
    op.create_table(
        "evidence_criteria",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("visibility", sa.String(length=20), nullable=False),
        sa.Column("criterion", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["evidence_items.id"],
            name=op.f("fk_evidence_criteria_item_id_evidence_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_evidence_criteria_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_evidence_criteria_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_criteria")),
    )
    op.create_index("ix_evidence_criteria_item_id", "evidence_criteria", ["item_id"], unique=False)
    op.create_index(
        "ix_evidence_criteria_lookup",
        "evidence_criteria",
        ["workspace_id", "criterion", "item_id"],
        unique=False,
    )
    op.create_table(
        "evidence_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("visibility", sa.String(length=20), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("declared_size", sa.BigInteger(), nullable=False),
        sa.Column("declared_sha256", sa.String(length=64), nullable=False),
        sa.Column("declared_type", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("upload_id", sa.String(length=1024), nullable=False),
        sa.Column("part_size", sa.BigInteger(), nullable=False),
        sa.Column("duplicate_of_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('uploading', 'uploaded', 'clean', 'rejected')",
            name=op.f("ck_evidence_files_known_state"),
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"],
            ["evidence_files.id"],
            name=op.f("fk_evidence_files_duplicate_of_id_evidence_files"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["evidence_items.id"],
            name=op.f("fk_evidence_files_item_id_evidence_items"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_evidence_files_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_evidence_files_uploaded_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_evidence_files_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_files")),
    )
    op.create_index("ix_evidence_files_item_id", "evidence_files", ["item_id"], unique=False)
    op.create_index(
        "ix_evidence_files_state", "evidence_files", ["state", "created_at"], unique=False
    )
    op.create_index(
        "ix_evidence_files_workspace_sha256",
        "evidence_files",
        ["workspace_id", "sha256"],
        unique=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in VISIBLE_BY_CHOICE:
            for statement in _visibility_isolation(table):
                op.execute(statement)
        for statement in rls.workspace_isolation("evidence_exports", private=True):
            op.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_evidence_files_workspace_sha256", table_name="evidence_files")
    op.drop_index("ix_evidence_files_state", table_name="evidence_files")
    op.drop_index("ix_evidence_files_item_id", table_name="evidence_files")
    op.drop_table("evidence_files")
    op.drop_index("ix_evidence_criteria_lookup", table_name="evidence_criteria")
    op.drop_index("ix_evidence_criteria_item_id", table_name="evidence_criteria")
    op.drop_table("evidence_criteria")
    op.drop_index("ix_evidence_items_workspace_tenant", table_name="evidence_items")
    op.drop_index("ix_evidence_items_workspace_site", table_name="evidence_items")
    op.drop_index("ix_evidence_items_workspace_method", table_name="evidence_items")
    op.drop_index("ix_evidence_items_workspace", table_name="evidence_items")
    op.drop_table("evidence_items")
    op.drop_index(op.f("ix_evidence_exports_workspace_id"), table_name="evidence_exports")
    op.drop_table("evidence_exports")
