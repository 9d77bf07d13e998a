"""User accounts, their argon2 password hashes, and organization membership."""

from __future__ import annotations

import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, insert, select, update

from shoal.store.schema import membership, users

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
    """Everyone in the organization, by email: whom issues can be assigned to, and whom "email
    the project's members" reaches."""
    rows = conn.execute(
        select(users.c.id, users.c.email)
        .join(membership, membership.c.user_id == users.c.id)
        .where(membership.c.organization_id == organization_id)
        .order_by(users.c.email)
    )
    return [Member(row.id, row.email) for row in rows]


def member_emails(conn: Connection, organization_id: int) -> list[str]:
    return [member.email for member in organization_members(conn, organization_id)]


def email_of(conn: Connection, user_id: int) -> str | None:
    return conn.execute(select(users.c.email).where(users.c.id == user_id)).scalar()
