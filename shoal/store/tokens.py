"""API bearer tokens: mint them, recognise them, list and revoke them, and say what each may reach.

Only a token's SHA-256 is kept: a leaked database holds no usable token. The token itself is shown
once, when it is made. Two shapes, both as sentry-cli recognises them (reference/protocol.md §1):

- personal, `sntryu_` + 64 hex characters: acts as its user, in every organization the user is a
  member of (a superuser: in all of them);
- organization, `sntrys_` + base64(JSON {"iat", "url", "region_url", "org"}) + `_` + base64 without
  padding of 32 random bytes: acts only in that organization. sentry-cli reads `url` and `org` from
  the token, so a Shoal-minted one needs no SENTRY_URL or SENTRY_ORG beside it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from shoal.store.schema import api_token, membership, organization, users
from shoal.store.url_projects import organization_named
from shoal.store.users import User

PERSONAL_PREFIX = "sntryu_"
ORGANIZATION_PREFIX = "sntrys_"

# Sentry's scope names; a token holds a subset.
KNOWN_SCOPES = frozenset(
    f"{resource}:{access}"
    for resource in ("org", "project", "team", "member", "event")
    for access in ("read", "write", "admin")
) | {"org:integrations", "member:invite", "project:releases", "alerts:read", "alerts:write"}
# What a token gets when none are asked for: everything a member works with, no admin scopes.
DEFAULT_SCOPES = [
    *("org:read", "member:read", "project:read", "project:write", "project:releases"),
    *("event:read", "event:write", "alerts:read", "alerts:write"),
]

# `last_used_at` is refreshed at most this often, so an API client does not cost a write per request.
LAST_USED_RESOLUTION = 60.0


@dataclass(frozen=True)
class TokenOwner:
    """Who a presented token acts for, and with which scopes."""

    token_id: int
    user_id: int
    organization_id: int | None  # None: a personal token
    scopes: frozenset[str]
    is_superuser: bool
    last_used_at: float | None

    def due_for_use_mark(self, now: float) -> bool:
        return self.last_used_at is None or now - self.last_used_at >= LAST_USED_RESOLUTION


@dataclass(frozen=True)
class TokenInfo:
    """A token as `shoal token list` shows it (the token itself is not kept)."""

    id: int
    user_email: str
    organization_slug: str | None
    label: str
    scopes: tuple[str, ...]
    created_at: float
    last_used_at: float | None


class UnknownScope(ValueError):
    pass


def check_scopes(scopes: list[str]) -> tuple[str, ...]:
    """The scopes, deduplicated and sorted; raises UnknownScope naming any Sentry does not have."""
    unknown = sorted(set(scopes) - KNOWN_SCOPES)
    if unknown:
        raise UnknownScope(f"unknown scope {', '.join(unknown)} (known: {' '.join(sorted(KNOWN_SCOPES))})")
    return tuple(sorted(set(scopes)))


def create_personal_token(conn: Connection, user_id: int, scopes: list[str], label: str, now: float) -> str:
    """A new personal token for the user; returns the token, which is not stored."""
    token = PERSONAL_PREFIX + secrets.token_hex(32)
    _store(conn, token, user_id, None, scopes=scopes, label=label, now=now)
    return token


def create_organization_token(
    conn: Connection,
    user_id: int,
    organization_id: int,
    *,
    public_url: str,
    scopes: list[str],
    label: str,
    now: float,
) -> str:
    """A new token of the organization, made by `user_id`; returns the token, which is not stored."""
    slug = conn.execute(select(organization.c.slug).where(organization.c.id == organization_id)).scalar_one()
    token = organization_token(public_url, slug, now)
    _store(conn, token, user_id, organization_id, scopes=scopes, label=label, now=now)
    return token


def organization_token(public_url: str, organization_slug: str, now: float) -> str:
    # Shoal has one region: its region URL is its URL.
    claims = {"iat": now, "url": public_url, "region_url": public_url, "org": organization_slug}
    payload = base64.b64encode(json.dumps(claims).encode()).decode()
    secret = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return f"{ORGANIZATION_PREFIX}{payload}_{secret}"


def _store(
    conn: Connection,
    token: str,
    user_id: int,
    organization_id: int | None,
    *,
    scopes: list[str],
    label: str,
    now: float,
) -> None:
    conn.execute(
        insert(api_token).values(
            user_id=user_id,
            organization_id=organization_id,
            token_hash=token_hash(token),
            label=label,
            scopes=" ".join(check_scopes(scopes)),
            created_at=now,
        )
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_token(conn: Connection, token: str) -> TokenOwner | None:
    """Who the token acts for, without marking it used: a read, for a connection that only reads."""
    row = conn.execute(
        select(api_token, users.c.is_superuser)
        .join(users, users.c.id == api_token.c.user_id)
        .where(api_token.c.token_hash == token_hash(token))
    ).first()
    return _owner(row) if row else None


def authenticate(conn: Connection, token: str, now: float) -> TokenOwner | None:
    """Who the token acts for, marking it used (at most once a LAST_USED_RESOLUTION).

    It may write, so on SQLite give it a write transaction: a read transaction that then writes
    fails at once when another process committed in between. Callers that mostly read can check
    with `find_token` first and come here only when `due_for_use_mark` says so.
    """
    owner = find_token(conn, token)
    if owner is not None and owner.due_for_use_mark(now):
        # Conditional, so that concurrent requests with one token write it once.
        conn.execute(
            update(api_token)
            .where(
                api_token.c.id == owner.token_id,
                or_(
                    api_token.c.last_used_at.is_(None), api_token.c.last_used_at <= now - LAST_USED_RESOLUTION
                ),
            )
            .values(last_used_at=now)
        )
    return owner


def _owner(row: Row[Any]) -> TokenOwner:
    return TokenOwner(
        token_id=row.id,
        user_id=row.user_id,
        organization_id=row.organization_id,
        scopes=frozenset(row.scopes.split()),
        is_superuser=bool(row.is_superuser),
        last_used_at=row.last_used_at,
    )


def list_tokens(conn: Connection, user_id: int | None = None) -> list[TokenInfo]:
    """Every token, or the user's, oldest first."""
    query = (
        select(api_token, users.c.email, organization.c.slug)
        .join(users, users.c.id == api_token.c.user_id)
        .outerjoin(organization, organization.c.id == api_token.c.organization_id)
        .order_by(api_token.c.id)
    )
    if user_id is not None:
        query = query.where(api_token.c.user_id == user_id)
    return [
        TokenInfo(r.id, r.email, r.slug, r.label, tuple(r.scopes.split()), r.created_at, r.last_used_at)
        for r in conn.execute(query)
    ]


def revoke_token(conn: Connection, token_id: int, user_id: int | None = None) -> bool:
    """Delete the token (only if it is the user's, when a user is given); False when there was none."""
    where: list[ColumnElement[bool]] = [api_token.c.id == token_id]
    if user_id is not None:
        where.append(api_token.c.user_id == user_id)
    return bool(conn.execute(delete(api_token).where(*where)).rowcount)


def token_user(conn: Connection, email: str | None) -> User | None:
    """The user a token is made for: the one with this email, or without one the first superuser
    (the admin `shoal run` created)."""
    query = select(users.c.id, users.c.email, users.c.is_superuser)
    if email is None:
        query = query.where(users.c.is_superuser.is_(True)).order_by(users.c.id).limit(1)
    else:
        query = query.where(users.c.email == email.strip().lower())
    row = conn.execute(query).first()
    return User(row.id, row.email, bool(row.is_superuser)) if row else None


def can_reach(conn: Connection, owner: TokenOwner, organization_id: int) -> bool:
    """Whether the token may act in the organization: its own organization for an organization
    token; for a personal one, any the user is a member of, and all of them for a superuser."""
    if owner.organization_id is not None:
        return owner.organization_id == organization_id
    return owner.is_superuser or _is_member(conn, owner.user_id, organization_id)


def reachable_organization(conn: Connection, owner: TokenOwner, id_or_slug: str) -> int | None:
    """The id of the organization named by slug (or numeric id, as Sentry's URLs allow), if the
    token may act in it; None when there is no such organization or it is out of reach, which
    callers answer alike so that a token cannot probe which organizations exist."""
    organization_id = organization_named(conn, id_or_slug)
    if organization_id is None or not can_reach(conn, owner, organization_id):
        return None
    return organization_id


def user_organization(conn: Connection, user: User, id_or_slug: str) -> int | None:
    """The organization a user may make a token for: one they are a member of (any, if superuser)."""
    organization_id = organization_named(conn, id_or_slug)
    if organization_id is None or not (user.is_superuser or _is_member(conn, user.id, organization_id)):
        return None
    return organization_id


def _is_member(conn: Connection, user_id: int, organization_id: int) -> bool:
    row = conn.execute(
        select(membership.c.role).where(
            membership.c.organization_id == organization_id, membership.c.user_id == user_id
        )
    ).first()
    return row is not None


# ------------------------------------------------------------------ what the API and the UI list


@dataclass(frozen=True)
class OrganizationInfo:
    id: int
    slug: str
    name: str
    created_at: float


def reachable_organizations(conn: Connection, owner: TokenOwner) -> list[OrganizationInfo]:
    """The organizations the token may act in (`can_reach`'s rule), oldest first."""
    query = select(organization).order_by(organization.c.id)
    if owner.organization_id is not None:
        query = query.where(organization.c.id == owner.organization_id)
    elif not owner.is_superuser:
        mine = select(membership.c.organization_id).where(membership.c.user_id == owner.user_id)
        query = query.where(organization.c.id.in_(mine))
    return [OrganizationInfo(r.id, r.slug, r.name, r.created_at) for r in conn.execute(query)]


def user_token(conn: Connection, token_id: int, user_id: int) -> TokenInfo | None:
    """One of the user's tokens, or None when the id names none of theirs."""
    found = [info for info in list_tokens(conn, user_id) if info.id == token_id]
    return found[0] if found else None
