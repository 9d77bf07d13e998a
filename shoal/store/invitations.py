"""Invitations to join an organization: made for an email address with a role (and optionally a
team), sent as a link, valid for 7 days, accepted once, revocable while pending.

Only the token's SHA-256 is kept, so the link is the only copy of the token; a leaked database
holds no usable invitation.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from shoal.store.schema import invitation

INVITATION_SECONDS = 7 * 24 * 3600
_COLUMNS = ("organization_id", "email", "role", "team_id", "invited_by", "created_at", "expires_at")


@dataclass(frozen=True)
class Invitation:
    id: int
    organization_id: int
    email: str
    role: str
    team_id: int | None
    invited_by: int | None
    created_at: float
    expires_at: float
    accepted_at: float | None

    def is_open(self, now: float) -> bool:
        """Not accepted yet, and not expired."""
        return self.accepted_at is None and now < self.expires_at


def create_invitation(
    conn: Connection,
    organization_id: int,
    email: str,
    role: str,
    *,
    team_id: int | None,
    invited_by: int | None,
    now: float,
) -> tuple[Invitation, str]:
    """A new invitation and its token (for the link). An earlier pending invitation of the same
    address to the same organization is replaced: only the newest link works."""
    email = email.strip().lower()
    conn.execute(
        delete(invitation).where(
            invitation.c.organization_id == organization_id,
            invitation.c.email == email,
            invitation.c.accepted_at.is_(None),
        )
    )
    token = secrets.token_urlsafe(32)
    made = Invitation(
        id=0,
        organization_id=organization_id,
        email=email,
        role=role,
        team_id=team_id,
        invited_by=invited_by,
        created_at=now,
        expires_at=now + INVITATION_SECONDS,
        accepted_at=None,
    )
    values = {name: getattr(made, name) for name in _COLUMNS}
    invitation_id = conn.execute(
        insert(invitation).values(token_hash=token_hash(token), **values).returning(invitation.c.id)
    ).scalar_one()
    return replace(made, id=int(invitation_id)), token


def find_invitation(conn: Connection, token: str) -> Invitation | None:
    row = conn.execute(select(invitation).where(invitation.c.token_hash == token_hash(token))).first()
    return _invitation(row) if row else None


def get_invitation(conn: Connection, invitation_id: int) -> Invitation | None:
    row = conn.execute(select(invitation).where(invitation.c.id == invitation_id)).first()
    return _invitation(row) if row else None


def pending_invitations(conn: Connection, organization_id: int) -> list[Invitation]:
    """Not accepted yet (expired ones included, so the page can say they expired), newest first."""
    rows = conn.execute(
        select(invitation)
        .where(invitation.c.organization_id == organization_id, invitation.c.accepted_at.is_(None))
        .order_by(invitation.c.created_at.desc(), invitation.c.id.desc())
    )
    return [_invitation(row) for row in rows]


def mark_accepted(conn: Connection, invitation_id: int, now: float) -> bool:
    """Accept the invitation if it is still open; False when it was used, revoked or expired
    meanwhile. The conditional update is what makes a link work once, even when two tabs race."""
    result = conn.execute(
        update(invitation)
        .where(
            invitation.c.id == invitation_id,
            invitation.c.accepted_at.is_(None),
            invitation.c.expires_at > now,
        )
        .values(accepted_at=now)
    )
    return result.rowcount == 1


def revoke_invitation(conn: Connection, organization_id: int, invitation_id: int) -> bool:
    """Delete a pending invitation, so its link stops working; False if there was none."""
    result = conn.execute(
        delete(invitation).where(
            invitation.c.id == invitation_id,
            invitation.c.organization_id == organization_id,
            invitation.c.accepted_at.is_(None),
        )
    )
    return result.rowcount == 1


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _invitation(row: Any) -> Invitation:
    return Invitation(
        id=int(row.id),
        organization_id=int(row.organization_id),
        email=row.email,
        role=row.role,
        team_id=row.team_id,
        invited_by=row.invited_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        accepted_at=row.accepted_at,
    )
