"""Quota usage: what each key, project and organization was let through per window, counted by
the web processes for quotas, rate limits and spike protection; spike protection's settings.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "quota_usage",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("scope_id", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("window", sa.String(length=16), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "scope", "scope_id", "category", "window", "window_start", name=op.f("pk_quota_usage")
        ),
    )
    op.create_index(op.f("ix_quota_usage_window_start"), "quota_usage", ["window_start"])
    op.create_table(
        "spike_protection_setting",
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("floor", sa.BigInteger(), nullable=False),
        sa.Column("multiplier", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_spike_protection_setting_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_spike_protection_setting")),
    )


def downgrade() -> None:
    op.drop_table("spike_protection_setting")
    op.drop_index(op.f("ix_quota_usage_window_start"), table_name="quota_usage")
    op.drop_table("quota_usage")
