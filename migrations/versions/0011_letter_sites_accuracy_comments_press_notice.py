"""a commissioning letter belongs to one inspected site, one per site and addressee; each
comment on a circulated draft with the team's response; the media strategy's press notice
document; row-level security on the new table

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 22:00:00
"""

import sqlalchemy as sa
from alembic import op

from app import rls

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

#: Letters drafted before a site was required take the site whose fieldwork starts first:
#: the strictest date the six-week rule (§16) could have been checked against.
ASSIGN_EARLIEST_SITE = """
UPDATE letters SET site_id = (
    SELECT s.id FROM workspace_sites s WHERE s.workspace_id = letters.workspace_id
    ORDER BY s.fieldwork_starts_on IS NULL, s.fieldwork_starts_on, s.id LIMIT 1
) WHERE site_id IS NULL
"""


def upgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.text(ASSIGN_EARLIEST_SITE))
    orphans = bind.execute(sa.text("SELECT id FROM letters WHERE site_id IS NULL")).all()
    if orphans:
        ids = ", ".join(str(row[0]) for row in orphans)
        raise RuntimeError(
            f"Letters {ids} have no site and their inspections have no sites: add a site to "
            "each of those inspections, then run the upgrade again"
        )
    twins = bind.execute(
        sa.text(
            "SELECT site_id, addressee_name FROM letters GROUP BY site_id, addressee_name"
            " HAVING count(*) > 1"
        )
    ).all()
    if twins:
        named = "; ".join(f"site {row[0]}: {row[1]}" for row in twins)
        raise RuntimeError(
            f"More than one letter to the same addressee at one site ({named}): rename or "
            "move the extra letters, then run the upgrade again"
        )
    with op.batch_alter_table("letters") as batch:
        batch.alter_column("site_id", existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint(
            op.f("uq_letters_site_id_addressee_name"), ["site_id", "addressee_name"]
        )
    with op.batch_alter_table("media_strategies") as batch:
        batch.add_column(sa.Column("press_notice_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_media_strategies_press_notice_id_documents"),
            "documents",
            ["press_notice_id"],
            ["id"],
        )
    op.create_table(
        "circulation_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("circulation_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("reference", sa.String(length=300), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("responded_by_id", sa.Integer(), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('accepted', 'partially_accepted', 'not_accepted')",
            name=op.f("ck_circulation_comments_known_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["circulation_id"],
            ["circulations.id"],
            name=op.f("fk_circulation_comments_circulation_id_circulations"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_circulation_comments_recorded_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["responded_by_id"],
            ["users.id"],
            name=op.f("fk_circulation_comments_responded_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_circulation_comments_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circulation_comments")),
    )
    op.create_index(
        op.f("ix_circulation_comments_circulation_id"),
        "circulation_comments",
        ["circulation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_circulation_comments_workspace_id"),
        "circulation_comments",
        ["workspace_id"],
        unique=False,
    )
    if bind.dialect.name == "postgresql":
        for statement in rls.workspace_isolation("circulation_comments"):
            op.execute(statement)


def downgrade() -> None:
    op.drop_index(op.f("ix_circulation_comments_workspace_id"), table_name="circulation_comments")
    op.drop_index(op.f("ix_circulation_comments_circulation_id"), table_name="circulation_comments")
    op.drop_table("circulation_comments")
    with op.batch_alter_table("media_strategies") as batch:
        batch.drop_constraint(
            op.f("fk_media_strategies_press_notice_id_documents"), type_="foreignkey"
        )
        batch.drop_column("press_notice_id")
    with op.batch_alter_table("letters") as batch:
        batch.drop_constraint(op.f("uq_letters_site_id_addressee_name"), type_="unique")
        batch.alter_column("site_id", existing_type=sa.Integer(), nullable=True)
