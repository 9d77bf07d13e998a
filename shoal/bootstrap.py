"""First start: make the data directory and the database, then the default organization, the admin
account and a first project, so `shoal run` can print a login and a DSN that work at once.

Safe to run on every start: each step only happens when its result is missing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select

from shoal.config import Config
from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.store import projects, users
from shoal.store.db import create_store_engine, write_transaction
from shoal.store.migrate import migrate
from shoal.store.schema import organization

DEFAULT_ORGANIZATION = "default"
FIRST_PROJECT = "my-project"


@dataclass(frozen=True)
class Welcome:
    """What `shoal run` prints: where to log in, as whom, and a DSN to paste into sentry_sdk.init."""

    url: str
    admin_email: str | None
    admin_password: str | None  # only on the start that created the account, and only if generated
    dsn: str | None


def prepare(config: Config) -> tuple[Engine, Welcome]:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_store_engine(config.database_url)
    migrate(engine)
    with write_transaction(engine) as conn:
        organization_id = _ensure_organization(conn)
        admin_email, password = _ensure_admin(conn, config, organization_id)
        dsn = _ensure_first_project(conn, config, organization_id)
    return engine, Welcome(config.public_url, admin_email, password, dsn)


def default_organization_id(conn: Connection) -> int:
    """The organization new users and projects join: the first one."""
    row = conn.execute(select(organization.c.id).order_by(organization.c.id).limit(1)).first()
    if row is None:
        raise LookupError("no organization yet: run `shoal run` once first")
    return int(row.id)


def _ensure_organization(conn: Connection) -> int:
    try:
        return default_organization_id(conn)
    except LookupError:
        return projects.create_organization(conn, DEFAULT_ORGANIZATION, "Default")


def _ensure_admin(conn: Connection, config: Config, organization_id: int) -> tuple[str | None, str | None]:
    if users.count_users(conn):
        return config.admin_email, None
    password = config.admin_password or secrets.token_urlsafe(12)
    admin = users.create_user(conn, config.admin_email, password, is_superuser=True)
    users.add_membership(conn, organization_id, admin.id, "owner")
    # A password the operator chose is theirs to know; only a generated one is printed (once).
    return admin.email, None if config.admin_password else password


def _ensure_first_project(conn: Connection, config: Config, organization_id: int) -> str | None:
    existing = projects.list_projects(conn)
    project = (
        existing[0]
        if existing
        else projects.create_project(conn, organization_id, FIRST_PROJECT, "python", DEFAULT_CONFIG_ID)
    )
    key = projects.first_enabled_key(conn, project.id)
    return projects.dsn(config.public_url, key, project.id) if key else None
