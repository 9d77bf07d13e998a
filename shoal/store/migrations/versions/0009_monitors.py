"""Cron monitors and their check-ins (docs/crons.md).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "monitor",
        sa.Column("id", _ID, nullable=False),
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("slug", sa.String(length=50), nullable=False),
        sa.Column("schedule_type", sa.String(length=16), nullable=True),
        sa.Column("schedule", sa.String(length=100), nullable=True),
        sa.Column("interval_unit", sa.String(length=16), nullable=True),
        sa.Column("checkin_margin", sa.Integer(), nullable=False),
        sa.Column("max_runtime", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("failure_issue_threshold", sa.Integer(), nullable=False),
        sa.Column("recovery_threshold", sa.Integer(), nullable=False),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.Column("config_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_monitor_project_id_project"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor")),
        sa.UniqueConstraint("project_id", "slug", name=op.f("uq_monitor_project_id_slug")),
    )
    op.create_table(
        "monitor_environment",
        sa.Column("id", _ID, nullable=False),
        sa.Column("monitor_id", _ID, nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("consecutive_successes", sa.Integer(), nullable=False),
        sa.Column("last_checkin", sa.Float(), nullable=True),
        sa.Column("next_checkin", sa.Float(), nullable=True),
        sa.Column("next_checkin_latest", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["monitor_id"],
            ["monitor.id"],
            name=op.f("fk_monitor_environment_monitor_id_monitor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_environment")),
        sa.UniqueConstraint(
            "monitor_id", "environment", name=op.f("uq_monitor_environment_monitor_id_environment")
        ),
    )
    op.create_index(
        op.f("ix_monitor_environment_next_checkin_latest"), "monitor_environment", ["next_checkin_latest"]
    )
    op.create_table(
        "monitor_checkin",
        sa.Column("id", _ID, nullable=False),
        sa.Column("monitor_id", _ID, nullable=False),
        sa.Column("monitor_environment_id", _ID, nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("check_in_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("release", sa.String(length=200), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("expected_at", sa.Float(), nullable=True),
        sa.Column("timeout_at", sa.Float(), nullable=True),
        sa.Column("trace_id", sa.String(length=32), nullable=True),
        sa.Column("date_added", sa.Float(), nullable=False),
        sa.Column("date_updated", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["monitor_id"],
            ["monitor.id"],
            name=op.f("fk_monitor_checkin_monitor_id_monitor"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["monitor_environment_id"],
            ["monitor_environment.id"],
            name=op.f("fk_monitor_checkin_monitor_environment_id_monitor_environment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_checkin")),
        sa.UniqueConstraint(
            "monitor_id", "check_in_id", name=op.f("uq_monitor_checkin_monitor_id_check_in_id")
        ),
    )
    op.create_index(op.f("ix_monitor_checkin_timeout_at"), "monitor_checkin", ["timeout_at"])
    op.create_index(
        op.f("ix_monitor_checkin_monitor_id_date_added"), "monitor_checkin", ["monitor_id", "date_added"]
    )
    op.create_index(
        op.f("ix_monitor_checkin_project_id_date_added"), "monitor_checkin", ["project_id", "date_added"]
    )


def downgrade() -> None:
    op.drop_table("monitor_checkin")
    op.drop_table("monitor_environment")
    op.drop_table("monitor")
