"""Noise and budget: per-project inbound filter and scrubbing settings, retention and spike
protection; quotas; tombstoned hashes; outcomes counted per DSN key too.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("project") as batch:
        batch.add_column(sa.Column("filters", sa.Text(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("scrubbing", sa.Text(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("retention_days", sa.Integer(), nullable=False, server_default="30"))
        batch.add_column(
            sa.Column("spike_protection", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("issue_hash") as batch:
        batch.add_column(sa.Column("tombstone", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "quota",
        sa.Column("id", _ID, nullable=False),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("project_id", _ID, nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("window", sa.String(length=10), nullable=False),
        sa.Column("limit", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_quota_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_quota_project_id_project"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quota")),
        sa.UniqueConstraint(
            "organization_id",
            "project_id",
            "category",
            "window",
            name=op.f("uq_quota_organization_id_project_id_category_window"),
        ),
    )
    _rebuild_outcome_counter(with_key=True)


def _rebuild_outcome_counter(*, with_key: bool) -> None:
    """The key joins the primary key; a copy, as SQLite cannot change a primary key in place.
    Counts made before it had no key: 0. Going back, the keys' counts are summed."""
    op.execute(
        "CREATE TABLE outcome_counter_copy AS SELECT project_id, hour, category, outcome, reason, "
        "SUM(quantity) AS quantity FROM outcome_counter GROUP BY project_id, hour, category, outcome, reason"
    )
    op.drop_table("outcome_counter")
    key = ["key_id"] if with_key else []
    op.create_table(
        "outcome_counter",
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        *([sa.Column("key_id", sa.BigInteger(), nullable=False, server_default="0")] if with_key else []),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_outcome_counter_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "project_id", "hour", "category", "outcome", "reason", *key, name=op.f("pk_outcome_counter")
        ),
    )
    op.execute(
        "INSERT INTO outcome_counter (project_id, hour, category, outcome, reason, quantity) "
        "SELECT project_id, hour, category, outcome, reason, quantity FROM outcome_counter_copy"
    )
    op.drop_table("outcome_counter_copy")


def downgrade() -> None:
    _rebuild_outcome_counter(with_key=False)
    op.drop_table("quota")
    with op.batch_alter_table("issue_hash") as batch:
        batch.drop_column("tombstone")
    with op.batch_alter_table("project") as batch:
        batch.drop_column("spike_protection")
        batch.drop_column("retention_days")
        batch.drop_column("scrubbing")
        batch.drop_column("filters")
