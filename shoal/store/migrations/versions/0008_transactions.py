"""Transactions: one compact row per sampled transaction, for the Performance pages
(docs/performance.md); and each error event's trace id, so a trace page lists its errors.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "transaction_event",
        sa.Column("id", _ID, nullable=False),
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.Column("span_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("url_path", sa.String(length=200), nullable=True),
        sa.Column("op", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("start_timestamp", sa.Float(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("received", sa.Float(), nullable=False),
        sa.Column("release", sa.String(length=200), nullable=True),
        sa.Column("environment", sa.String(length=64), nullable=True),
        sa.Column("span_count", sa.Integer(), nullable=False),
        sa.Column("span_ops", sa.Text(), nullable=False),
        sa.Column("spans", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_transaction_event_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transaction_event")),
        sa.UniqueConstraint("project_id", "event_id", name=op.f("uq_transaction_event_project_id_event_id")),
    )
    op.create_index(
        op.f("ix_transaction_event_project_id_start_timestamp"),
        "transaction_event",
        ["project_id", "start_timestamp"],
    )
    op.create_index(
        op.f("ix_transaction_event_project_id_name_start_timestamp"),
        "transaction_event",
        ["project_id", "name", "start_timestamp"],
    )
    op.create_index(
        op.f("ix_transaction_event_project_id_trace_id"), "transaction_event", ["project_id", "trace_id"]
    )
    # Batch mode, as in the other migrations: SQLite recreates the table where ALTER cannot (drop_column).
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trace_id", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_event_project_id_trace_id"), ["project_id", "trace_id"])


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_project_id_trace_id"))
        batch_op.drop_column("trace_id")
    op.drop_table("transaction_event")
