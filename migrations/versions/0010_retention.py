"""retention: rules per tenant (versioned), schedules (one claim per inspectorate per item,
the tombstone once destroyed), holds, confirmed events, destruction certificates; workspace
closure; destroyed documents, notes and evidence files; row-level security

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 08:00:00
"""

import sqlalchemy as sa
from alembic import op

from app import rls

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

RETENTION_CLASSES = (
    "'standard', 'data', 'sensitive', 'published-report', 'notebook', 'paper', 'correspondence'"
)


def _visibility_isolation(table: str) -> list[str]:
    """Rows shared with the workspace, or kept to the inspectorate that owns them."""
    mine = "workspace_id IN (SELECT app_my_workspaces())"
    visible = f"{mine} AND (visibility = 'workspace' OR tenant_id = app_current_tenant())"
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY workspace_isolation ON {table} USING ({visible}) WITH CHECK ({visible})",
    ]


def upgrade() -> None:
    op.create_table(
        "retention_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("objects_deleted", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'complete')", name=op.f("ck_retention_certificates_known_state")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_retention_certificates_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_certificates")),
    )
    op.create_table(
        "retention_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("confirmed_on", sa.Date(), nullable=False),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"],
            ["users.id"],
            name=op.f("fk_retention_events_confirmed_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_retention_events_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_retention_events_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_events")),
        sa.UniqueConstraint(
            "workspace_id",
            "tenant_id",
            "name",
            name=op.f("uq_retention_events_workspace_id_tenant_id_name"),
        ),
    )
    op.create_table(
        "retention_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=True),
        sa.Column("material_type", sa.String(length=20), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=True),
        sa.Column("reason_kind", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("review_on", sa.Date(), nullable=False),
        sa.Column("placed_by_id", sa.Integer(), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by_id", sa.Integer(), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=False),
        sa.CheckConstraint("reason <> ''", name=op.f("ck_retention_holds_reason_given")),
        sa.CheckConstraint(
            "reason_kind IN ('legal', 'complaint', 'foi', 'follow_up', 'other')",
            name=op.f("ck_retention_holds_known_reason"),
        ),
        sa.CheckConstraint(
            "scope IN ('item', 'workspace', 'tenant')", name=op.f("ck_retention_holds_known_scope")
        ),
        sa.ForeignKeyConstraint(
            ["placed_by_id"], ["users.id"], name=op.f("fk_retention_holds_placed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["released_by_id"], ["users.id"], name=op.f("fk_retention_holds_released_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_retention_holds_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_retention_holds_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_holds")),
    )
    op.create_index(
        "ix_retention_holds_active", "retention_holds", ["tenant_id", "released_at"], unique=False
    )
    op.create_table(
        "retention_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("material_class", sa.String(length=60), nullable=False),
        sa.Column("sensitivity", sa.String(length=20), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("event_name", sa.String(length=60), nullable=False),
        sa.Column("offset_amount", sa.Integer(), nullable=False),
        sa.Column("offset_unit", sa.String(length=10), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "action IN ('destroy', 'review', 'retain', 'transfer')",
            name=op.f("ck_retention_rules_known_action"),
        ),
        sa.CheckConstraint("material_class <> ''", name=op.f("ck_retention_rules_class_named")),
        sa.CheckConstraint(
            "offset_unit IN ('days', 'months', 'years')", name=op.f("ck_retention_rules_known_unit")
        ),
        sa.CheckConstraint(
            "sensitivity IN ('any', 'standard', 'sensitive')",
            name=op.f("ck_retention_rules_known_sensitivity"),
        ),
        sa.CheckConstraint(
            "trigger IN ('publication', 'upload', 'closure', 'event')",
            name=op.f("ck_retention_rules_known_trigger"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_retention_rules_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_retention_rules_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_rules")),
        sa.UniqueConstraint(
            "tenant_id",
            "material_class",
            "sensitivity",
            "effective_from",
            name=op.f("uq_retention_rules_tenant_id_material_class_sensitivity_effective_from"),
        ),
    )
    op.create_table(
        "retention_schedules",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("visibility", sa.String(length=20), nullable=False),
        sa.Column("material_type", sa.String(length=20), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("owner_tenant_id", sa.Integer(), nullable=False),
        sa.Column("joint", sa.Boolean(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("object_key", sa.String(length=1024), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("material_class", sa.String(length=200), nullable=False),
        sa.Column("sensitivity", sa.String(length=20), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("trigger_on", sa.Date(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("disposal_on", sa.Date(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("override_on", sa.Date(), nullable=True),
        sa.Column("override_action", sa.String(length=20), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=True),
        sa.Column("destroy_object", sa.Boolean(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "material_type IN ('evidence_file', 'document', 'private_note')",
            name=op.f("ck_retention_schedules_known_type"),
        ),
        sa.CheckConstraint(
            "state IN ('waiting', 'scheduled', 'retained', 'review', 'transfer', 'destroying', 'released', 'destroyed', 'transferred', 'unruled')",
            name=op.f("ck_retention_schedules_known_state"),
        ),
        sa.CheckConstraint(
            "visibility IN ('workspace', 'inspectorate')",
            name=op.f("ck_retention_schedules_known_visibility"),
        ),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["retention_certificates.id"],
            name=op.f("fk_retention_schedules_certificate_id_retention_certificates"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_tenant_id"],
            ["tenants.id"],
            name=op.f("fk_retention_schedules_owner_tenant_id_tenants"),
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["retention_rules.id"],
            name=op.f("fk_retention_schedules_rule_id_retention_rules"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_retention_schedules_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_retention_schedules_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_schedules")),
        sa.UniqueConstraint(
            "tenant_id",
            "material_type",
            "material_id",
            name=op.f("uq_retention_schedules_tenant_id_material_type_material_id"),
        ),
    )
    op.create_index(
        "ix_retention_schedules_certificate",
        "retention_schedules",
        ["certificate_id"],
        unique=False,
    )
    op.create_index(
        "ix_retention_schedules_due",
        "retention_schedules",
        ["tenant_id", "state", "due_at"],
        unique=False,
    )
    op.create_index(
        "ix_retention_schedules_material",
        "retention_schedules",
        ["material_type", "material_id"],
        unique=False,
    )
    op.create_index(
        "ix_retention_schedules_workspace",
        "retention_schedules",
        ["workspace_id", "trigger", "rule_id"],
        unique=False,
    )
    op.add_column("documents", sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "private_notes", sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("workspaces", sa.Column("closed_on", sa.Date(), nullable=True))
    with op.batch_alter_table("evidence_files") as batch:
        batch.drop_constraint(op.f("ck_evidence_files_known_state"), type_="check")
        batch.create_check_constraint(
            "known_state", "state IN ('uploading', 'uploaded', 'clean', 'rejected', 'destroyed')"
        )
    with op.batch_alter_table("evidence_items") as batch:
        batch.drop_constraint(op.f("ck_evidence_items_known_retention_class"), type_="check")
        batch.create_check_constraint(
            "known_retention_class", "retention_class IN (" + RETENTION_CLASSES + ")"
        )
    if op.get_bind().dialect.name == "postgresql":
        for table in ("retention_rules", "retention_holds", "retention_certificates"):
            for statement in rls.tenant_isolation(table):
                op.execute(statement)
        op.execute(rls.purpose_read("retention_rules", "retention-rules"))
        for statement in rls.workspace_isolation("retention_events"):
            op.execute(statement)
        for statement in _visibility_isolation("retention_schedules"):
            op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table("evidence_items") as batch:
        batch.drop_constraint(op.f("ck_evidence_items_known_retention_class"), type_="check")
        batch.create_check_constraint(
            "known_retention_class",
            "retention_class IN ('standard', 'data', 'sensitive', 'published-report')",
        )
    with op.batch_alter_table("evidence_files") as batch:
        batch.drop_constraint(op.f("ck_evidence_files_known_state"), type_="check")
        batch.create_check_constraint(
            "known_state", "state IN ('uploading', 'uploaded', 'clean', 'rejected')"
        )
    op.drop_column("workspaces", "closed_on")
    op.drop_column("private_notes", "destroyed_at")
    op.drop_column("documents", "destroyed_at")
    op.drop_index("ix_retention_schedules_workspace", table_name="retention_schedules")
    op.drop_index("ix_retention_schedules_material", table_name="retention_schedules")
    op.drop_index("ix_retention_schedules_due", table_name="retention_schedules")
    op.drop_index("ix_retention_schedules_certificate", table_name="retention_schedules")
    op.drop_table("retention_schedules")
    op.drop_table("retention_rules")
    op.drop_index("ix_retention_holds_active", table_name="retention_holds")
    op.drop_table("retention_holds")
    op.drop_table("retention_events")
    op.drop_table("retention_certificates")
