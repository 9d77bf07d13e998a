"""Accounts and access: teams that own projects, invitations, password resets, per-user
notification settings, saved searches, and per-key rate limits.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    parent = target.split(".", maxsplit=1)[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{parent}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "team",
        sa.Column("id", _ID, nullable=False),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("slug", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        _fk("team", "organization_id", "organization.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team")),
        sa.UniqueConstraint("organization_id", "slug", name=op.f("uq_team_organization_id_slug")),
    )
    op.create_table(
        "team_member",
        sa.Column("team_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        _fk("team_member", "team_id", "team.id", "CASCADE"),
        _fk("team_member", "user_id", "users.id", "CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_team_member")),
    )
    op.create_index(op.f("ix_team_member_user_id"), "team_member", ["user_id"], unique=False)
    op.create_table(
        "project_team",
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("team_id", _ID, nullable=False),
        _fk("project_team", "project_id", "project.id", "CASCADE"),
        _fk("project_team", "team_id", "team.id", "CASCADE"),
        sa.PrimaryKeyConstraint("project_id", "team_id", name=op.f("pk_project_team")),
    )
    op.create_index(op.f("ix_project_team_team_id"), "project_team", ["team_id"], unique=False)
    op.create_table(
        "invitation",
        sa.Column("id", _ID, nullable=False),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("team_id", _ID, nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by", _ID, nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("accepted_at", sa.Float(), nullable=True),
        _fk("invitation", "organization_id", "organization.id", "CASCADE"),
        _fk("invitation", "team_id", "team.id", "SET NULL"),
        _fk("invitation", "invited_by", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitation_token_hash")),
    )
    op.create_table(
        "password_reset",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("used_at", sa.Float(), nullable=True),
        _fk("password_reset", "user_id", "users.id", "CASCADE"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_password_reset")),
    )
    op.create_index(op.f("ix_password_reset_user_id"), "password_reset", ["user_id"], unique=False)
    op.create_table(
        "notification_setting",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        _fk("notification_setting", "user_id", "users.id", "CASCADE"),
        _fk("notification_setting", "project_id", "project.id", "CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "project_id", name=op.f("pk_notification_setting")),
    )
    op.create_table(
        "saved_search",
        sa.Column("id", _ID, nullable=False),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("sort", sa.String(length=20), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        _fk("saved_search", "organization_id", "organization.id", "CASCADE"),
        _fk("saved_search", "user_id", "users.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_search")),
    )
    with op.batch_alter_table("project_key") as batch:
        batch.add_column(sa.Column("rate_limit_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("rate_limit_window", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("project_key") as batch:
        batch.drop_column("rate_limit_window")
        batch.drop_column("rate_limit_count")
    op.drop_table("saved_search")
    op.drop_table("notification_setting")
    op.drop_index(op.f("ix_password_reset_user_id"), table_name="password_reset")
    op.drop_table("password_reset")
    op.drop_table("invitation")
    op.drop_index(op.f("ix_project_team_team_id"), table_name="project_team")
    op.drop_table("project_team")
    op.drop_index(op.f("ix_team_member_user_id"), table_name="team_member")
    op.drop_table("team_member")
    op.drop_table("team")
