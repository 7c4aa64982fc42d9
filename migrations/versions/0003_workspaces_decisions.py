"""workspaces, participants, people, sites, checklists, decision subjects, decisions,
approvals, private notes; row-level security for participating tenants

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 02:33:26.718631
"""

import sqlalchemy as sa
from alembic import op

from app import rls

WORKSPACE_SCOPED = [
    "workspace_members",
    "workspace_sites",
    "checklist_items",
    "decision_subjects",
    "decisions",
    "approvals",
]


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("lead_tenant_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("publication_date", sa.Date(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("terms_published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_terms", sa.JSON(), nullable=True),
        sa.Column("emerging_findings_meeting_on", sa.Date(), nullable=True),
        sa.Column("joint_qa_concluded_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("stage BETWEEN 1 AND 8", name=op.f("ck_workspaces_stage_range")),
        sa.ForeignKeyConstraint(
            ["lead_tenant_id"], ["tenants.id"], name=op.f("fk_workspaces_lead_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspaces")),
    )
    op.create_table(
        "checklist_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'done', 'not_applicable')",
            name=op.f("ck_checklist_items_known_status"),
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_checklist_items_assignee_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_checklist_items_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_items")),
    )
    op.create_index(
        op.f("ix_checklist_items_workspace_id"), "checklist_items", ["workspace_id"], unique=False
    )
    op.create_table(
        "decision_subjects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_decision_subjects_updated_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_decision_subjects_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_subjects")),
    )
    op.create_index(
        op.f("ix_decision_subjects_workspace_id"),
        "decision_subjects",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "private_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_private_notes_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_private_notes_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_private_notes_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_private_notes")),
    )
    op.create_index(
        op.f("ix_private_notes_workspace_id"), "private_notes", ["workspace_id"], unique=False
    )
    op.create_table(
        "workspace_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.CheckConstraint(
            "role IN ('lead_inspector', 'senior_oversight', 'development_group_rep', 'chief_inspector', 'team_member', 'quality_assurer', 'communications_officer', 'records_manager')",
            name=op.f("ck_workspace_members_known_role"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_workspace_members_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_workspace_members_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_workspace_members_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_members")),
        sa.UniqueConstraint(
            "workspace_id",
            "user_id",
            "role",
            name=op.f("uq_workspace_members_workspace_id_user_id_role"),
        ),
    )
    op.create_index(
        op.f("ix_workspace_members_user_id"), "workspace_members", ["user_id"], unique=False
    )
    op.create_index(
        op.f("ix_workspace_members_workspace_id"),
        "workspace_members",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "workspace_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_workspace_participants_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_workspace_participants_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_participants")),
        sa.UniqueConstraint(
            "workspace_id",
            "tenant_id",
            name=op.f("uq_workspace_participants_workspace_id_tenant_id"),
        ),
    )
    op.create_index(
        op.f("ix_workspace_participants_tenant_id"),
        "workspace_participants",
        ["tenant_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_workspace_participants_workspace_id"),
        "workspace_participants",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "workspace_sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("body_type", sa.String(length=40), nullable=False),
        sa.Column("fieldwork_starts_on", sa.Date(), nullable=True),
        sa.Column("fieldwork_ends_on", sa.Date(), nullable=True),
        sa.Column("letters_sent_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_workspace_sites_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_sites")),
    )
    op.create_index(
        op.f("ix_workspace_sites_workspace_id"), "workspace_sites", ["workspace_id"], unique=False
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("subject_version", sa.Integer(), nullable=False),
        sa.Column("subject_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("proposed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agreed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'agreed', 'rejected', 'superseded')",
            name=op.f("ck_decisions_known_status"),
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"], ["users.id"], name=op.f("fk_decisions_proposed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["decision_subjects.id"],
            name=op.f("fk_decisions_subject_id_decision_subjects"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_decisions_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    op.create_index(op.f("ix_decisions_workspace_id"), "decisions", ["workspace_id"], unique=False)
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("subject_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "verdict IN ('approved', 'rejected')", name=op.f("ck_approvals_known_verdict")
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_approvals_decision_id_decisions")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_approvals_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_approvals_user_id_users")),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_approvals_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
    )
    op.create_index(op.f("ix_approvals_decision_id"), "approvals", ["decision_id"], unique=False)
    op.create_index(op.f("ix_approvals_workspace_id"), "approvals", ["workspace_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        _row_level_security()


def _row_level_security() -> None:
    op.execute(rls.OWNER_BYPASSES_RLS_CHECK)
    op.execute(rls.MY_WORKSPACES_FUNCTION)
    op.execute(rls.LEADS_FUNCTION)
    # A new workspace is inserted by its lead before any participant row exists.
    op.execute("ALTER TABLE workspaces ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE workspaces FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY workspace_isolation ON workspaces "
        "USING (id IN (SELECT app_my_workspaces()) OR lead_tenant_id = app_current_tenant()) "
        "WITH CHECK (id IN (SELECT app_my_workspaces()) OR lead_tenant_id = app_current_tenant())"
    )
    # Anyone may read a workspace whose terms of reference are published (001 §9), through
    # the public page's narrow purpose only.
    op.execute(
        "CREATE POLICY public_terms ON workspaces FOR SELECT USING ("
        "current_setting('app.purpose', true) = 'public-terms' AND terms_published_at IS NOT NULL)"
    )
    # Participants: seen by fellow participants; added (or removed) by the lead only.
    op.execute("ALTER TABLE workspace_participants ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE workspace_participants FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY workspace_isolation ON workspace_participants "
        "USING (workspace_id IN (SELECT app_my_workspaces()) OR app_leads(workspace_id)) "
        "WITH CHECK (app_leads(workspace_id))"
    )
    for table in WORKSPACE_SCOPED:
        for statement in rls.workspace_isolation(table):
            op.execute(statement)
    for statement in rls.workspace_isolation("private_notes", private=True):
        op.execute(statement)
    # People named in a shared workspace are seen (name, job title) by fellow participants.
    op.execute(
        "CREATE POLICY fellow_members ON users FOR SELECT USING (id IN ("
        "SELECT user_id FROM workspace_members WHERE workspace_id IN (SELECT app_my_workspaces())))"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY IF EXISTS fellow_members ON users")
    op.drop_index(op.f("ix_approvals_workspace_id"), table_name="approvals")
    op.drop_index(op.f("ix_approvals_decision_id"), table_name="approvals")
    op.drop_table("approvals")
    op.drop_index(op.f("ix_decisions_workspace_id"), table_name="decisions")
    op.drop_table("decisions")
    op.drop_index(op.f("ix_workspace_sites_workspace_id"), table_name="workspace_sites")
    op.drop_table("workspace_sites")
    op.drop_index(
        op.f("ix_workspace_participants_workspace_id"), table_name="workspace_participants"
    )
    op.drop_index(op.f("ix_workspace_participants_tenant_id"), table_name="workspace_participants")
    op.drop_table("workspace_participants")
    op.drop_index(op.f("ix_workspace_members_workspace_id"), table_name="workspace_members")
    op.drop_index(op.f("ix_workspace_members_user_id"), table_name="workspace_members")
    op.drop_table("workspace_members")
    op.drop_index(op.f("ix_private_notes_workspace_id"), table_name="private_notes")
    op.drop_table("private_notes")
    op.drop_index(op.f("ix_decision_subjects_workspace_id"), table_name="decision_subjects")
    op.drop_table("decision_subjects")
    op.drop_index(op.f("ix_checklist_items_workspace_id"), table_name="checklist_items")
    op.drop_table("checklist_items")
    op.drop_table("workspaces")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS app_leads(integer)")
        op.execute("DROP FUNCTION IF EXISTS app_my_workspaces()")
