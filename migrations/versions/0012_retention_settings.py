"""retention settings per tenant: how many days ahead records managers and lead inspectors
hear about destruction (HMCPSI, which destroys before publication, starts with 28)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 22:20:00
"""

import sqlalchemy as sa
from alembic import op

from app import rls

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retention_settings",
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("warning_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.CheckConstraint(
            "warning_days BETWEEN 1 AND 365", name=op.f("ck_retention_settings_warning_days")
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.tenant_isolation("retention_settings"):
            op.execute(statement)


def downgrade() -> None:
    op.drop_table("retention_settings")
