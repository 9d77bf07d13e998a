"""Per-project grouping rules: server-side fingerprint rules and stack-trace rules, as text.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("project") as batch:
        batch.add_column(sa.Column("fingerprint_rules", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("stacktrace_rules", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("project") as batch:
        batch.drop_column("stacktrace_rules")
        batch.drop_column("fingerprint_rules")
