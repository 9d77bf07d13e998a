"""Attachments and user feedback: the files SDKs attach to events, and what users wrote about an
error (docs/attachments.md, docs/feedback.md).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "event_attachment",
        sa.Column("id", _ID, nullable=False),
        sa.Column("event_row_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("attachment_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha1", sa.String(length=40), nullable=False),
        sa.Column("received", sa.Float(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_row_id"],
            ["event.id"],
            name=op.f("fk_event_attachment_event_row_id_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_attachment")),
        sa.UniqueConstraint(
            "event_row_id", "name", "sha1", name=op.f("uq_event_attachment_event_row_id_name_sha1")
        ),
    )
    op.create_table(
        "user_feedback",
        sa.Column("id", _ID, nullable=False),
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("feedback_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=32), nullable=True),
        sa.Column("issue_id", _ID, nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("received", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_user_feedback_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["issue.id"], name=op.f("fk_user_feedback_issue_id_issue"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_feedback")),
        sa.UniqueConstraint(
            "project_id", "feedback_id", name=op.f("uq_user_feedback_project_id_feedback_id")
        ),
    )
    op.create_index(op.f("ix_user_feedback_project_id_received"), "user_feedback", ["project_id", "received"])
    op.create_index(op.f("ix_user_feedback_project_id_event_id"), "user_feedback", ["project_id", "event_id"])
    op.create_index(op.f("ix_user_feedback_issue_id"), "user_feedback", ["issue_id"])


def downgrade() -> None:
    op.drop_table("user_feedback")
    op.drop_table("event_attachment")
