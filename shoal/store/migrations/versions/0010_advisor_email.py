"""The quota advisor's weekly email: the weeks it went out per project, and who opted out
(docs/stats.md).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "advisor_email_week",
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("week_start", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_advisor_email_week_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "week_start", name=op.f("pk_advisor_email_week")),
    )
    op.create_table(
        "advisor_email_opt_out",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("project_id", _ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_advisor_email_opt_out_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_advisor_email_opt_out_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "project_id", name=op.f("pk_advisor_email_opt_out")),
    )


def downgrade() -> None:
    op.drop_table("advisor_email_opt_out")
    op.drop_table("advisor_email_week")
