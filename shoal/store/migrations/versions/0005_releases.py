"""Releases: their projects and per-environment event counts, repositories, commits with their
changed files, the commits and refs of a release, deploys.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    parent = target.split(".", maxsplit=1)[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{parent}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "release",
        sa.Column("id", _ID, nullable=False),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("version", sa.String(length=250), nullable=False),
        sa.Column("ref", sa.String(length=250), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("date_created", sa.Float(), nullable=False),
        sa.Column("date_started", sa.Float(), nullable=True),
        sa.Column("date_released", sa.Float(), nullable=True),
        _fk("release", "organization_id", "organization.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release")),
        sa.UniqueConstraint("organization_id", "version", name=op.f("uq_release_organization_id_version")),
    )
    op.create_table(
        "release_project",
        sa.Column("release_id", _ID, nullable=False),
        sa.Column("project_id", _ID, nullable=False),
        _fk("release_project", "release_id", "release.id"),
        _fk("release_project", "project_id", "project.id"),
        sa.PrimaryKeyConstraint("release_id", "project_id", name=op.f("pk_release_project")),
    )
    op.create_index(op.f("ix_release_project_project_id"), "release_project", ["project_id"], unique=False)
    op.create_table(
        "release_environment",
        sa.Column("release_id", _ID, nullable=False),
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("first_seen", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
        _fk("release_environment", "release_id", "release.id"),
        _fk("release_environment", "project_id", "project.id"),
        sa.PrimaryKeyConstraint(
            "release_id", "project_id", "environment", name=op.f("pk_release_environment")
        ),
    )
    op.create_table(
        "repository",
        sa.Column("id", _ID, nullable=False),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("date_created", sa.Float(), nullable=False),
        _fk("repository", "organization_id", "organization.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repository")),
        sa.UniqueConstraint("organization_id", "name", name=op.f("uq_repository_organization_id_name")),
    )
    op.create_table(
        "commit",
        sa.Column("id", _ID, nullable=False),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("repository_id", _ID, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("author_name", sa.String(length=200), nullable=True),
        sa.Column("author_email", sa.String(length=254), nullable=True),
        sa.Column("date_added", sa.Float(), nullable=True),
        _fk("commit", "organization_id", "organization.id"),
        _fk("commit", "repository_id", "repository.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commit")),
        sa.UniqueConstraint("repository_id", "key", name=op.f("uq_commit_repository_id_key")),
    )
    op.create_index(
        op.f("ix_commit_organization_id_author_email"),
        "commit",
        ["organization_id", "author_email"],
        unique=False,
    )
    op.create_table(
        "commit_file",
        sa.Column("commit_id", _ID, nullable=False),
        sa.Column("filename", sa.String(length=1000), nullable=False),
        sa.Column("type", sa.String(length=1), nullable=False),
        _fk("commit_file", "commit_id", "commit.id"),
        sa.PrimaryKeyConstraint("commit_id", "filename", name=op.f("pk_commit_file")),
    )
    op.create_table(
        "release_commit",
        sa.Column("release_id", _ID, nullable=False),
        sa.Column("commit_id", _ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _fk("release_commit", "release_id", "release.id"),
        _fk("release_commit", "commit_id", "commit.id"),
        sa.PrimaryKeyConstraint("release_id", "commit_id", name=op.f("pk_release_commit")),
    )
    op.create_index(op.f("ix_release_commit_commit_id"), "release_commit", ["commit_id"], unique=False)
    op.create_table(
        "release_ref",
        sa.Column("release_id", _ID, nullable=False),
        sa.Column("repository", sa.String(length=200), nullable=False),
        sa.Column("commit", sa.String(length=64), nullable=False),
        sa.Column("previous_commit", sa.String(length=64), nullable=True),
        _fk("release_ref", "release_id", "release.id"),
        sa.PrimaryKeyConstraint("release_id", "repository", name=op.f("pk_release_ref")),
    )
    op.create_table(
        "deploy",
        sa.Column("id", _ID, nullable=False),
        sa.Column("release_id", _ID, nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("date_started", sa.Float(), nullable=True),
        sa.Column("date_finished", sa.Float(), nullable=False),
        _fk("deploy", "release_id", "release.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deploy")),
    )
    op.create_index(op.f("ix_deploy_release_id"), "deploy", ["release_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_deploy_release_id"), table_name="deploy")
    op.drop_table("deploy")
    op.drop_table("release_ref")
    op.drop_index(op.f("ix_release_commit_commit_id"), table_name="release_commit")
    op.drop_table("release_commit")
    op.drop_table("commit_file")
    op.drop_index(op.f("ix_commit_organization_id_author_email"), table_name="commit")
    op.drop_table("commit")
    op.drop_table("repository")
    op.drop_table("release_environment")
    op.drop_index(op.f("ix_release_project_project_id"), table_name="release_project")
    op.drop_table("release_project")
    op.drop_table("release")
