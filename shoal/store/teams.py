"""Teams of an organization, their members, the projects they own, and who may see a project.

The visibility rule, in one place (docs/accounts.md): owners and admins of an organization, and
superusers, see every project of it; a member sees the projects owned by a team they are in, and
every project that no team owns. `hidden_project_ids` answers it for one user across their
organizations (the web's `Viewer`), `project_visible_to` as an SQL condition on a user row (the
digest's email recipients).
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, exists, func, insert, or_, select, update

from shoal.store.schema import membership, project, project_team, team, team_member, users

MANAGER_ROLES = ("owner", "admin")
MAX_NAME = 200  # team.name is a String(200)


@dataclass(frozen=True)
class Team:
    id: int
    organization_id: int
    slug: str
    name: str


@dataclass(frozen=True)
class TeamAccess:
    """A team that owns a project, with its members' emails."""

    team: Team
    member_emails: tuple[str, ...]


@dataclass(frozen=True)
class TeamMember:
    id: int
    email: str


class TeamNameTaken(ValueError):
    pass


def team_slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:50]
    return slug or "team"


# ------------------------------------------------------------------------------------ teams


def create_team(conn: Connection, organization_id: int, name: str) -> Team:
    slug = _free_slug(conn, organization_id, name, None)
    team_id = conn.execute(
        insert(team)
        .values(organization_id=organization_id, slug=slug, name=name, created_at=time.time())
        .returning(team.c.id)
    ).scalar_one()
    return Team(int(team_id), organization_id, slug, name)


def rename_team(conn: Connection, team_id: int, name: str) -> None:
    found = get_team(conn, team_id)
    if found is None:
        return
    slug = _free_slug(conn, found.organization_id, name, team_id)
    conn.execute(update(team).where(team.c.id == team_id).values(name=name, slug=slug))


def _free_slug(conn: Connection, organization_id: int, name: str, team_id: int | None) -> str:
    """The slug of `name`, unless another team of the organization has it already."""
    slug = team_slug(name)
    taken = conn.execute(
        select(team.c.id).where(team.c.organization_id == organization_id, team.c.slug == slug)
    ).first()
    if taken is not None and taken.id != team_id:
        raise TeamNameTaken(f"a team called {slug!r} already exists")
    return slug


def delete_team(conn: Connection, team_id: int) -> None:
    """The team goes; its projects then belong to their other teams, or to no team (every member
    sees those)."""
    conn.execute(delete(team_member).where(team_member.c.team_id == team_id))
    conn.execute(delete(project_team).where(project_team.c.team_id == team_id))
    conn.execute(delete(team).where(team.c.id == team_id))


def get_team(conn: Connection, team_id: int) -> Team | None:
    row = conn.execute(select(team).where(team.c.id == team_id)).first()
    return _team(row) if row else None


def organization_teams(conn: Connection, organization_id: int) -> list[Team]:
    rows = conn.execute(select(team).where(team.c.organization_id == organization_id).order_by(team.c.name))
    return [_team(row) for row in rows]


def _team(row: Any) -> Team:
    return Team(int(row.id), int(row.organization_id), row.slug, row.name)


# ---------------------------------------------------------------------------------- members


def add_team_member(conn: Connection, team_id: int, user_id: int) -> None:
    known = conn.execute(
        select(team_member.c.user_id).where(
            team_member.c.team_id == team_id, team_member.c.user_id == user_id
        )
    ).first()
    if known is None:
        conn.execute(insert(team_member).values(team_id=team_id, user_id=user_id))


def remove_team_member(conn: Connection, team_id: int, user_id: int) -> None:
    conn.execute(
        delete(team_member).where(team_member.c.team_id == team_id, team_member.c.user_id == user_id)
    )


def leave_organization_teams(conn: Connection, organization_id: int, user_id: int) -> None:
    """Take the user out of every team of the organization (they are leaving it)."""
    of_org = select(team.c.id).where(team.c.organization_id == organization_id)
    conn.execute(
        delete(team_member).where(team_member.c.user_id == user_id, team_member.c.team_id.in_(of_org))
    )


def team_members(conn: Connection, team_id: int) -> list[TeamMember]:
    rows = conn.execute(
        select(users.c.id, users.c.email)
        .join(team_member, team_member.c.user_id == users.c.id)
        .where(team_member.c.team_id == team_id)
        .order_by(users.c.email)
    )
    return [TeamMember(int(row.id), row.email) for row in rows]


def user_teams(conn: Connection, user_id: int) -> list[Team]:
    rows = conn.execute(
        select(team)
        .join(team_member, team_member.c.team_id == team.c.id)
        .where(team_member.c.user_id == user_id)
        .order_by(team.c.name)
    )
    return [_team(row) for row in rows]


def member_counts(conn: Connection, team_ids: Iterable[int]) -> dict[int, int]:
    rows = conn.execute(
        select(team_member.c.team_id, func.count())
        .where(team_member.c.team_id.in_(list(team_ids)))
        .group_by(team_member.c.team_id)
    )
    return {int(team_id): int(count) for team_id, count in rows}


# --------------------------------------------------------------------------------- projects


def add_project_team(conn: Connection, project_id: int, team_id: int) -> None:
    known = conn.execute(
        select(project_team.c.team_id).where(
            project_team.c.project_id == project_id, project_team.c.team_id == team_id
        )
    ).first()
    if known is None:
        conn.execute(insert(project_team).values(project_id=project_id, team_id=team_id))


def project_teams(conn: Connection, project_id: int) -> list[TeamAccess]:
    """The teams that own the project, by name, each with its members by email."""
    owners = conn.execute(
        select(team)
        .join(project_team, project_team.c.team_id == team.c.id)
        .where(project_team.c.project_id == project_id)
        .order_by(team.c.name)
    ).all()
    members = conn.execute(
        select(team_member.c.team_id, users.c.email)
        .join(users, users.c.id == team_member.c.user_id)
        .where(team_member.c.team_id.in_([row.id for row in owners]))
        .order_by(users.c.email)
    ).all()
    return [TeamAccess(_team(row), tuple(m.email for m in members if m.team_id == row.id)) for row in owners]


def remove_project_team(conn: Connection, project_id: int, team_id: int) -> None:
    conn.execute(
        delete(project_team).where(project_team.c.project_id == project_id, project_team.c.team_id == team_id)
    )


def team_project_ids(conn: Connection, team_id: int) -> list[int]:
    rows = conn.execute(
        select(project_team.c.project_id)
        .where(project_team.c.team_id == team_id)
        .order_by(project_team.c.project_id)
    )
    return [int(row.project_id) for row in rows]


def project_owners(conn: Connection, organization_id: int) -> dict[int, list[Team]]:
    """The teams owning each project of the organization (projects no team owns are absent)."""
    rows = conn.execute(
        select(project_team.c.project_id, team)
        .join(team, team.c.id == project_team.c.team_id)
        .where(team.c.organization_id == organization_id)
        .order_by(team.c.name)
    )
    owners: dict[int, list[Team]] = defaultdict(list)
    for row in rows:
        owners[int(row.project_id)].append(_team(row))
    return dict(owners)


# ------------------------------------------------------------------------------- visibility


def hidden_project_ids(
    conn: Connection, user_id: int, member_organization_ids: Iterable[int]
) -> frozenset[int]:
    """The projects of the organizations where the user is a plain member that they may not see:
    owned by one team or more, none of which they are in."""
    organizations = list(member_organization_ids)
    if not organizations:
        return frozenset()
    owned = (
        select(project_team.c.project_id)
        .join(project, project.c.id == project_team.c.project_id)
        .where(project.c.organization_id.in_(organizations))
    )
    mine = select(project_team.c.project_id).join(
        team_member, (team_member.c.team_id == project_team.c.team_id) & (team_member.c.user_id == user_id)
    )
    return frozenset(int(project_id) for project_id in conn.execute(owned.except_(mine)).scalars())


def project_visible_to(project_id: int) -> ColumnElement[bool]:
    """True for a `users` row joined with its `membership` row in the project's organization when
    that user may see the project."""
    owners = select(project_team.c.team_id).where(project_team.c.project_id == project_id)
    in_owning_team = exists().where(team_member.c.user_id == users.c.id, team_member.c.team_id.in_(owners))
    return or_(
        users.c.is_superuser.is_(True),
        membership.c.role.in_(MANAGER_ROLES),
        ~exists(owners),
        in_owning_team,
    )
