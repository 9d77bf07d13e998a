"""Release health: sessions per release, environment and hour, their users, and what the digest
needs to count each session once (docs/release-health.md).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _project_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["project_id"], ["project.id"], name=op.f(f"fk_{table}_project_id_project"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "session_count_hour",
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("release", sa.String(length=200), nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("started", sa.Integer(), nullable=False),
        sa.Column("errored", sa.Integer(), nullable=False),
        sa.Column("crashed", sa.Integer(), nullable=False),
        sa.Column("abnormal", sa.Integer(), nullable=False),
        _project_fk("session_count_hour"),
        sa.PrimaryKeyConstraint(
            "project_id", "release", "environment", "hour", name=op.f("pk_session_count_hour")
        ),
    )
    op.create_index(
        op.f("ix_session_count_hour_project_id_environment_hour"),
        "session_count_hour",
        ["project_id", "environment", "hour"],
    )
    op.create_table(
        "session_user_hour",
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("release", sa.String(length=200), nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("user_hash", sa.String(length=32), nullable=False),
        sa.Column("health", sa.Integer(), nullable=False),
        _project_fk("session_user_hour"),
        sa.PrimaryKeyConstraint(
            "project_id", "release", "environment", "hour", "user_hash", name=op.f("pk_session_user_hour")
        ),
    )
    op.create_table(
        "session_state",
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("release", sa.String(length=200), nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("user_hash", sa.String(length=32), nullable=True),
        sa.Column("health", sa.Integer(), nullable=False),
        sa.Column("started", sa.Float(), nullable=False),
        _project_fk("session_state"),
        sa.PrimaryKeyConstraint("project_id", "sid", name=op.f("pk_session_state")),
    )
    op.create_index(op.f("ix_session_state_started"), "session_state", ["started"])
    op.create_table(
        "session_item_seen",
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("item_key", sa.String(length=32), nullable=False),
        sa.Column("received", sa.Float(), nullable=False),
        _project_fk("session_item_seen"),
        sa.PrimaryKeyConstraint("project_id", "item_key", name=op.f("pk_session_item_seen")),
    )
    op.create_index(op.f("ix_session_item_seen_received"), "session_item_seen", ["received"])


def downgrade() -> None:
    op.drop_table("session_item_seen")
    op.drop_table("session_state")
    op.drop_table("session_user_hour")
    op.drop_table("session_count_hour")
