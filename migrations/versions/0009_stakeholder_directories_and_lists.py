"""stakeholder directories (private to each tenant), imports, nominations, consolidated
distribution lists, review candidates and match decisions; row-level security

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 05:30:00
"""

import sqlalchemy as sa
from alembic import op

from app import rls

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TENANT_OWNED = ["stakeholder_entries", "stakeholder_imports"]
SHARED = [
    "stakeholder_nominations",
    "distribution_lists",
    "distribution_recipients",
    "stakeholder_match_candidates",
    "stakeholder_match_decisions",
]


def upgrade() -> None:
    op.create_table(
        "stakeholder_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=40), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=False),
        sa.Column("organisation", sa.String(length=300), nullable=False),
        sa.Column("emails", sa.JSON(), nullable=False),
        sa.Column("phones", sa.JSON(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("do_not_contact", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "category IN ('sponsoring_department', 'inspected_body', 'criminal_justice_partner', 'third_sector', 'parliamentary', 'media', 'academic', 'other')",
            name=op.f("ck_stakeholder_entries_known_category"),
        ),
        sa.CheckConstraint(
            "kind IN ('person', 'post', 'organisation')",
            name=op.f("ck_stakeholder_entries_known_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_stakeholder_entries_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stakeholder_entries")),
    )
    op.create_index(
        op.f("ix_stakeholder_entries_tenant_id"), "stakeholder_entries", ["tenant_id"], unique=False
    )
    op.create_table(
        "distribution_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=False),
        sa.Column("organisation", sa.String(length=300), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("sender_tenant_id", sa.Integer(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sender_tenant_id"],
            ["tenants.id"],
            name=op.f("fk_distribution_recipients_sender_tenant_id_tenants"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_distribution_recipients_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distribution_recipients")),
    )
    op.create_index(
        op.f("ix_distribution_recipients_workspace_id"),
        "distribution_recipients",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "stakeholder_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=500), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "status IN ('reading', 'previewed', 'committed', 'discarded', 'failed')",
            name=op.f("ck_stakeholder_imports_known_status"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_stakeholder_imports_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_stakeholder_imports_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stakeholder_imports")),
    )
    op.create_table(
        "stakeholder_nominations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=40), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=False),
        sa.Column("organisation", sa.String(length=300), nullable=False),
        sa.Column("emails", sa.JSON(), nullable=False),
        sa.Column("phones", sa.JSON(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "purpose IN ('engagement', 'publication', 'both')",
            name=op.f("ck_stakeholder_nominations_known_purpose"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_stakeholder_nominations_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_stakeholder_nominations_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stakeholder_nominations")),
        sa.UniqueConstraint(
            "workspace_id",
            "tenant_id",
            "entry_id",
            name=op.f("uq_stakeholder_nominations_workspace_id_tenant_id_entry_id"),
        ),
    )
    op.create_index(
        op.f("ix_stakeholder_nominations_workspace_id"),
        "stakeholder_nominations",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "distribution_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "mode IN ('lead_sends_all', 'each_sends_own')",
            name=op.f("ck_distribution_lists_known_mode"),
        ),
        sa.CheckConstraint(
            "status IN ('empty', 'queued', 'running', 'ready', 'failed')",
            name=op.f("ck_distribution_lists_known_status"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["decision_subjects.id"],
            name=op.f("fk_distribution_lists_subject_id_decision_subjects"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_distribution_lists_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distribution_lists")),
        sa.UniqueConstraint("workspace_id", name=op.f("uq_distribution_lists_workspace_id")),
    )
    op.create_table(
        "stakeholder_match_candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("left_id", sa.Integer(), nullable=False),
        sa.Column("right_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["left_id"],
            ["stakeholder_nominations.id"],
            name=op.f("fk_stakeholder_match_candidates_left_id_stakeholder_nominations"),
        ),
        sa.ForeignKeyConstraint(
            ["right_id"],
            ["stakeholder_nominations.id"],
            name=op.f("fk_stakeholder_match_candidates_right_id_stakeholder_nominations"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_stakeholder_match_candidates_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stakeholder_match_candidates")),
    )
    op.create_index(
        op.f("ix_stakeholder_match_candidates_workspace_id"),
        "stakeholder_match_candidates",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "stakeholder_match_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("left_id", sa.Integer(), nullable=False),
        sa.Column("right_id", sa.Integer(), nullable=False),
        sa.Column("same", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "left_id < right_id", name=op.f("ck_stakeholder_match_decisions_ordered_pair")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_stakeholder_match_decisions_decided_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["left_id"],
            ["stakeholder_nominations.id"],
            name=op.f("fk_stakeholder_match_decisions_left_id_stakeholder_nominations"),
        ),
        sa.ForeignKeyConstraint(
            ["right_id"],
            ["stakeholder_nominations.id"],
            name=op.f("fk_stakeholder_match_decisions_right_id_stakeholder_nominations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_stakeholder_match_decisions_tenant_id_tenants"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_stakeholder_match_decisions_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stakeholder_match_decisions")),
        sa.UniqueConstraint(
            "workspace_id",
            "left_id",
            "right_id",
            name=op.f("uq_stakeholder_match_decisions_workspace_id_left_id_right_id"),
        ),
    )
    op.create_index(
        "ix_stakeholder_match_decisions_pair",
        "stakeholder_match_decisions",
        ["left_id", "right_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_stakeholder_match_decisions_workspace_id"),
        "stakeholder_match_decisions",
        ["workspace_id"],
        unique=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in TENANT_OWNED:
            for statement in rls.tenant_isolation(table):
                op.execute(statement)
        for table in SHARED:
            for statement in rls.workspace_isolation(table):
                op.execute(statement)


def downgrade() -> None:
    op.drop_index(
        op.f("ix_stakeholder_match_decisions_workspace_id"),
        table_name="stakeholder_match_decisions",
    )
    op.drop_index("ix_stakeholder_match_decisions_pair", table_name="stakeholder_match_decisions")
    op.drop_table("stakeholder_match_decisions")
    op.drop_index(
        op.f("ix_stakeholder_match_candidates_workspace_id"),
        table_name="stakeholder_match_candidates",
    )
    op.drop_table("stakeholder_match_candidates")
    op.drop_table("distribution_lists")
    op.drop_index(
        op.f("ix_stakeholder_nominations_workspace_id"), table_name="stakeholder_nominations"
    )
    op.drop_table("stakeholder_nominations")
    op.drop_table("stakeholder_imports")
    op.drop_index(
        op.f("ix_distribution_recipients_workspace_id"), table_name="distribution_recipients"
    )
    op.drop_table("distribution_recipients")
    op.drop_index(op.f("ix_stakeholder_entries_tenant_id"), table_name="stakeholder_entries")
    op.drop_table("stakeholder_entries")
