"""Saved issue-stream searches: a person's own, or shared with their whole organization (owners
and admins share, as Sentry lets owners and managers), and the default a stream opens with.

A stream without a query in its URL opens with the user's own default search in that
organization, else the organization's shared default, else `is:unresolved` (Sentry's default).
At most one default is kept per person and organization, and one shared default per organization.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, insert, or_, select, update

from shoal.store.schema import saved_search

MAX_NAME = 200  # saved_search.name is a String(200)


@dataclass(frozen=True)
class SavedSearch:
    id: int
    organization_id: int
    user_id: int | None  # None: shared with the organization
    name: str
    query: str
    sort: str
    is_default: bool

    @property
    def shared(self) -> bool:
        return self.user_id is None


def searches_for(conn: Connection, organization_ids: Iterable[int], user_id: int) -> list[SavedSearch]:
    """The organizations' shared searches and the user's own there, shared first, then by name."""
    orgs = sorted(set(organization_ids))
    if not orgs:
        return []
    rows = conn.execute(
        select(saved_search)
        .where(
            saved_search.c.organization_id.in_(orgs),
            or_(saved_search.c.user_id.is_(None), saved_search.c.user_id == user_id),
        )
        .order_by(saved_search.c.user_id.is_not(None), saved_search.c.name, saved_search.c.id)
    )
    return [_saved(row) for row in rows]


def get_search(conn: Connection, search_id: int) -> SavedSearch | None:
    row = conn.execute(select(saved_search).where(saved_search.c.id == search_id)).first()
    return _saved(row) if row else None


def default_search(conn: Connection, organization_id: int, user_id: int) -> SavedSearch | None:
    """The user's own default in the organization, else the organization's shared one."""
    found = [s for s in searches_for(conn, [organization_id], user_id) if s.is_default]
    return min(found, key=lambda s: s.shared, default=None)


def create_search(
    conn: Connection,
    organization_id: int,
    user_id: int | None,
    *,
    name: str,
    query: str,
    sort: str,
    now: float,
) -> int:
    """A new saved search; `user_id` None shares it with the organization."""
    return int(
        conn.execute(
            insert(saved_search)
            .values(
                organization_id=organization_id,
                user_id=user_id,
                name=name,
                query=query,
                sort=sort,
                is_default=False,
                created_at=now,
            )
            .returning(saved_search.c.id)
        ).scalar_one()
    )


def set_default(conn: Connection, search: SavedSearch, is_default: bool) -> None:
    """Make `search` the default of its owner (a person, or the organization for a shared one), or
    stop it being one. The previous default of the same owner stops being one."""
    if is_default:
        owner = (
            saved_search.c.user_id.is_(None)
            if search.user_id is None
            else saved_search.c.user_id == search.user_id
        )
        conn.execute(
            update(saved_search)
            .where(and_(saved_search.c.organization_id == search.organization_id, owner))
            .values(is_default=False)
        )
    conn.execute(update(saved_search).where(saved_search.c.id == search.id).values(is_default=is_default))


def delete_search(conn: Connection, search_id: int) -> None:
    conn.execute(delete(saved_search).where(saved_search.c.id == search_id))


def _saved(row: Row[Any]) -> SavedSearch:
    return SavedSearch(
        id=row.id,
        organization_id=row.organization_id,
        user_id=row.user_id,
        name=row.name,
        query=row.query,
        sort=row.sort,
        is_default=bool(row.is_default),
    )
