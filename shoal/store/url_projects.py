"""The project a Sentry API URL names (`/projects/{organization}/{project}/`), for a caller that is
not a token: each part a slug, or a numeric id as Sentry's URLs also take."""

from __future__ import annotations

from sqlalchemy import Connection, select

from shoal.store import projects
from shoal.store.projects import ProjectInfo
from shoal.store.schema import organization

# At most 18 digits: always a valid 64-bit row id, never an overflow in the database driver.
_MAX_ID_DIGITS = 18


def project_in_url(conn: Connection, organization_part: str, project_part: str) -> ProjectInfo | None:
    """The project, or None when the URL names none (a NUL character names nothing, and
    PostgreSQL would refuse to compare it)."""
    if "\x00" in organization_part + project_part:
        return None
    organization_id = conn.execute(
        select(organization.c.id).where(organization.c.slug == organization_part)
    ).scalar()
    if organization_id is None and _as_id(organization_part) is not None:
        organization_id = conn.execute(
            select(organization.c.id).where(organization.c.id == _as_id(organization_part))
        ).scalar()
    if organization_id is None:
        return None
    found = projects.get_project_by_slug(conn, int(organization_id), project_part)
    project_id = _as_id(project_part)
    if found is None and project_id is not None:
        found = projects.get_project(conn, project_id)
    return found if found is not None and found.organization_id == organization_id else None


def _as_id(part: str) -> int | None:
    return int(part) if part.isascii() and part.isdigit() and len(part) <= _MAX_ID_DIGITS else None
