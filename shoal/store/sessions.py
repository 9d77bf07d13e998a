"""Browser sessions, kept server-side: the cookie holds a random token, the store its hash.

Server-side sessions can be revoked (logout ends the session everywhere it was copied), and a
leaked database does not hold usable cookies, only their sha256.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select

from shoal.store.schema import web_session

SESSION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class Session:
    user_id: int
    csrf_token: str


def create_session(conn: Connection, user_id: int) -> str:
    """A new session for `user_id`; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    conn.execute(
        insert(web_session).values(
            token_hash=_hash(token),
            user_id=user_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + SESSION_SECONDS,
        )
    )
    return token


def find_session(conn: Connection, token: str) -> Session | None:
    row = conn.execute(
        select(web_session.c.user_id, web_session.c.csrf_token).where(
            web_session.c.token_hash == _hash(token), web_session.c.expires_at > time.time()
        )
    ).first()
    return Session(row.user_id, row.csrf_token) if row else None


def end_session(conn: Connection, token: str) -> None:
    conn.execute(delete(web_session).where(web_session.c.token_hash == _hash(token)))


def end_user_sessions(conn: Connection, user_id: int, *, keep: str | None = None) -> int:
    """End every session of the user but the one whose token is `keep` (their password changed:
    a thief's copy of a cookie must stop working); returns how many ended."""
    condition = web_session.c.user_id == user_id
    if keep is not None:
        condition = condition & (web_session.c.token_hash != _hash(keep))
    return conn.execute(delete(web_session).where(condition)).rowcount


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
