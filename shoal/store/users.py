"""User accounts, their argon2 password hashes, organization membership with its role, and
per-project notification settings (who gets a project's alert emails)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, func, insert, select, update

from shoal.store.db import upsert
from shoal.store.schema import membership, notification_setting, organization, users
from shoal.store.teams import project_visible_to

_hasher = PasswordHasher()
# Compared against when the email is unknown, so a wrong email costs as long as a wrong password
# and response times do not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("not a password anyone has")


@dataclass(frozen=True)
class User:
    id: int
    email: str
    is_superuser: bool


class EmailTaken(ValueError):
    pass


ROLES = ("owner", "admin", "member")
# NIST SP 800-63B §5.1.1.2 asks for at least 8 characters; 10 leaves room for passphrases and
# costs people little.
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; this only bounds the work of one request


def password_problem(password: str) -> str | None:
    """Why a new password cannot be used, in words; None when it can."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    return None


def create_user(conn: Connection, email: str, password: str, *, is_superuser: bool = False) -> User:
    email = email.strip().lower()
    if conn.execute(select(users.c.id).where(users.c.email == email)).first():
        raise EmailTaken(f"a user with email {email!r} already exists")
    user_id = conn.execute(
        insert(users)
        .values(
            email=email,
            password_hash=_hasher.hash(password),
            is_superuser=is_superuser,
            created_at=time.time(),
        )
        .returning(users.c.id)
    ).scalar_one()
    return User(int(user_id), email, is_superuser)


def add_membership(conn: Connection, organization_id: int, user_id: int, role: str) -> None:
    conn.execute(insert(membership).values(organization_id=organization_id, user_id=user_id, role=role))


def authenticate(conn: Connection, email: str, password: str) -> User | None:
    row = conn.execute(select(users).where(users.c.email == email.strip().lower())).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    conn.execute(update(users).where(users.c.id == row.id).values(last_login_at=time.time()))
    return User(row.id, row.email, row.is_superuser)


def get_user(conn: Connection, user_id: int) -> User | None:
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    return User(row.id, row.email, row.is_superuser) if row else None


def count_users(conn: Connection) -> int:
    return len(conn.execute(select(users.c.id).limit(1)).all())


def organization_ids(conn: Connection, user_id: int) -> list[int]:
    rows = conn.execute(select(membership.c.organization_id).where(membership.c.user_id == user_id))
    return [row.organization_id for row in rows]


@dataclass(frozen=True)
class Member:
    id: int
    email: str


def organization_members(conn: Connection, organization_id: int) -> list[Member]:
    """Everyone in the organization, by email."""
    return _members(conn, organization_id, None)


def project_members(conn: Connection, organization_id: int, project_id: int) -> list[Member]:
    """The organization's members who may see the project (shoal.store.teams): whom its issues
    can be assigned to, and whom its alert rules can name."""
    return _members(conn, organization_id, project_id)


def _members(conn: Connection, organization_id: int, project_id: int | None) -> list[Member]:
    query = (
        select(users.c.id, users.c.email)
        .join(membership, membership.c.user_id == users.c.id)
        .where(membership.c.organization_id == organization_id)
        .order_by(users.c.email)
    )
    if project_id is not None:
        query = query.where(project_visible_to(project_id))
    return [Member(row.id, row.email) for row in conn.execute(query)]


def email_of(conn: Connection, user_id: int) -> str | None:
    return conn.execute(select(users.c.email).where(users.c.id == user_id)).scalar()


# ------------------------------------------------------------------- passwords (issue 6)


def find_user_by_email(conn: Connection, email: str) -> User | None:
    row = conn.execute(select(users).where(users.c.email == email.strip().lower())).first()
    return User(row.id, row.email, row.is_superuser) if row else None


def check_password(conn: Connection, user_id: int, password: str) -> bool:
    password_hash = conn.execute(select(users.c.password_hash).where(users.c.id == user_id)).scalar()
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def set_password(conn: Connection, user_id: int, password: str) -> None:
    """Store a new argon2 hash; the caller has checked `password_problem`."""
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=_hasher.hash(password)))


# --------------------------------------------------------------------- roles (issue 6)


@dataclass(frozen=True)
class RoleMember:
    id: int
    email: str
    role: str  # owner | admin | member


def organization_roles(conn: Connection, user_id: int) -> dict[int, str]:
    """The user's role in each organization they are a member of."""
    rows = conn.execute(
        select(membership.c.organization_id, membership.c.role).where(membership.c.user_id == user_id)
    )
    return {int(row.organization_id): row.role for row in rows}


def members_with_roles(conn: Connection, organization_id: int) -> list[RoleMember]:
    rows = conn.execute(
        select(users.c.id, users.c.email, membership.c.role)
        .join(membership, membership.c.user_id == users.c.id)
        .where(membership.c.organization_id == organization_id)
        .order_by(users.c.email)
    )
    return [RoleMember(int(row.id), row.email, row.role) for row in rows]


def role_of(conn: Connection, organization_id: int, user_id: int) -> str | None:
    return conn.execute(
        select(membership.c.role).where(
            membership.c.organization_id == organization_id, membership.c.user_id == user_id
        )
    ).scalar()


def owner_count(conn: Connection, organization_id: int) -> int:
    """How many owners the organization has, holding their membership rows until the transaction
    ends: on PostgreSQL two owners demoting each other at once would otherwise both see two
    owners and leave none (SQLite's single writer serializes them anyway)."""
    rows = conn.execute(
        select(membership.c.user_id)
        .where(membership.c.organization_id == organization_id, membership.c.role == "owner")
        .with_for_update()
    ).all()
    return len(rows)


def set_role(conn: Connection, organization_id: int, user_id: int, role: str) -> None:
    conn.execute(
        update(membership)
        .where(membership.c.organization_id == organization_id, membership.c.user_id == user_id)
        .values(role=role)
    )


def remove_membership(conn: Connection, organization_id: int, user_id: int) -> None:
    conn.execute(
        delete(membership).where(
            membership.c.organization_id == organization_id, membership.c.user_id == user_id
        )
    )


# ------------------------------------------------------- notification settings (issue 6)


def email_opt_outs(conn: Connection, user_id: int) -> set[int]:
    """The projects whose alert emails the user turned off (no row means they get them)."""
    rows = conn.execute(
        select(notification_setting.c.project_id).where(
            notification_setting.c.user_id == user_id, notification_setting.c.email.is_(False)
        )
    )
    return {int(row.project_id) for row in rows}


def set_email_alerts(conn: Connection, user_id: int, project_id: int, wanted: bool) -> None:
    stmt = upsert(notification_setting, conn).values(user_id=user_id, project_id=project_id, email=wanted)
    conn.execute(stmt.on_conflict_do_update(index_elements=["user_id", "project_id"], set_={"email": wanted}))


def alert_recipients(conn: Connection, organization_id: int, project_id: int) -> list[str]:
    """The emails of the organization's members who may see the project (shoal.store.teams) and
    did not turn its alert emails off: whom "email the members" reaches."""
    opted_out = (
        select(func.count())
        .where(
            notification_setting.c.user_id == users.c.id,
            notification_setting.c.project_id == project_id,
            notification_setting.c.email.is_(False),
        )
        .scalar_subquery()
    )
    rows = conn.execute(
        select(users.c.email)
        .join(membership, membership.c.user_id == users.c.id)
        .where(
            membership.c.organization_id == organization_id, project_visible_to(project_id), opted_out == 0
        )
        .order_by(users.c.email)
    )
    return [row.email for row in rows]


@dataclass(frozen=True)
class Organization:
    id: int
    name: str
    role: str  # the user's role in it


def organizations_of(conn: Connection, user_id: int) -> list[Organization]:
    rows = conn.execute(
        select(organization.c.id, organization.c.name, membership.c.role)
        .join(membership, membership.c.organization_id == organization.c.id)
        .where(membership.c.user_id == user_id)
        .order_by(organization.c.id)
    )
    return [Organization(int(row.id), row.name, row.role) for row in rows]


def organization_name(conn: Connection, organization_id: int) -> str | None:
    return conn.execute(select(organization.c.name).where(organization.c.id == organization_id)).scalar()
