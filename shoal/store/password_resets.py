"""Password-reset links: single use, valid for one hour, only the token's SHA-256 kept.

A link is used with a conditional update (`used_at` still empty, not expired), so two requests
racing with the same link cannot both set a password.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import Connection, delete, insert, select, update

from shoal.store.schema import password_reset

RESET_SECONDS = 3600


def create_reset(conn: Connection, user_id: int, now: float) -> str:
    """A new reset link's token for the user. Their links that expired are dropped on the way, so
    the table stays small without a cleanup job."""
    conn.execute(
        delete(password_reset).where(password_reset.c.user_id == user_id, password_reset.c.expires_at <= now)
    )
    token = secrets.token_urlsafe(32)
    conn.execute(
        insert(password_reset).values(
            token_hash=_hash(token), user_id=user_id, created_at=now, expires_at=now + RESET_SECONDS
        )
    )
    return token


def valid_reset_user(conn: Connection, token: str, now: float) -> int | None:
    """The user whose unused, unexpired link this is; None for any other token."""
    user_id = conn.execute(
        select(password_reset.c.user_id).where(
            password_reset.c.token_hash == _hash(token),
            password_reset.c.used_at.is_(None),
            password_reset.c.expires_at > now,
        )
    ).scalar()
    return int(user_id) if user_id is not None else None


def use_reset(conn: Connection, token: str, now: float) -> int | None:
    """Spend the link: the user it was for, or None when it was used, expired or never existed.
    The user's other open links are spent with it."""
    user_id = valid_reset_user(conn, token, now)
    if user_id is None:
        return None
    spent = conn.execute(
        update(password_reset)
        .where(password_reset.c.token_hash == _hash(token), password_reset.c.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:
        return None
    end_resets(conn, user_id, now)
    return user_id


def end_resets(conn: Connection, user_id: int, now: float) -> None:
    """Spend every open link of the user (their password just changed)."""
    conn.execute(
        update(password_reset)
        .where(password_reset.c.user_id == user_id, password_reset.c.used_at.is_(None))
        .values(used_at=now)
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
