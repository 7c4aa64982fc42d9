"""commissioning letters, draft circulations, media strategies, scheduled sends, the
recommendations tracker; row-level security, and a public read of published trackers

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 05:30:00
"""

import sqlalchemy as sa
from alembic import op

from app import rls

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SHARED = [
    "letters",
    "circulations",
    "media_strategies",
    "scheduled_sends",
    "recommendations",
    "recommendation_responses",
]
#: Runs as the owner so the public policy can ask about a workspace it may not otherwise see.
PUBLISHED_FUNCTION = """
CREATE OR REPLACE FUNCTION app_is_published(ws integer) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (SELECT 1 FROM workspaces WHERE id = ws AND published_at IS NOT NULL)
$$
"""


def upgrade() -> None:
    op.create_table(
        "recommendations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("organisation", sa.String(length=300), nullable=False),
        sa.Column("responsible_tenant_id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("report_section", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('recommendation', 'concern', 'issue_to_address')",
            name=op.f("ck_recommendations_known_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["responsible_tenant_id"],
            ["tenants.id"],
            name=op.f("fk_recommendations_responsible_tenant_id_tenants"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_recommendations_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendations")),
        sa.UniqueConstraint(
            "workspace_id", "number", name=op.f("uq_recommendations_workspace_id_number")
        ),
    )
    op.create_index(
        op.f("ix_recommendations_workspace_id"), "recommendations", ["workspace_id"], unique=False
    )
    op.create_table(
        "scheduled_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("sender_tenant_id", sa.Integer(), nullable=False),
        sa.Column("recipient_name", sa.String(length=300), nullable=False),
        sa.Column("recipient_email", sa.String(length=320), nullable=False),
        sa.Column("send_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('embargoed_copy', 'press_notice', 'publication', 'thank_you')",
            name=op.f("ck_scheduled_sends_known_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('scheduled', 'sent', 'failed')",
            name=op.f("ck_scheduled_sends_known_status"),
        ),
        sa.ForeignKeyConstraint(
            ["sender_tenant_id"],
            ["tenants.id"],
            name=op.f("fk_scheduled_sends_sender_tenant_id_tenants"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_scheduled_sends_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_sends")),
    )
    op.create_index(
        op.f("ix_scheduled_sends_workspace_id"), "scheduled_sends", ["workspace_id"], unique=False
    )
    op.create_table(
        "media_strategies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("launch", sa.String(length=20), nullable=False),
        sa.Column("key_messages", sa.Text(), nullable=False),
        sa.Column("quoted_tenant_ids", sa.JSON(), nullable=False),
        sa.Column("interview_bids", sa.String(length=20), nullable=False),
        sa.Column("spokespeople", sa.Text(), nullable=False),
        sa.Column("briefings", sa.Text(), nullable=False),
        sa.Column("post_publication", sa.Text(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "interview_bids IN ('lead_only', 'spread')",
            name=op.f("ck_media_strategies_known_interview_bids"),
        ),
        sa.CheckConstraint(
            "launch IN ('soft', 'proactive')", name=op.f("ck_media_strategies_known_launch")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["decision_subjects.id"],
            name=op.f("fk_media_strategies_subject_id_decision_subjects"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_media_strategies_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_strategies")),
        sa.UniqueConstraint("workspace_id", name=op.f("uq_media_strategies_workspace_id")),
    )
    op.create_table(
        "recommendation_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("action_taken", sa.Text(), nullable=False),
        sa.Column("responded_on", sa.Date(), nullable=False),
        sa.Column("progress", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('accepted', 'partially_accepted', 'rejected', 'update')",
            name=op.f("ck_recommendation_responses_known_status"),
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_recommendation_responses_recommendation_id_recommendations"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_recommendation_responses_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_responses")),
    )
    op.create_index(
        op.f("ix_recommendation_responses_recommendation_id"),
        "recommendation_responses",
        ["recommendation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_recommendation_responses_workspace_id"),
        "recommendation_responses",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "circulations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=300), nullable=False),
        sa.Column("organisation", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("responded_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('critical_reader', 'inspected_body')", name=op.f("ck_circulations_known_kind")
        ),
        sa.CheckConstraint(
            "scope IN ('factual_accuracy', 'wider')", name=op.f("ck_circulations_known_scope")
        ),
        sa.CheckConstraint(
            "working_days BETWEEN 1 AND 60", name=op.f("ck_circulations_working_days_range")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_circulations_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_circulations_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circulations")),
    )
    op.create_index(
        op.f("ix_circulations_workspace_id"), "circulations", ["workspace_id"], unique=False
    )
    op.create_table(
        "letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("addressee_name", sa.String(length=200), nullable=False),
        sa.Column("addressee_role", sa.String(length=200), nullable=False),
        sa.Column("addressee_email", sa.String(length=320), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("dated_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'sending', 'sent', 'failed')", name=op.f("ck_letters_known_status")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_letters_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["workspace_sites.id"], name=op.f("fk_letters_site_id_workspace_sites")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_letters_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letters")),
    )
    op.create_index(op.f("ix_letters_workspace_id"), "letters", ["workspace_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for table in SHARED:
            for statement in rls.workspace_isolation(table):
                op.execute(statement)
        op.execute(PUBLISHED_FUNCTION)
        # Anyone may read the tracker of a published inspection, through that purpose only.
        op.execute(
            "CREATE POLICY public_tracker ON workspaces FOR SELECT USING ("
            "current_setting('app.purpose', true) = 'public-tracker' AND published_at IS NOT NULL)"
        )
        for table in ("recommendations", "recommendation_responses"):
            op.execute(
                f"CREATE POLICY public_tracker ON {table} FOR SELECT USING ("
                "current_setting('app.purpose', true) = 'public-tracker' "
                "AND app_is_published(workspace_id))"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY IF EXISTS public_tracker ON workspaces")
    op.drop_index(op.f("ix_letters_workspace_id"), table_name="letters")
    op.drop_table("letters")
    op.drop_index(op.f("ix_circulations_workspace_id"), table_name="circulations")
    op.drop_table("circulations")
    op.drop_index(
        op.f("ix_recommendation_responses_workspace_id"), table_name="recommendation_responses"
    )
    op.drop_index(
        op.f("ix_recommendation_responses_recommendation_id"), table_name="recommendation_responses"
    )
    op.drop_table("recommendation_responses")
    op.drop_table("media_strategies")
    op.drop_index(op.f("ix_scheduled_sends_workspace_id"), table_name="scheduled_sends")
    op.drop_table("scheduled_sends")
    op.drop_index(op.f("ix_recommendations_workspace_id"), table_name="recommendations")
    op.drop_table("recommendations")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS app_is_published(integer)")
