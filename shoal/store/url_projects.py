"""What the parts of a Sentry API URL name (`/organizations/{organization}/`,
`/projects/{organization}/{project}/`): each part a slug, or a numeric id as Sentry's URLs also
take. Shared by token-authenticated routes (shoal/api/auth.py) and those a caller reaches without a
token (the user feedback endpoint's DSN)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from shoal.store import projects
from shoal.store.projects import ProjectInfo
from shoal.store.schema import organization

MAX_ROW_ID = 2**63 - 1
# Longer digit strings cannot be a row id; checked before int(), which refuses more than 4,300 digits.
_MAX_ID_DIGITS = len(str(MAX_ROW_ID))


def row_id(text: str) -> int | None:
    """A URL part as a row id, or None: not digits, or beyond 64 bits (which the database drivers
    would refuse with an error rather than find nothing)."""
    if text.isascii() and text.isdigit() and len(text) <= _MAX_ID_DIGITS and int(text) <= MAX_ROW_ID:
        return int(text)
    return None


def organization_named(conn: Connection, part: str) -> int | None:
    """The id of the organization the part names by slug or id, or None."""
    if "\x00" in part:
        return None  # no slug holds one, and PostgreSQL refuses NUL in text rather than find nothing
    found = conn.execute(select(organization.c.id).where(organization.c.slug == part)).scalar()
    number = row_id(part)
    if found is None and number is not None:
        found = conn.execute(select(organization.c.id).where(organization.c.id == number)).scalar()
    return None if found is None else int(found)


def project_in_organization(conn: Connection, organization_id: int, part: str) -> ProjectInfo | None:
    """The organization's project the part names by slug or id, or None."""
    if "\x00" in part:
        return None
    found = projects.get_project_by_slug(conn, organization_id, part)
    number = row_id(part)
    if found is None and number is not None:
        found = projects.get_project(conn, number)
    return found if found is not None and found.organization_id == organization_id else None


def project_in_url(conn: Connection, organization_part: str, project_part: str) -> ProjectInfo | None:
    """The project the two parts name, or None when they name none."""
    organization_id = organization_named(conn, organization_part)
    if organization_id is None:
        return None
    return project_in_organization(conn, organization_id, project_part)
